package tensor

import "math"

// SoftplusD2Times sets dst[i] = g[i]·e/(1+e)²·scale with e = exp(−|beta·z[i]|)
// for i < len(z): a gradient times the second derivative of a softplus of
// sharpness beta (which is beta·e/(1+e)²; the caller folds beta into
// scale). It is the splitting statistics' coefficient of a ReLU's smooth
// surrogate, computed in float32 with ExpNeg32. Where g[i] is ±0 it writes
// g[i] (the sign of the zero the product would have had) and computes no
// exponential: behind a max pool most gradients are 0.
//
// The AVX-512 kernel computes every lane with the same float32 operations
// in the same order as the portable code, so both give the same bits.
func SoftplusD2Times(dst, z, g []float32, beta, scale float32) {
	n := len(z)
	need("SoftplusD2Times", "dst", dst, n)
	need("SoftplusD2Times", "g", g, n)
	if n == 0 {
		return
	}
	if elemAVX512 {
		softplusD2TimesAVX512(&dst[0], &z[0], &g[0], n, beta, scale)
		return
	}
	dst, g = dst[:n], g[:n]
	// The rows with a gradient are listed first without a branch (their
	// pattern is random), then the exponential is computed for them alone.
	var idx [256]int32
	for lo := 0; lo < n; lo += len(idx) {
		hi := min(lo+len(idx), n)
		k := 0
		for q, gv := range g[lo:hi] {
			dst[lo+q] = gv
			idx[k] = int32(lo + q)
			u := math.Float32bits(gv) &^ (1 << 31)
			k += int((u | -u) >> 31) // 1 when gv ≠ 0
		}
		for _, q := range idx[:k] {
			dst[q] = softplusD2Times(z[q], g[q], beta, scale)
		}
	}
}

// softplusD2Times is one element of SoftplusD2Times with g ≠ 0. The
// explicit conversions keep every product rounded on its own (no fused
// multiply-add), as the vector kernel computes it.
func softplusD2Times(z, g, beta, scale float32) float32 {
	x := float32(beta * z)
	if x > 0 {
		x = -x
	}
	e := ExpNeg32(x)
	s := float32((1 + e) * (1 + e))
	return float32(float32(g*(e/s)) * scale)
}

// ExpNeg32 is e^x for x ≤ 0 in float32 (Cephes expf: Cody–Waite range
// reduction and a degree-6 polynomial, about 1 ulp), e^-87 below -87. A
// NaN gives NaN. Every product is rounded on its own, as the vector kernel
// of SoftplusD2Times computes it.
func ExpNeg32(x float32) float32 {
	x = max(x, -87)
	n := float32(int32(float32(x*1.44269504088896341) - 0.5)) // round(x·log₂e), x ≤ 0
	r := float32(x-float32(n*0.693359375)) + float32(n*2.12194440e-4)
	p := float32(1.9875691500e-4 * r)
	p = float32(float32(p+1.3981999507e-3) * r)
	p = float32(float32(p+8.3334519073e-3) * r)
	p = float32(float32(p+4.1665795894e-2) * r)
	p = float32(float32(p+1.6666665459e-1) * r)
	p += 5.0000001201e-1
	q := float32(float32(float32(p*r)*r) + r)
	return float32((q + 1) * math.Float32frombits(uint32(int32(n)+127)<<23))
}
