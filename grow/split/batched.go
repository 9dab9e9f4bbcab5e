package split

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/nadir-ml/nadir/linalg"
	"github.com/nadir-ml/nadir/tensor"
)

// solveBatched runs one matrix-free Lanczos per neuron, each in its own
// goroutine, and serves their products S_i v_i together: when every
// still-running solver waits for a product, all of them are computed with
// two GEMMs per block of the shared rows P (batchedProduct),
//
//	U = P·[v_1 … v_b],  U ⊙= C,  [S_1 v_1 … S_b v_b] = Pᵀ·U / Batches,
//
// instead of b separate scalar passes over P. The set of solvers in each
// sweep depends only on the data (each solver's path is deterministic), so
// results do not depend on scheduling.
//
// With opts.Sample in (0, 1) the iterations use only the first
// ⌈Sample·examples⌉ statistics examples (the batches are a seeded shuffle
// of the training set, so these are a random subset), scaled to estimate
// S_i; then one product over all rows gives each found direction's exact
// Rayleigh quotient, which replaces the subsample's Ritz value: λ_min is
// then vᵀ S_i v of the direction a split applies (an upper bound of the
// exact λ_min), λ_max that of the subsample's top Ritz vector (a lower
// bound). opts.MinOnly stops each solve on λ_min's residual alone.
func solveBatched(ctx context.Context, st *LayerStats, opts SolverOptions) ([]Eigen, error) {
	type request struct {
		i      int
		v, dst []float64
		done   chan struct{}
	}
	units, K := st.Units, st.K
	examples, subEx := st.M/st.pos(), st.M/st.pos()
	if opts.Sample > 0 && opts.Sample < 1 {
		subEx = max(1, int(math.Ceil(opts.Sample*float64(examples))))
	}
	tol := batchedTol
	if opts.Tol > 0 {
		tol = opts.Tol
	}
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
			r := rand.New(rand.NewPCG(opts.Seed, uint64(st.Layer)<<32|uint64(i)))
			ex, err := linalg.Lanczos(op, linalg.LanczosOptions{Tol: tol, MinOnly: opts.MinOnly, LooseTol: opts.LooseTol, MaxIter: opts.MaxIter}, r)
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
		pending []request
		active  = units
		prod    = newBatchedProduct(st, subEx*st.pos())
		inv     = float64(examples) / float64(subEx) / float64(st.Batches)
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
		v32 := prod.start(b)
		for j, r := range pending {
			prod.idx[j] = r.i
			for k, x := range r.v {
				v32[j*st.K+k] = float32(x)
			}
		}
		o := prod.run()
		for j, r := range pending {
			for k := range r.dst {
				r.dst[k] = o[j*st.K+k] * inv
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
	if subEx < examples {
		exactQuotients(st, out)
	}
	return out, nil
}

// exactQuotients replaces each neuron's λ_min and λ_max by the Rayleigh
// quotients vᵀ S_i v of its VMin and VMax over all rows: one product of
// 2·Units vectors.
func exactQuotients(st *LayerStats, eig []Eigen) {
	K := st.K
	prod := newBatchedProduct(st, st.M)
	v32 := prod.start(2 * st.Units)
	for i, e := range eig {
		for j, v := range [2][]float64{e.VMin, e.VMax} {
			prod.idx[2*i+j] = i
			for k, x := range v {
				v32[(2*i+j)*K+k] = float32(x)
			}
		}
	}
	o := prod.run()
	inv := 1 / float64(st.Batches)
	for i := range eig {
		q := [2]float64{}
		for j, v := range [2][]float64{eig[i].VMin, eig[i].VMax} {
			var num, den float64
			for k, x := range v {
				// The product saw v rounded to float32: use that v.
				x32 := float64(float32(x))
				num += x32 * o[(2*i+j)*K+k] * inv
				den += x32 * x32
			}
			if den > 0 {
				q[j] = num / den
			}
		}
		eig[i].LambdaMin, eig[i].LambdaMax = q[0], q[1]
	}
}

// batchedTol is the batched solver's relative residual tolerance. Each
// sweep of products rebuilds every row of a large layer, so sweeps are
// what a solve costs; 1e-4 instead of 1e-7 takes about a quarter fewer
// (16 instead of 21 on the growth benchmark's 14×14 layer). Against the
// dense solver there (round 1, seeds 0–2) the chosen neurons are the
// same and their λ_min within 2e-7 (relative); see bench/PROFILE.md.
const batchedTol = 1e-4

type opFunc struct {
	k   int
	mul func(dst, v []float64)
}

func (o opFunc) Dim() int                { return o.k }
func (o opFunc) MulVec(dst, v []float64) { o.mul(dst, v) }

// productChunks is the fixed number of row ranges whose products are
// summed separately and then in order, so that results do not depend on
// the thread count.
const productChunks = 8

// batchedProduct computes Σ_m p_m (p_mᵀ V) ⊙ c_m for a block of vectors V
// (K×b, row-major) and the coefficients of the neurons idx, one row block
// at a time: a convolution's rows are rebuilt per example, so nothing of
// size rows × K or rows × b is held.
type batchedProduct struct {
	st     *LayerStats
	b      int
	idx    []int
	v      []float32
	chunks [productChunks]struct {
		buf, u, acc []float32
	}
	out []float64
	nb  int
	hi  int // rows [0, hi) take part
	// ct is C transposed (units × rows, rows ctStride apart; at least
	// [0, hi)): scaling a neuron's row of U reads its coefficients
	// contiguously. It is the statistics' CT where Collect wrote that.
	ct       []float32
	ctStride int
	run      func() []float64
}

const productRows = 512 // explicit rows per block

// newBatchedProduct makes products over rows [0, hi), which ends on an
// example boundary.
func newBatchedProduct(st *LayerStats, hi int) *batchedProduct {
	p := &batchedProduct{st: st, hi: hi, nb: st.blocks(0, hi, productRows)}
	u := st.Units
	if st.CT != nil {
		p.ct, p.ctStride = st.CT, st.M
	} else {
		p.ct, p.ctStride = make([]float32, u*hi), hi
		tensor.ParallelFor(u, func(i0, i1 int) {
			for i := i0; i < i1; i++ {
				row := p.ct[i*hi : (i+1)*hi]
				for r := range row {
					row[r] = st.C[r*u+i]
				}
			}
		})
	}
	p.run = func() []float64 {
		nc := min(p.nb, productChunks)
		tensor.ParallelFor(nc, p.chunkRange)
		clear(p.out)
		for c := range p.chunks[:nc] {
			for k, v := range p.chunks[c].acc {
				p.out[k] += float64(v)
			}
		}
		return p.out
	}
	return p
}

// start prepares a product of b vectors and returns V to fill.
func (p *batchedProduct) start(b int) []float32 {
	p.b = b
	p.idx = append(p.idx[:0], make([]int, b)...)
	p.v = grow32(p.v, p.st.K*b)
	p.out = append(p.out[:0], make([]float64, p.st.K*b)...)
	return p.v
}

func (p *batchedProduct) chunkRange(lo, hi int) {
	st, b, K := p.st, p.b, p.st.K
	nc := min(p.nb, productChunks)
	for c := lo; c < hi; c++ {
		ch := &p.chunks[c]
		ch.acc = grow32(ch.acc, K*b)
		clear(ch.acc)
		for j := c * p.nb / nc; j < (c+1)*p.nb/nc; j++ {
			var blk rowBlock
			blk, ch.buf = st.block(0, p.hi, productRows, j, ch.buf)
			// The neurons are the GEMMs' rows (Uᵀ = Vᵀ·P, accᵀ += Uᵀ·Pᵀ):
			// a product costs about its row tiles, so the few neurons
			// still running at the end of a solve take fewer of them than
			// as columns, which are padded to a wider tile.
			n := blk.n
			ch.u = grow32(ch.u, n*b)
			if blk.colMajor {
				tensor.Gemm(false, false, b, n, K, 1, p.v, K, blk.a, n, 0, ch.u, n)
			} else {
				tensor.Gemm(false, true, b, n, K, 1, p.v, K, blk.a, K, 0, ch.u, n)
			}
			for jj, i := range p.idx {
				row := ch.u[jj*n : (jj+1)*n]
				c := p.ct[i*p.ctStride+blk.lo : i*p.ctStride+blk.lo+n]
				for r := range row {
					row[r] *= c[r]
				}
			}
			if blk.colMajor {
				tensor.Gemm(false, true, b, K, n, 1, ch.u, n, blk.a, n, 1, ch.acc, K)
			} else {
				tensor.Gemm(false, false, b, K, n, 1, ch.u, n, blk.a, K, 1, ch.acc, K)
			}
		}
	}
}
