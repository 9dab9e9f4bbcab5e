package tensor

import "math"

// Elementwise kernels of training's memory-bound passes: BatchNorm's
// statistics, normalisation and input gradient, and ReLU. Each is one
// pass over its slices; on amd64 with AVX-512 they run 16 lanes at a time
// (elem_amd64.s), elsewhere and under noasm the portable loops below. The
// two paths agree to rounding: the reductions sum in a different order and
// the affine maps round once (fused multiply-add) instead of twice.
//
// Reductions accumulate in float64 in an order fixed by the length alone,
// so a result never depends on threads or scheduling.

// Moments64 returns Σ x[i] and Σ x[i]², accumulated in float64: one pass
// for a mean and a variance.
func Moments64(x []float32) (sum, sumSq float64) {
	if len(x) == 0 {
		return 0, 0
	}
	if elemAVX512 {
		return moments64AVX512(&x[0], len(x))
	}
	var s0, s1, q0, q1 float64
	i := 0
	for ; i+2 <= len(x); i += 2 {
		v := x[i : i+2 : i+2]
		a, b := float64(v[0]), float64(v[1])
		s0 += a
		s1 += b
		q0 += a * a
		q1 += b * b
	}
	if i < len(x) {
		a := float64(x[i])
		s0 += a
		q0 += a * a
	}
	return s0 + s1, q0 + q1
}

// SumDot64 returns Σ d[i] and Σ d[i]·x[i] over len(d) values, accumulated
// in float64 (each product is exact). x must be at least as long as d.
func SumDot64(d, x []float32) (sum, dot float64) {
	need("SumDot64", "x", x, len(d))
	if len(d) == 0 {
		return 0, 0
	}
	if elemAVX512 {
		return sumDot64AVX512(&d[0], &x[0], len(d))
	}
	x = x[:len(d)]
	var s0, s1, p0, p1 float64
	i := 0
	for ; i+2 <= len(d); i += 2 {
		u, v := d[i:i+2:i+2], x[i:i+2:i+2]
		s0 += float64(u[0])
		s1 += float64(u[1])
		p0 += float64(u[0]) * float64(v[0])
		p1 += float64(u[1]) * float64(v[1])
	}
	if i < len(d) {
		s0 += float64(d[i])
		p0 += float64(d[i]) * float64(x[i])
	}
	return s0 + s1, p0 + p1
}

// Affine sets y[i] = a·x[i] + b for i < len(x).
func Affine(y, x []float32, a, b float32) { AffineReLU(y, nil, x, a, b) }

// AffineReLU sets y[i] = a·x[i] + b and, when r is not nil, r[i] =
// max(y[i], 0), for i < len(x): a BatchNorm's normalisation and the ReLU
// after it in one pass, which keeps both outputs.
func AffineReLU(y, r, x []float32, a, b float32) {
	n := len(x)
	need("AffineReLU", "y", y, n)
	if r != nil {
		need("AffineReLU", "r", r, n)
	}
	if n == 0 {
		return
	}
	if elemAVX512 {
		var rp *float32
		if r != nil {
			rp = &r[0]
		}
		affineAVX512(&y[0], rp, &x[0], n, a, b)
		return
	}
	y = y[:n]
	for i, v := range x {
		y[i] = fma32(a, v, b)
	}
	if r != nil {
		r = r[:n]
		for i, v := range y {
			r[i] = max(v, 0)
		}
	}
}

// LinComb sets dst[i] = a·u[i] + (b·v[i] + c) for i < len(u): BatchNorm's
// input gradient from the output gradient u and the input v. v must be at
// least as long as u.
func LinComb(dst, u, v []float32, a, b, c float32) {
	n := len(u)
	need("LinComb", "dst", dst, n)
	need("LinComb", "v", v, n)
	if n == 0 {
		return
	}
	if elemAVX512 {
		linCombAVX512(&dst[0], &u[0], &v[0], n, a, b, c)
		return
	}
	dst, v = dst[:n], v[:n]
	for i, d := range u {
		dst[i] = fma32(a, d, fma32(b, v[i], c))
	}
}

// ReLU sets y[i] = max(x[i], 0) for i < len(x).
func ReLU(y, x []float32) {
	n := len(x)
	need("ReLU", "y", y, n)
	if n == 0 {
		return
	}
	if elemAVX512 {
		reluAVX512(&y[0], &x[0], n)
		return
	}
	y = y[:n]
	for i, v := range x {
		y[i] = max(v, 0)
	}
}

// ReLUGrad sets dx[i] = dy[i] where z[i] > 0 and 0 elsewhere, for i <
// len(z): the ReLU's backward pass, with z its input or its output (both
// are positive at the same places).
func ReLUGrad(dx, dy, z []float32) {
	n := len(z)
	need("ReLUGrad", "dx", dx, n)
	need("ReLUGrad", "dy", dy, n)
	if n == 0 {
		return
	}
	if elemAVX512 {
		reluGradAVX512(&dx[0], &dy[0], &z[0], n)
		return
	}
	dx, dy = dx[:n], dy[:n]
	for i, v := range z {
		// Branch-free: the signs of z are random, so a branch would
		// mispredict half the time. keep is 1 for z > 0 (sign bit
		// clear and not ±0).
		b := math.Float32bits(v)
		keep := ((b | -b) >> 31) &^ (b >> 31)
		dx[i] = math.Float32frombits(math.Float32bits(dy[i]) & -keep)
	}
}

// fma32 is a·x + b with the product exact, as the vector kernels' fused
// multiply-add computes it (the float64 sum may round once more).
func fma32(a, x, b float32) float32 {
	return float32(float64(a)*float64(x) + float64(b))
}

// Mul sets dst[i] = a[i]·b[i] for i < len(a) (one rounding each, so both
// paths give the same bits).
func Mul(dst, a, b []float32) {
	n := len(a)
	need("Mul", "dst", dst, n)
	need("Mul", "b", b, n)
	if n == 0 {
		return
	}
	if elemAVX512 {
		mulAVX512(&dst[0], &a[0], &b[0], n)
		return
	}
	dst, b = dst[:n], b[:n]
	for i, v := range a {
		dst[i] = v * b[i]
	}
}
