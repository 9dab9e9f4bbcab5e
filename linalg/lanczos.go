package linalg

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// LanczosOptions control Lanczos. The zero value gives the defaults.
type LanczosOptions struct {
	// Tol is the relative residual tolerance: both Ritz pairs must satisfy
	// ‖S v − λ v‖ ≤ Tol·max(|λ|, scale), where scale = max(|λ_min|, |λ_max|)
	// is the current estimate of ‖S‖₂. Zero means 1e-8, which makes the
	// eigenvalues accurate to about 1e-16·‖S‖²/gap and the eigenvectors to
	// about 1e-8·‖S‖/gap in angle.
	Tol float64
	// MaxIter bounds the number of operator applications. Zero means
	// min(n, 300); values above n are reduced to n, where the Krylov basis
	// spans the whole space and the result is exact.
	MaxIter int
	// MinOnly stops on the smallest pair's residual alone: callers that
	// use only λ_min save the products the largest pair needs to converge.
	// Max and VMax are then the Ritz pair at the stop, an estimate (Max is
	// a lower bound of λ_max, ResMax says how far off it may be).
	MinOnly bool
	// LooseTol, when above Tol with MinOnly, is the tolerance for a
	// smallest Ritz value of at least a tenth of the spectral scale in
	// magnitude: a clearly separated end of the spectrum, which a loose
	// residual locates well (its eigenvalue error is about the residual
	// squared over the gap). A smallest Ritz value near zero may instead sit
	// in a cluster of near-null eigenvalues that hides the true λ_min from
	// a short Krylov space, so it still needs Tol.
	LooseTol float64
}

// breakdownTol: a new Lanczos vector shorter than breakdownTol·‖S‖ is
// rounding noise and cannot be normalised into the next basis vector. It sits
// well above the noise of a product, about eps·√n·‖S‖.
const breakdownTol = 1e-12

// Lanczos returns the smallest and largest eigenpairs of the symmetric
// operator op using the Lanczos iteration with full reorthogonalisation,
// starting from a random vector drawn from r.
//
// Each step costs one op.MulVec plus O(n·k) for reorthogonalising against
// the k vectors kept so far; the basis uses k·n floats. After every step the
// extreme Ritz pairs (θ, y) of the tridiagonal projection T_k are computed;
// their residuals ‖S y − θ y‖ = β_k·|s_k| come for free. The iteration stops
// when both residuals are under opts.Tol relative to ‖S‖, when the basis
// spans the whole space (then the result is exact), or after opts.MaxIter
// steps; in the last case the returned error wraps ErrNotConverged and the
// Extremes hold the best estimates.
//
// When β_k itself is under the tolerance, the Krylov space is invariant:
// every Ritz pair is an eigenpair, which is common for splitting matrices of
// rank below n or with repeated eigenvalues. A start vector that happened to
// miss an eigenvector would then also miss that part of the spectrum, so
// Lanczos explores once more before stopping: it continues the recurrence if
// β_k is still above rounding noise, and otherwise restarts with a fresh
// random vector orthogonal to the basis (T becomes block diagonal, so its
// Ritz values stay those of the projection onto everything explored). It
// stops at the next convergence or invariance.
//
// Lanczos returns an error if the dimension is not positive, the options
// are invalid, or op produces a non-finite value. It panics if r is nil.
func Lanczos(op Operator, opts LanczosOptions, r *rand.Rand) (Extremes, error) {
	if r == nil {
		panic("linalg: Lanczos needs a non-nil *rand.Rand")
	}
	n := op.Dim()
	if n < 1 {
		return Extremes{}, fmt.Errorf("linalg: operator dimension %d, need ≥ 1", n)
	}
	tol := opts.Tol
	switch {
	case tol == 0:
		tol = 1e-8
	case !(tol > 0) || math.IsInf(tol, 0):
		return Extremes{}, fmt.Errorf("linalg: Lanczos tolerance %g, need > 0", opts.Tol)
	}
	maxIter := opts.MaxIter
	switch {
	case maxIter == 0:
		maxIter = min(n, 300)
	case maxIter < 0:
		return Extremes{}, fmt.Errorf("linalg: Lanczos MaxIter %d, need ≥ 0", opts.MaxIter)
	}
	switch {
	case opts.LooseTol == 0:
	case !(opts.LooseTol > 0) || math.IsInf(opts.LooseTol, 0):
		return Extremes{}, fmt.Errorf("linalg: Lanczos loose tolerance %g, need > 0", opts.LooseTol)
	}
	loose := tol
	if opts.MinOnly && opts.LooseTol > tol {
		loose = opts.LooseTol
	}
	return lanczos(op, tol, loose, min(maxIter, n), opts.MinOnly, r, nil)
}

// lanczos is Lanczos with validated options; a non-nil start (unit norm) replaces
// the random start vector, which lets tests place it in a chosen subspace.
func lanczos(op Operator, tol, loose float64, maxIter int, minOnly bool, r *rand.Rand, start []float64) (Extremes, error) {
	n := op.Dim()
	var (
		basis    = make([]float64, 0, maxIter*n) // rows q_0 … q_{k-1}
		alpha    = make([]float64, 0, maxIter)
		beta     = make([]float64, 0, maxIter) // beta[j] couples q_j and q_{j+1}; 0 at a restart
		q        = make([]float64, n)
		w        = make([]float64, n)
		h        = make([]float64, maxIter)
		sMin     = make([]float64, maxIter)
		sMax     = make([]float64, maxIter)
		t        tridiag
		tb       tridiag // the block since the last restart
		block    int     // index of the block's first vector
		sb       = make([]float64, maxIter)
		anorm    float64
		explored bool
		e        Extremes
	)
	if start != nil {
		copy(q, start)
		blas64.Scal(1/blas64.Nrm2(vec(q)), vec(q))
	} else if !randomOrthogonal(q, nil, h, r) {
		// Unreachable for n ≥ 1 with an empty basis.
		return Extremes{}, errors.New("linalg: could not draw a start vector")
	}
	for {
		k := len(alpha)
		basis = append(basis, q...)
		op.MulVec(w, q)
		e.Iters++
		wn := blas64.Nrm2(vec(w))
		if math.IsNaN(wn) || math.IsInf(wn, 0) {
			return Extremes{}, fmt.Errorf("linalg: operator produced a non-finite value after %d products", e.Iters)
		}
		anorm = max(anorm, wn)
		if k > 0 && beta[k-1] != 0 {
			blas64.Axpy(-beta[k-1], vec(basis[(k-1)*n:k*n]), vec(w))
		}
		a := blas64.Dot(vec(q), vec(w))
		blas64.Axpy(-a, vec(q), vec(w))
		alpha = append(alpha, a)
		k++
		b := reorthogonalize(w, basis, k, h)

		t.d, t.e = alpha, beta[:k-1]
		e.Min, e.Max = t.eigval(0), t.eigval(k-1)
		rMin := t.eigvec(e.Min, sMin[:k])
		rMax := t.eigvec(e.Max, sMax[:k])
		e.ResMin = b*math.Abs(sMin[k-1]) + rMin
		e.ResMax = b*math.Abs(sMax[k-1]) + rMax
		lim := tol * max(math.Abs(e.Min), math.Abs(e.Max))
		limMin := lim
		if scale := max(math.Abs(e.Min), math.Abs(e.Max)); loose > tol && math.Abs(e.Min) >= 0.1*scale {
			limMin = loose * scale
		}
		converged := e.ResMin <= limMin && (minOnly || e.ResMax <= lim)
		if block > 0 && converged {
			// After a restart the old block's Ritz pairs are exact, so the
			// global test passes at once; the new block must also have
			// converged its own extremes before they can be trusted not to
			// hide a larger or smaller eigenvalue.
			tb.d, tb.e = alpha[block:k], beta[block:k-1]
			m := k - block
			ends := []float64{tb.eigval(0), tb.eigval(m - 1)}
			if minOnly {
				ends = ends[:1]
			}
			for _, theta := range ends {
				rb := tb.eigvec(theta, sb[:m])
				if b*math.Abs(sb[m-1])+rb > lim {
					converged = false
				}
			}
		}
		invariant := b <= lim || b <= breakdownTol*anorm
		done := k == n || (converged && (!invariant || explored))
		next := !done && k < maxIter
		if next && invariant {
			explored = true
		}
		if next && invariant {
			// The Krylov space is invariant to working accuracy: w is below
			// the tolerance (dropping it perturbs T by less than the
			// accepted residual) and, near rounding noise, its direction is
			// not random — continuing from it can miss the rest of the
			// spectrum. Restart with a random vector in the orthogonal
			// complement instead.
			beta = append(beta, 0)
			block = k
			if !randomOrthogonal(q, basis, h, r) {
				// The basis already spans the space numerically.
				beta = beta[:k-1]
				done, next = true, false
			}
		} else if next {
			beta = append(beta, b)
			for i := range q {
				q[i] = w[i] / b
			}
		}
		if !next {
			e.VMin = ritzVector(basis, n, sMin[:k])
			e.VMax = ritzVector(basis, n, sMax[:k])
			if !done && !converged {
				return e, fmt.Errorf("%w after %d operator applications: residuals %.3g (min), %.3g (max) > %.3g",
					ErrNotConverged, e.Iters, e.ResMin, e.ResMax, lim)
			}
			return e, nil
		}
	}
}

// reorthogonalize makes w orthogonal to the k rows of basis to working
// precision and returns its norm. Classical Gram–Schmidt is applied twice
// ("twice is enough"), and a third time if the second pass still removed a
// sizeable part, which happens when w is nearly in the span (near an
// invariant subspace). Full reorthogonalisation keeps the basis orthonormal,
// so no spurious copies of converged Ritz values appear.
func reorthogonalize(w, basis []float64, k int, h []float64) float64 {
	orthogonalize(w, basis, k, h)
	before := blas64.Nrm2(vec(w))
	orthogonalize(w, basis, k, h)
	after := blas64.Nrm2(vec(w))
	if after < 0.7*before {
		orthogonalize(w, basis, k, h)
		after = blas64.Nrm2(vec(w))
	}
	return after
}

// orthogonalize removes from w its components along the k rows of basis
// (n = len(w)): h = Q w, w −= Qᵀ h.
func orthogonalize(w, basis []float64, k int, h []float64) {
	n := len(w)
	qm := blas64.General{Rows: k, Cols: n, Stride: n, Data: basis[:k*n]}
	blas64.Gemv(blas.NoTrans, 1, qm, vec(w), 0, vec(h[:k]))
	blas64.Gemv(blas.Trans, -1, qm, vec(h[:k]), 1, vec(w))
}

// randomOrthogonal fills q with a unit vector drawn from r and orthogonal to
// the rows of basis. It reports false if three draws all lie numerically in
// the span of the basis.
func randomOrthogonal(q, basis, h []float64, r *rand.Rand) bool {
	n := len(q)
	k := len(basis) / n
	for try := 0; try < 3; try++ {
		for i := range q {
			q[i] = r.NormFloat64()
		}
		before := blas64.Nrm2(vec(q))
		after := before
		if k > 0 {
			after = reorthogonalize(q, basis, k, h)
		}
		if after > 1e-6*before {
			blas64.Scal(1/after, vec(q))
			return true
		}
	}
	return false
}

// ritzVector returns the unit vector Qᵀ s with the sign convention of
// fixSign.
func ritzVector(basis []float64, n int, s []float64) []float64 {
	k := len(s)
	y := make([]float64, n)
	qm := blas64.General{Rows: k, Cols: n, Stride: n, Data: basis[:k*n]}
	blas64.Gemv(blas.Trans, 1, qm, vec(s), 0, vec(y))
	if nrm := blas64.Nrm2(vec(y)); nrm > 0 {
		blas64.Scal(1/nrm, vec(y))
	}
	fixSign(y)
	return y
}
