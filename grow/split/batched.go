package split

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/nadir-ml/nadir/linalg"
	"github.com/nadir-ml/nadir/tensor"
)

// solveBatched runs one matrix-free Lanczos per neuron, each in its own
// goroutine, and serves their products S_i v_i together: when every
// still-running solver waits for a product, all of them are computed with
// two GEMMs over the shared rows P,
//
//	U = P·[v_1 … v_b],  U ⊙= C,  [S_1 v_1 … S_b v_b] = Pᵀ·U / Batches,
//
// instead of b separate scalar passes over P. The set of solvers in each
// sweep depends only on the data (each solver's path is deterministic), so
// results do not depend on scheduling.
func solveBatched(ctx context.Context, st *LayerStats, seed uint64) ([]Eigen, error) {
	type request struct {
		i      int
		v, dst []float64
		done   chan struct{}
	}
	units, K := st.Units, st.K
	reqs := make(chan request)
	fin := make(chan struct{})
	out := make([]Eigen, units)
	errs := make([]error, units)
	for i := 0; i < units; i++ {
		go func(i int) {
			defer func() { fin <- struct{}{} }()
			op := opFunc{k: K, mul: func(dst, v []float64) {
				done := make(chan struct{})
				reqs <- request{i: i, v: v, dst: dst, done: done}
				<-done
			}}
			r := rand.New(rand.NewPCG(seed, uint64(st.Layer)<<32|uint64(i)))
			ex, err := linalg.Lanczos(op, linalg.LanczosOptions{Tol: 1e-7}, r)
			if errors.Is(err, linalg.ErrNotConverged) {
				err = nil // best estimates
			}
			if err != nil {
				errs[i] = fmt.Errorf("layer %d neuron %d: %w", st.Layer, i, err)
				return
			}
			out[i] = Eigen{LambdaMin: ex.Min, LambdaMax: ex.Max, VMin: ex.VMin, VMax: ex.VMax}
		}(i)
	}
	var (
		pending   []request
		active    = units
		v32, u, o []float32
	)
	for active > 0 {
		select {
		case r := <-reqs:
			pending = append(pending, r)
		case <-fin:
			active--
		}
		if len(pending) == 0 || len(pending) < active {
			continue
		}
		sort.Slice(pending, func(a, b int) bool { return pending[a].i < pending[b].i })
		b := len(pending)
		v32 = grow32(v32, K*b)
		for j, r := range pending {
			for k, x := range r.v {
				v32[k*b+j] = float32(x)
			}
		}
		u = grow32(u, st.M*b)
		tensor.Gemm(false, false, st.M, b, K, 1, st.P, K, v32, b, 0, u, b)
		for m := 0; m < st.M; m++ {
			row := u[m*b : (m+1)*b]
			c := st.C[m*units : (m+1)*units]
			for j, r := range pending {
				row[j] *= c[r.i]
			}
		}
		o = grow32(o, K*b)
		tensor.Gemm(true, false, K, b, st.M, 1, st.P, K, u, b, 0, o, b)
		inv := 1 / float64(st.Batches)
		for j, r := range pending {
			for k := range r.dst {
				r.dst[k] = float64(o[k*b+j]) * inv
			}
			close(r.done)
		}
		pending = pending[:0]
		if ctx.Err() != nil {
			// Solvers cannot be interrupted mid-product; let them finish
			// with what they have and report the cancellation.
			continue
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

type opFunc struct {
	k   int
	mul func(dst, v []float64)
}

func (o opFunc) Dim() int                { return o.k }
func (o opFunc) MulVec(dst, v []float64) { o.mul(dst, v) }
