package linalg

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/mat"
)

// Extremes holds the two ends of the spectrum of a symmetric operator.
type Extremes struct {
	Min, Max   float64   // smallest and largest eigenvalue
	VMin, VMax []float64 // unit eigenvectors; sign fixed so the largest-magnitude entry is positive
	Iters      int       // operator applications (0 for the dense solver)
	// ResMin and ResMax bound ||S v − λ v|| for the two pairs as estimated
	// by the solver (Lanczos: from the tridiagonal; dense: 0, not computed).
	ResMin, ResMax float64
}

// ErrNotConverged is returned (wrapped) by Lanczos when MaxIter operator
// applications did not bring both residuals under the tolerance. The
// Extremes returned with it hold the best estimates found.
var ErrNotConverged = errors.New("linalg: Lanczos did not converge")

// DenseExtremes returns the extreme eigenpairs of the n×n row-major matrix a,
// symmetrised as (a+aᵀ)/2, by a full dense eigendecomposition (gonum
// mat.EigenSym, O(n³)). It is the reference the matrix-free solvers are
// tested against. a is not modified. It returns an error if a has the wrong
// length, holds NaN or ±Inf, or the decomposition fails.
func DenseExtremes(a []float64, n int) (Extremes, error) {
	if n < 1 {
		return Extremes{}, fmt.Errorf("linalg: matrix dimension %d, need ≥ 1", n)
	}
	if len(a) != n*n {
		return Extremes{}, fmt.Errorf("linalg: matrix data length %d, want %d×%d=%d", len(a), n, n, n*n)
	}
	sym := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			x, y := a[i*n+j], a[j*n+i]
			if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
				return Extremes{}, fmt.Errorf("linalg: matrix entry (%d,%d) is not finite", i, j)
			}
			sym.SetSym(i, j, 0.5*(x+y))
		}
	}
	var es mat.EigenSym
	if !es.Factorize(sym, true) {
		return Extremes{}, errors.New("linalg: dense symmetric eigendecomposition failed")
	}
	vals := es.Values(nil)
	var vecs mat.Dense
	es.VectorsTo(&vecs)
	e := Extremes{
		Min:  vals[0],
		Max:  vals[n-1],
		VMin: mat.Col(nil, 0, &vecs),
		VMax: mat.Col(nil, n-1, &vecs),
	}
	if math.IsNaN(e.Min) || math.IsNaN(e.Max) {
		return Extremes{}, errors.New("linalg: dense eigendecomposition produced NaN")
	}
	fixSign(e.VMin)
	fixSign(e.VMax)
	return e, nil
}

// fixSign flips v so that its entry of largest magnitude (the first one on
// ties) is positive, making eigenvectors comparable across solvers.
func fixSign(v []float64) {
	k, best := 0, -1.0
	for i, x := range v {
		if a := math.Abs(x); a > best {
			k, best = i, a
		}
	}
	if len(v) > 0 && v[k] < 0 {
		for i := range v {
			v[i] = -v[i]
		}
	}
}

// ExtremesBatch computes the extreme eigenpairs of every n×n row-major
// matrix in mats (each symmetrised as (a+aᵀ)/2), one neuron's splitting
// matrix per entry. method is "dense" (DenseExtremes) or "lanczos" (Lanczos
// with default options). threads ≤ 0 means GOMAXPROCS.
//
// Matrix i is always solved by the same code with its own random stream
// (PCG seeded with (seed, i)), so results do not depend on threads or on
// scheduling. On failure the error names the first failing matrix by index;
// for "lanczos" an ErrNotConverged result is kept and reported the same way.
func ExtremesBatch(mats [][]float64, n int, method string, threads int, seed uint64) ([]Extremes, error) {
	if method != "dense" && method != "lanczos" {
		return nil, fmt.Errorf("linalg: eigen method %q, want \"dense\" or \"lanczos\"", method)
	}
	for i, a := range mats {
		if len(a) != n*n {
			return nil, fmt.Errorf("linalg: matrix %d has length %d, want %d×%d", i, len(a), n, n)
		}
	}
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	threads = min(threads, len(mats))
	out := make([]Extremes, len(mats))
	errs := make([]error, len(mats))
	solve := func(i int) {
		if method == "dense" {
			out[i], errs[i] = DenseExtremes(mats[i], n)
			return
		}
		s := make([]float64, n*n)
		copy(s, mats[i])
		Symmetrize(s, n)
		for _, x := range s {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				errs[i] = errors.New("linalg: matrix has a non-finite entry")
				return
			}
		}
		r := rand.New(rand.NewPCG(seed, uint64(i)))
		out[i], errs[i] = Lanczos(Dense{N: n, Data: s}, LanczosOptions{}, r)
	}
	var wg sync.WaitGroup
	for w := 0; w < threads; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(mats); i += threads {
				solve(i)
			}
		}(w)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return out, fmt.Errorf("linalg: matrix %d: %w", i, err)
		}
	}
	return out, nil
}
