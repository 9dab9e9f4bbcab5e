package linalg

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// Operator is a symmetric linear map given matrix-free: only its action on a
// vector is needed. Implementations must be symmetric (vᵀ(S w) = wᵀ(S v));
// Lanczos relies on it and does not check.
type Operator interface {
	// Dim returns the dimension n of the space S acts on.
	Dim() int
	// MulVec sets dst = S v. Both slices have length Dim and do not alias.
	MulVec(dst, v []float64)
}

// Dense is a symmetric n×n matrix stored row-major in Data (len N·N).
// Only symmetric data is meaningful: MulVec uses every entry as stored, so a
// non-symmetric Data is a different (non-symmetric) map. DenseExtremes
// symmetrises its input; Symmetrize does the same in place.
type Dense struct {
	N    int
	Data []float64
}

// Dim returns N.
func (d Dense) Dim() int { return d.N }

// MulVec sets dst = A v.
func (d Dense) MulVec(dst, v []float64) {
	if len(d.Data) != d.N*d.N {
		panic(fmt.Sprintf("linalg: Dense data length %d, want %d×%d", len(d.Data), d.N, d.N))
	}
	if len(dst) != d.N || len(v) != d.N {
		panic(fmt.Sprintf("linalg: Dense.MulVec lengths dst %d, v %d, want %d", len(dst), len(v), d.N))
	}
	a := blas64.General{Rows: d.N, Cols: d.N, Stride: d.N, Data: d.Data}
	blas64.Gemv(blas.NoTrans, 1, a, vec(v), 0, vec(dst))
}

// Symmetrize replaces the n×n row-major matrix a by (a+aᵀ)/2 in place.
func Symmetrize(a []float64, n int) {
	if len(a) != n*n {
		panic(fmt.Sprintf("linalg: Symmetrize data length %d, want %d×%d", len(a), n, n))
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			m := 0.5 * (a[i*n+j] + a[j*n+i])
			a[i*n+j], a[j*n+i] = m, m
		}
	}
}

// RankOneSum is the matrix-free form of a splitting matrix,
//
//	S = Σ_s Coeff[s] · p_s p_sᵀ,
//
// where p_s is row s of the M×N row-major matrix P (len M·N). It never forms
// S: MulVec computes t = P v, t_s *= Coeff[s], dst = Pᵀ t, costing 4·M·N
// flops instead of the N² of a stored matrix and N³ of a dense
// eigendecomposition. MulVec allocates an M-vector per call, so one value is
// safe for concurrent use.
type RankOneSum struct {
	N     int       // dimension of each p_s
	Coeff []float64 // length M
	P     []float64 // M×N row-major, one term per row
}

// Dim returns N.
func (r RankOneSum) Dim() int { return r.N }

// MulVec sets dst = Σ_s Coeff[s] (p_sᵀ v) p_s.
func (r RankOneSum) MulVec(dst, v []float64) {
	m := len(r.Coeff)
	if len(r.P) != m*r.N {
		panic(fmt.Sprintf("linalg: RankOneSum has %d coefficients and P of length %d, want %d×%d", m, len(r.P), m, r.N))
	}
	if len(dst) != r.N || len(v) != r.N {
		panic(fmt.Sprintf("linalg: RankOneSum.MulVec lengths dst %d, v %d, want %d", len(dst), len(v), r.N))
	}
	if m == 0 {
		clear(dst)
		return
	}
	p := blas64.General{Rows: m, Cols: r.N, Stride: r.N, Data: r.P}
	t := make([]float64, m)
	blas64.Gemv(blas.NoTrans, 1, p, vec(v), 0, vec(t))
	for s, c := range r.Coeff {
		t[s] *= c
	}
	blas64.Gemv(blas.Trans, 1, p, vec(t), 0, vec(dst))
}

// Matrix returns S as a dense row-major N×N matrix (for checks and the dense
// fallback).
func (r RankOneSum) Matrix() []float64 {
	a := make([]float64, r.N*r.N)
	for s, c := range r.Coeff {
		p := r.P[s*r.N : (s+1)*r.N]
		blas64.Ger(c, vec(p), vec(p), blas64.General{Rows: r.N, Cols: r.N, Stride: r.N, Data: a})
	}
	return a
}

func vec(x []float64) blas64.Vector { return blas64.Vector{N: len(x), Inc: 1, Data: x} }
