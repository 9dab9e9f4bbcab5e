package split

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/nadir-ml/nadir/linalg"
	"github.com/nadir-ml/nadir/option"
	"github.com/nadir-ml/nadir/tensor"
)

// Eigen holds both ends of one neuron's splitting spectrum.
type Eigen struct {
	LambdaMin, LambdaMax float64
	VMin, VMax           []float64 // unit vectors of length K
}

// SolverOptions configure Solve.
type SolverOptions struct {
	// Solver is "lanczos" (default: matrix-free, both ends), "dense" (the
	// reference: form S_i and decompose it) or "rayleigh" (the stochastic
	// Rayleigh-quotient method of the fast splitting paper).
	Solver Solver
	// RayleighEpochs is the number of passes over the statistics batches
	// for the Rayleigh solver (the last pass is averaged into the estimate).
	RayleighEpochs int
	Seed           uint64
	// Sample, in (0, 1), makes the batched Lanczos iterate on that
	// fraction of the statistics examples and then take each found
	// direction's exact Rayleigh quotient (see solveBatched); 0 or 1 uses
	// every row throughout. Layers whose matrices are formed (small K)
	// are always exact.
	Sample float64
	// MinOnly makes the batched Lanczos stop on λ_min's residual alone
	// (methods that never use λ_max); λ_max is then an estimate.
	MinOnly bool
	// Tol is the batched Lanczos's relative residual tolerance (0:
	// batchedTol).
	Tol float64
	// LooseTol is linalg.LanczosOptions.LooseTol for the batched Lanczos
	// with MinOnly (0: Tol throughout).
	LooseTol float64
	// MaxIter caps the batched Lanczos's products per neuron (0: its
	// default); a neuron still unconverged then reports its best Ritz pair.
	MaxIter int
}

// Solver names an eigen-solver.
type Solver string

const (
	Lanczos  Solver = "lanczos"
	Dense    Solver = "dense"
	Rayleigh Solver = "rayleigh"
)

// Solvers lists the valid solvers.
var Solvers = option.Choice[Solver]{Lanczos, Dense, Rayleigh}

// Solve computes every neuron's extreme eigenpairs from the statistics, in
// parallel over neurons with a fixed partition (each neuron draws from its
// own generator, so results do not depend on scheduling).
func Solve(ctx context.Context, st *LayerStats, opts SolverOptions) ([]Eigen, error) {
	out := make([]Eigen, st.Units)
	switch opts.Solver {
	case "", Lanczos, Dense:
	case Rayleigh:
		st.rowMajor() // before the parallel operators
		return solveRayleigh(ctx, st, opts)
	default:
		return nil, Solvers.Check("solver", opts.Solver)
	}
	if opts.Solver != Dense && !st.FormCheaper() {
		return solveBatched(ctx, st, opts)
	}
	st.rowMajor()
	var mats [][]float64
	if st.FormCheaper() {
		mats = st.DenseMatrices()
	}
	errs := make([]error, st.Units)
	tensor.ParallelFor(st.Units, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if ctx.Err() != nil {
				errs[i] = ctx.Err()
				return
			}
			var ex linalg.Extremes
			var err error
			if opts.Solver == "dense" {
				var a []float64
				if mats != nil {
					a = mats[i]
				} else {
					a = st.DenseMatrix(i) // one at a time: K² per neuron bounds memory
				}
				ex, err = linalg.DenseExtremes(a, st.K)
			} else {
				r := rand.New(rand.NewPCG(opts.Seed, uint64(st.Layer)<<32|uint64(i)))
				op := &linalg.Dense{N: st.K, Data: mats[i]}
				ex, err = linalg.Lanczos(op, linalg.LanczosOptions{Tol: 1e-7}, r)
				if errors.Is(err, linalg.ErrNotConverged) {
					err = nil // best estimates; residuals are reported by Lanczos
				}
			}
			if err != nil {
				errs[i] = fmt.Errorf("layer %d neuron %d: %w", st.Layer, i, err)
				continue
			}
			out[i] = Eigen{LambdaMin: ex.Min, LambdaMax: ex.Max, VMin: ex.VMin, VMax: ex.VMax}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func solveRayleigh(ctx context.Context, st *LayerStats, opts SolverOptions) ([]Eigen, error) {
	epochs := opts.RayleighEpochs
	if epochs <= 0 {
		epochs = 10
	}
	out := make([]Eigen, st.Units)
	tensor.ParallelFor(st.Units, func(lo, hi int) {
		sv := make([]float64, st.K)
		for i := lo; i < hi; i++ {
			if ctx.Err() != nil {
				return
			}
			var e Eigen
			for _, maximize := range []bool{false, true} {
				r := rand.New(rand.NewPCG(opts.Seed, uint64(st.Layer)<<32|uint64(i)<<1|b2u(maximize)))
				ry := linalg.NewRayleigh(1, st.K, maximize, linalg.RayleighOptions{}, r)
				for ep := 0; ep < epochs; ep++ {
					if ep == epochs-1 {
						ry.StartWindow()
					}
					for b := 0; b < st.Batches; b++ {
						st.BatchOp(i, b).MulVec(sv, ry.V(0))
						ry.Step(0, sv)
					}
				}
				lam, v := ry.Estimate(0)
				if maximize {
					e.LambdaMax, e.VMax = lam, v
				} else {
					e.LambdaMin, e.VMin = lam, v
				}
			}
			out[i] = e
		}
	})
	return out, ctx.Err()
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
