package linalg

import "math"

// This file solves the small symmetric tridiagonal eigenproblem that
// Lanczos produces, for its two ends only: Sturm-sequence bisection for the
// eigenvalue (LAPACK dstebz's method) and inverse iteration for the
// eigenvector (dstein's). Both cost O(k) per sweep, so Lanczos can test
// convergence after every operator application; a full eigendecomposition of
// T at every step would cost O(k³) and dominate the operator products.

const eps = 0x1p-52

// tridiag holds the matrix T (diagonal d, off-diagonal e with len(e) =
// len(d)-1) and scratch for the LU factorisation of T − θI.
type tridiag struct {
	d, e []float64

	// LU factors with partial pivoting: L has unit diagonal and multipliers
	// dl; U has diagonal ud and two super-diagonals du, du2.
	ud, dl, du, du2 []float64
	swap            []bool
}

// norm returns the Gershgorin bound max_i (|d_i| + |e_{i-1}| + |e_i|) ≥ ‖T‖₂
// together with the Gershgorin interval [lo, hi] containing the spectrum.
func (t *tridiag) gershgorin() (lo, hi, norm float64) {
	k := len(t.d)
	lo, hi = math.Inf(1), math.Inf(-1)
	for i := 0; i < k; i++ {
		r := 0.0
		if i > 0 {
			r += math.Abs(t.e[i-1])
		}
		if i < k-1 {
			r += math.Abs(t.e[i])
		}
		lo = min(lo, t.d[i]-r)
		hi = max(hi, t.d[i]+r)
		norm = max(norm, math.Abs(t.d[i])+r)
	}
	return lo, hi, norm
}

// countBelow returns the number of eigenvalues of T smaller than x (the
// number of negative pivots of the LDLᵀ factorisation of T − xI). Tiny
// pivots are replaced by −pivmin, which keeps the count monotone in x.
func (t *tridiag) countBelow(x, pivmin float64) int {
	n := 0
	q := t.d[0] - x
	for i := 0; ; i++ {
		if math.Abs(q) <= pivmin {
			q = -pivmin
		}
		if q < 0 {
			n++
		}
		if i+1 == len(t.d) {
			return n
		}
		q = t.d[i+1] - x - t.e[i]*t.e[i]/q
	}
}

// eigval returns eigenvalue j (0-based, ascending) of T by bisection, to an
// absolute accuracy of about eps·‖T‖.
func (t *tridiag) eigval(j int) float64 {
	lo, hi, norm := t.gershgorin()
	maxE2 := 1.0
	for _, x := range t.e {
		maxE2 = max(maxE2, x*x)
	}
	pivmin := 0x1p-1022 * maxE2
	// Widen the interval slightly so the ends are strict bounds.
	pad := 2*eps*norm + 2*pivmin
	lo, hi = lo-pad, hi+pad
	for it := 0; it < 256; it++ {
		if hi-lo <= max(eps*norm, 2*eps*max(math.Abs(lo), math.Abs(hi)), pivmin) {
			break
		}
		mid := lo + 0.5*(hi-lo)
		if t.countBelow(mid, pivmin) > j {
			hi = mid
		} else {
			lo = mid
		}
	}
	return lo + 0.5*(hi-lo)
}

// eigvec writes into s (len k) a unit eigenvector of T for the eigenvalue
// theta by inverse iteration and returns ‖T s − θ s‖. For a multiple or
// tightly clustered eigenvalue s is some unit vector of the (near-)invariant
// subspace, which is all a Ritz pair needs.
func (t *tridiag) eigvec(theta float64, s []float64) float64 {
	k := len(t.d)
	if k == 1 {
		s[0] = 1
		return math.Abs(t.d[0] - theta)
	}
	_, _, norm := t.gershgorin()
	t.factor(theta, norm)
	// A fixed, generic start vector (fractional parts of i·φ) has a nonzero
	// component along every eigenvector of an unreduced T and keeps the
	// routine deterministic without consuming the caller's random stream.
	for i := range s {
		s[i] = 0.5 + math.Mod(float64(i+1)*0.6180339887498949, 1)
	}
	res := math.Inf(1)
	for it := 0; it < 5; it++ {
		t.solve(s)
		nrm := 0.0
		for _, x := range s {
			nrm += x * x
		}
		nrm = math.Sqrt(nrm)
		if nrm == 0 || math.IsInf(nrm, 0) || math.IsNaN(nrm) {
			// Cannot happen with the pivot guard; fall back to a unit vector
			// rather than propagating NaN.
			clear(s)
			s[0] = 1
			return t.residual(theta, s)
		}
		for i := range s {
			s[i] /= nrm
		}
		res = t.residual(theta, s)
		if res <= 4*eps*norm*math.Sqrt(float64(k)) {
			break
		}
	}
	return res
}

// residual returns ‖T s − θ s‖.
func (t *tridiag) residual(theta float64, s []float64) float64 {
	k := len(t.d)
	r := 0.0
	for i := 0; i < k; i++ {
		x := (t.d[i] - theta) * s[i]
		if i > 0 {
			x += t.e[i-1] * s[i-1]
		}
		if i < k-1 {
			x += t.e[i] * s[i+1]
		}
		r += x * x
	}
	return math.Sqrt(r)
}

// factor computes the LU factorisation with partial pivoting of T − θI (as
// LAPACK dgttrf). Zero pivots are replaced by eps·norm so the solve yields a
// huge vector along the eigenvector instead of dividing by zero.
func (t *tridiag) factor(theta, norm float64) {
	k := len(t.d)
	grow := func(b []float64) []float64 {
		if cap(b) < k {
			return make([]float64, k)
		}
		return b[:k]
	}
	t.ud, t.dl, t.du, t.du2 = grow(t.ud), grow(t.dl), grow(t.du), grow(t.du2)
	if cap(t.swap) < k {
		t.swap = make([]bool, k)
	}
	t.swap = t.swap[:k]
	for i := 0; i < k; i++ {
		t.ud[i] = t.d[i] - theta
		t.du2[i] = 0
		t.swap[i] = false
		if i < k-1 {
			t.dl[i], t.du[i] = t.e[i], t.e[i]
		}
	}
	for i := 0; i < k-1; i++ {
		if math.Abs(t.ud[i]) >= math.Abs(t.dl[i]) {
			if t.ud[i] != 0 {
				f := t.dl[i] / t.ud[i]
				t.dl[i] = f
				t.ud[i+1] -= f * t.du[i]
			}
			continue
		}
		// Interchange rows i and i+1.
		f := t.ud[i] / t.dl[i]
		t.ud[i] = t.dl[i]
		t.dl[i] = f
		tmp := t.du[i]
		t.du[i] = t.ud[i+1]
		t.ud[i+1] = tmp - f*t.ud[i+1]
		if i < k-2 {
			t.du2[i] = t.du[i+1]
			t.du[i+1] = -f * t.du[i+1]
		}
		t.swap[i] = true
	}
	tiny := eps * norm
	if tiny == 0 {
		tiny = 1
	}
	for i := range t.ud {
		if t.ud[i] == 0 {
			t.ud[i] = tiny
		}
	}
}

// solve overwrites b with (T − θI)⁻¹ b using the factors from factor.
func (t *tridiag) solve(b []float64) {
	k := len(t.d)
	for i := 0; i < k-1; i++ {
		if t.swap[i] {
			b[i], b[i+1] = b[i+1], b[i]-t.dl[i]*b[i+1]
		} else {
			b[i+1] -= t.dl[i] * b[i]
		}
	}
	b[k-1] /= t.ud[k-1]
	if k > 1 {
		b[k-2] = (b[k-2] - t.du[k-2]*b[k-1]) / t.ud[k-2]
	}
	for i := k - 3; i >= 0; i-- {
		b[i] = (b[i] - t.du[i]*b[i+1] - t.du2[i]*b[i+2]) / t.ud[i]
	}
}
