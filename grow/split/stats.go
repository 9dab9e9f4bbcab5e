package split

import (
	"context"
	"fmt"
	"math"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/tensor"
)

// LayerStats are the splitting statistics of one growable layer, gathered
// over a set of mini-batches with BatchNorm frozen (evaluation mode).
//
// Row m is one input vector p of the layer's neurons (a dense input, or
// one im2col patch of a conv), with a trailing 1 when the layer has a
// bias; C[m*Units+i] is neuron i's coefficient g·σ”(z)·b² at that row.
// Neuron i's splitting matrix is then
//
//	S_i = (1/Batches) Σ_m C[m,i] p_m p_mᵀ
//
// (positions summed, batches averaged, g of the batch-mean loss: the
// reference code's convention, METHODS.md §1.2). Nothing D×D is stored:
// S_i v costs O(M·K), which is what makes Lanczos matrix-free.
//
// A dense layer's rows are its inputs, kept in P. A convolution's rows are
// not kept: that would be K = C·k² floats per output position, k² times
// its input. X keeps the input images instead and every pass over the rows
// rebuilds one example's patches at a time (an im2col into a scratch
// buffer that stays in cache), so the statistics take the memory of the
// layer's input and output over the statistics batches, whatever the
// kernel size.
type LayerStats struct {
	Layer int // producer index in the net
	Units int
	K     int  // θ dimension: fan-in (+1 with bias)
	Bias  bool // θ's last coordinate is the bias
	M     int  // rows
	// Pos is the number of rows per example: a convolution's output
	// positions; 1 for a dense layer (0 is read as 1).
	Pos int
	// P holds a dense layer's rows (M×K, row-major); nil for convolutions.
	P []float32
	// X holds a convolution's input, example after example (C×H×W each),
	// and Geom its geometry; the rows of example e are the columns of
	// X_e's im2col matrix.
	X    []float32
	Geom ConvGeom
	C    []float32
	// CT, when set instead of C, holds the same coefficients unit-major:
	// CT[i*M + m] is C[m*Units+i]. Collect's float32 ReLU path
	// (CollectOptions.Fast32) writes them so, contiguous per example and
	// unit as the network lays out z and g, and the batched products read
	// a neuron's coefficients contiguously. Paths that read rows of C
	// (formed matrices, Op) convert once (rowMajor).
	CT []float32
	// Batches is the number of statistics batches.
	Batches int
	// BatchRows[b] is the first row of batch b (len Batches+1), for the
	// stochastic (per-batch) products of the Rayleigh solver.
	BatchRows []int
	// BatchS, when set, replaces X and C: BatchS[b][i·K² : (i+1)·K²] is
	// Σ_m C[m,i] p_m p_mᵀ over batch b's rows (K×K, symmetric). Collect
	// forms these for a convolution whose K² is small against its rows per
	// batch (the first layers), where U·K² floats per batch are far less
	// than its coefficients (rows × U).
	BatchS [][]float64
}

// explicitRowsMax bounds, in floats, the rows of a convolution that
// Collect stores explicitly: small feature maps (the later layers) have few
// rows, and rebuilding them example by example in every product would cost
// more in call overhead than they take in memory. A variable so that tests
// can exercise the rebuilt rows on small layers.
var explicitRowsMax = 1 << 21

// expandSmall replaces a convolution's kept inputs by its explicit rows
// when they take at most explicitRowsMax floats.
func (st *LayerStats) expandSmall() {
	if st.X == nil || st.P != nil || st.M*st.K > explicitRowsMax {
		return
	}
	p := make([]float32, st.M*st.K)
	var buf []float32
	pos := st.pos()
	for j := 0; j < st.M/pos; j++ {
		var blk rowBlock
		blk, buf = st.block(0, st.M, 0, j, buf)
		for k := 0; k < st.K; k++ {
			for r, v := range blk.a[k*pos : (k+1)*pos] {
				p[(blk.lo+r)*st.K+k] = v
			}
		}
	}
	st.P, st.X = p, nil
}

// ConvGeom is a convolution's per-example input shape and window.
type ConvGeom struct{ C, H, W, Kernel, Stride, Pad int }

// rowBlock is a run of n consecutive rows starting at row lo: a holds them
// as an n×K row-major matrix, or, when colMajor, as the K×n im2col
// matrix of one example.
type rowBlock struct {
	a        []float32
	lo, n    int
	colMajor bool
}

// at is element k of the block's row r.
func (b rowBlock) at(r, k, K int) float32 {
	if b.colMajor {
		return b.a[k*b.n+r]
	}
	return b.a[r*K+k]
}

// pos is Pos with 0 read as 1.
func (st *LayerStats) pos() int { return max(st.Pos, 1) }

// blocks is the number of row blocks covering rows [lo, hi), which start
// and end on example boundaries: one per example for a convolution, runs
// of up to rows rows for explicit rows.
func (st *LayerStats) blocks(lo, hi, rows int) int {
	if st.P == nil {
		return (hi - lo) / st.pos()
	}
	return (hi - lo + rows - 1) / rows
}

// block returns block j of [lo, hi) (see blocks), building a convolution's
// patches in buf, which it grows as needed and returns.
func (st *LayerStats) block(lo, hi, rows, j int, buf []float32) (rowBlock, []float32) {
	if st.P != nil {
		r0 := lo + j*rows
		r1 := min(r0+rows, hi)
		return rowBlock{a: st.P[r0*st.K : r1*st.K], lo: r0, n: r1 - r0}, buf
	}
	g, pos := st.Geom, st.pos()
	e := lo/pos + j
	buf = grow32(buf, st.K*pos)
	img := g.C * g.H * g.W
	tensor.Im2Col(buf, st.X[e*img:(e+1)*img], g.C, g.H, g.W, g.Kernel, g.Kernel, g.Stride, g.Pad)
	if st.Bias {
		ones := buf[(st.K-1)*pos : st.K*pos]
		for q := range ones {
			ones[q] = 1
		}
	}
	return rowBlock{a: buf[:st.K*pos], lo: e * pos, n: pos, colMajor: true}, buf
}

// streamForm lets Collect form small convolutions' matrices batch by batch
// (LayerStats.BatchS); a variable so that tests can compare with the
// matrices formed from kept rows.
var streamForm = true

// activationAfter finds the activation that a producer's units feed
// (possibly after a BatchNorm) and the BatchNorm scale b.
func activationAfter(net *nn.Net, li int) (actIdx int, scale []float32, err error) {
	info, err := net.Chain(li)
	if err != nil {
		return 0, nil, err
	}
	for _, j := range info.Followers {
		switch l := net.Layers[j].(type) {
		case *nn.BatchNorm:
			if scale != nil {
				return 0, nil, fmt.Errorf("layer %d: two BatchNorms before the activation", li)
			}
			scale = l.Scale()
		case *nn.Act:
			return j, scale, nil
		default:
			return 0, nil, fmt.Errorf("layer %d: %s between the neurons and their activation", li, l.Spec().Kind)
		}
	}
	return 0, nil, fmt.Errorf("layer %d: no activation follows its neurons", li)
}

// Collect runs the network over the given batches (evaluation mode) and
// gathers the statistics of every layer in layers. It also returns the
// mean loss over the batches.
func Collect(ctx context.Context, net *nn.Net, b *data.Batcher, steps []int, layers []int) ([]*LayerStats, float64, error) {
	return CollectWith(ctx, net, b, steps, layers, CollectOptions{})
}

// CollectOptions tune Collect.
type CollectOptions struct {
	// Pairs forms small convolutions' per-batch matrices (LayerStats.BatchS)
	// from the rows' pairwise products, S_i = Cᵀ·[p_a p_b]_{a≤b}: half the
	// flops of Pᵀ·(c_i⊙P) for all neurons when K+1 ≤ 2·Units, summed in a
	// different order (the matrices differ at float32 rounding).
	Pairs bool
	// Fast32 computes the ReLU (and leaky ReLU) surrogate's σ″ and the
	// coefficients in float32 with a float32 exponential (relative error
	// about 1e-7 against the float64 path).
	Fast32 bool
}

// CollectWith is Collect with options.
func CollectWith(ctx context.Context, net *nn.Net, b *data.Batcher, steps []int, layers []int, o CollectOptions) ([]*LayerStats, float64, error) {
	type plan struct {
		stream bool // form per-batch matrices (LayerStats.BatchS)
		st     *LayerStats
		act    int
		scale  []float32
		d2     func(float64) float64
		// relu: the surrogate σ″ = beta·e/(1+e)², e = exp(−|beta·z|),
		// times mult (1 − slope for leaky ReLU), for Fast32.
		relu       bool
		beta, mult float32
	}
	plans := make([]plan, len(layers))
	for k, li := range layers {
		act, scale, err := activationAfter(net, li)
		if err != nil {
			return nil, 0, err
		}
		p := net.Layers[li].(nn.Producer)
		st := &LayerStats{Layer: li, Units: p.Units(), K: p.FanIn(), Bias: p.BiasParam() != nil}
		if st.Bias {
			st.K++
		}
		a := net.Layers[act].(*nn.Act).A
		plans[k] = plan{st: st, act: act, scale: scale, d2: a.SplitD2}
		if o.Fast32 && (a.Kind == nn.ReLU || a.Kind == nn.LeakyReLU) {
			plans[k].relu, plans[k].beta, plans[k].mult = true, float32(a.SurrogateBeta), 1
			if a.Kind == nn.LeakyReLU {
				plans[k].mult = float32(1 - a.Beta)
			}
		}
	}
	var (
		x     *tensor.Tensor
		y     []int
		ce    nn.SoftmaxCE
		loss  float64
		count int
	)
	// Every example contributes the same number of rows to a layer, so the
	// buffers are sized once (at the first batch) instead of grown.
	examples := 0
	for _, s := range steps {
		examples += len(b.Indices(s))
	}
	// Only the layers' output gradients are needed, not the parameters'.
	defer func(v bool) { net.NoParamGrad = v }(net.NoParamGrad)
	net.NoParamGrad = true
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		x, y = b.Batch(s, x, y)
		logits := net.Forward(x, false)
		loss += ce.Forward(logits, y) * float64(len(y))
		count += len(y)
		net.Backward(ce.Backward())
		n := len(y)
		for k, pl := range plans {
			st := pl.st
			st.BatchRows = append(st.BatchRows, st.M)
			z := net.Output(pl.act - 1) // pre-activation (after BN)
			g := net.Grad(pl.act)       // dL/d(activation output)
			units := st.Units
			pos := z.Len() / (n * units)
			rows := n * pos
			st.Pos = pos
			if st.M == 0 {
				// Form each batch's matrices right away, keeping neither
				// its inputs nor its coefficients, where that is cheap
				// and smaller. Decided once: all batches alike.
				_, conv := net.Layers[st.Layer].(*nn.Conv2D)
				plans[k].stream = streamForm && conv && st.FormCheaper() && rows > 2*st.K*st.K
			}
			stream := plans[k].stream
			m0 := st.M
			// Coefficients go to C, or unit-major to CT with rows
			// ctStride apart (all rows of the statistics, or of one
			// streamed batch).
			var dstC []float32
			ctStride := examples * pos
			switch {
			case pl.relu && stream:
				m0, ctStride = 0, rows
				st.CT = grow32(st.CT, rows*units)
			case pl.relu:
				if st.M == 0 {
					st.CT = make([]float32, examples*pos*units)
				}
			case stream:
				m0 = 0 // the batch goes to the start of X and C, then away
				st.C = grow32(st.C, rows*units)
			case st.M == 0:
				st.C = make([]float32, examples*pos*units)
			}
			if !pl.relu {
				st.C = grow32(st.C, (m0+rows)*units)
				dstC = st.C[m0*units:]
			}
			switch l := net.Layers[st.Layer].(type) {
			case *nn.Dense:
				if st.M == 0 {
					st.P = make([]float32, examples*st.K)
				}
				st.P = grow32(st.P, (st.M+rows)*st.K)
				dstP := st.P[st.M*st.K:]
				in := l.Input()
				d := l.FanIn()
				for e := 0; e < n; e++ {
					copy(dstP[e*st.K:e*st.K+d], in.Data[e*d:(e+1)*d])
					if st.Bias {
						dstP[e*st.K+d] = 1
					}
				}
			case *nn.Conv2D:
				sp := l.Spec()
				st.Geom = ConvGeom{C: sp.In[0], H: sp.In[1], W: sp.In[2], Kernel: sp.Kernel, Stride: sp.Stride, Pad: sp.Pad}
				in := x
				if st.Layer > 0 {
					in = net.Output(st.Layer - 1)
				}
				img := sp.In[0] * sp.In[1] * sp.In[2]
				if st.M == 0 && !stream {
					st.X = make([]float32, examples*img)
				}
				e0 := m0 / pos
				st.X = grow32(st.X, (e0+n)*img)
				copy(st.X[e0*img:(e0+n)*img], in.Data[:n*img])
			default:
				return nil, 0, fmt.Errorf("layer %d: %s has no splitting statistics", st.Layer, l.Spec().Kind)
			}
			// Coefficients; z and g are laid out [n, units, pos].
			if pl.relu {
				reluCoefficients(st.CT, ctStride, m0, z.Data, g.Data, n, units, pos, pl.scale, pl.beta, pl.mult)
			}
			for e := 0; e < n && !pl.relu; e++ {
				for i := 0; i < units; i++ {
					bb := float64(1)
					if pl.scale != nil {
						bb = float64(pl.scale[i]) * float64(pl.scale[i])
					}
					base := (e*units + i) * pos
					for q := 0; q < pos; q++ {
						gv := g.Data[base+q]
						if gv == 0 {
							// Rows a max pool did not pick have no gradient:
							// skip σ″ (an exponential). gv·0 keeps the sign
							// of the zero the product would have had.
							dstC[(e*pos+q)*units+i] = gv * 0
							continue
						}
						zv := float64(z.Data[base+q])
						dstC[(e*pos+q)*units+i] = float32(float64(gv) * pl.d2(zv) * bb)
					}
				}
			}
			if stream {
				view := *st
				view.M, view.P, view.BatchS = rows, nil, nil
				all := make([]int, units)
				for i := range all {
					all[i] = i
				}
				var bs []float64
				if o.Pairs && st.K+1 <= 2*units {
					bs = view.formPairs()
				} else {
					sums := view.formSums(all)
					bs = make([]float64, 0, units*st.K*st.K)
					for i := range all {
						bs = append(bs, symmetric(sums, st.K, units, i, 1)...)
					}
				}
				st.BatchS = append(st.BatchS, bs)
			}
			st.M += rows
			st.Batches++
		}
	}
	net.ZeroGrad()
	out := make([]*LayerStats, len(plans))
	for k, pl := range plans {
		pl.st.BatchRows = append(pl.st.BatchRows, pl.st.M)
		if pl.st.BatchS != nil {
			pl.st.X, pl.st.C, pl.st.CT = nil, nil, nil
		}
		pl.st.expandSmall()
		out[k] = pl.st
	}
	if count == 0 {
		return nil, 0, fmt.Errorf("no batches for splitting statistics")
	}
	return out, loss / float64(count), nil
}

func grow32(s []float32, n int) []float32 {
	if cap(s) >= n {
		return s[:n]
	}
	t := make([]float32, n, max(n, 2*cap(s)))
	copy(t, s)
	return t
}

// rowMajor makes C from CT (and drops CT) for the paths that read rows of
// coefficients. It is called before any concurrent use (Solve, Op,
// BatchOp, the forming functions).
func (st *LayerStats) rowMajor() {
	if st.C != nil || st.CT == nil {
		return
	}
	u, M := st.Units, st.M
	st.C = make([]float32, M*u)
	for i := 0; i < u; i++ {
		for m, v := range st.CT[i*M : (i+1)*M] {
			st.C[m*u+i] = v
		}
	}
	st.CT = nil
}

// Operator is neuron i's splitting matrix as a matrix-free linear map.
type Operator struct {
	st *LayerStats
	i  int
	// Row range (all rows by default; one batch for stochastic products)
	// and the batches [b0, b1) it spans.
	lo, hi, b0, b1 int
	scale          float64
}

// Op returns S_i as an operator over all rows.
func (st *LayerStats) Op(i int) *Operator {
	st.rowMajor()
	return &Operator{st: st, i: i, lo: 0, hi: st.M, b0: 0, b1: st.Batches, scale: 1 / float64(st.Batches)}
}

// BatchOp returns batch b's unbiased estimate of S_i.
func (st *LayerStats) BatchOp(i, b int) *Operator {
	st.rowMajor()
	return &Operator{st: st, i: i, lo: st.BatchRows[b], hi: st.BatchRows[b+1], b0: b, b1: b + 1, scale: 1}
}

func (o *Operator) Dim() int { return o.st.K }

// MulVec computes dst = S v = scale Σ_m c_m (p_m·v) p_m in float64.
func (o *Operator) MulVec(dst, v []float64) {
	st, K := o.st, o.st.K
	clear(dst)
	if st.BatchS != nil {
		for b := o.b0; b < o.b1; b++ {
			s := st.BatchS[b][o.i*K*K : (o.i+1)*K*K]
			for a := range K {
				var d float64
				for c, x := range s[a*K : (a+1)*K] {
					d += x * v[c]
				}
				dst[a] += d
			}
		}
		for k := range dst {
			dst[k] *= o.scale
		}
		return
	}
	var buf []float32
	nb := st.blocks(o.lo, o.hi, 256)
	for j := 0; j < nb; j++ {
		var blk rowBlock
		blk, buf = st.block(o.lo, o.hi, 256, j, buf)
		for r := 0; r < blk.n; r++ {
			c := float64(st.C[(blk.lo+r)*st.Units+o.i])
			if c == 0 {
				continue
			}
			var d float64
			for k := range K {
				d += float64(blk.at(r, k, K)) * v[k]
			}
			d *= c
			for k := range K {
				dst[k] += d * float64(blk.at(r, k, K))
			}
		}
	}
	for k := range dst {
		dst[k] *= o.scale
	}
}

// FormCheaper reports whether forming every S_i explicitly (2·M·K² flops
// per neuron, in wide GEMMs) costs less than the batched matrix-free
// Lanczos products (4·M·K flops per neuron and sweep, also GEMMs): forming
// wins when K/2 is below the few dozen sweeps a solve takes, i.e. for
// small K (early conv layers, small dense inputs).
func (st *LayerStats) FormCheaper() bool {
	return st.K <= 96
}

// DenseMatrix forms S_i explicitly (K×K, row-major) — the reference
// method's cost, O(M·K²) per neuron.
func (st *LayerStats) DenseMatrix(i int) []float64 {
	return st.form([]int{i})[0]
}

// DenseMatrices forms every neuron's S_i at once (each K×K, row-major):
// with W = [c_1⊙P | … | c_U⊙P] for a block of rows, Pᵀ·W holds all U
// matrices side by side — one GEMM of width K·U per block instead of U
// skinny ones.
func (st *LayerStats) DenseMatrices() [][]float64 {
	units := make([]int, st.Units)
	for i := range units {
		units[i] = i
	}
	return st.form(units)
}

// form forms S_i for the listed neurons.
func (st *LayerStats) form(units []int) [][]float64 {
	K := st.K
	inv := 1 / float64(st.Batches)
	out := make([][]float64, len(units))
	if st.BatchS != nil {
		for ii, i := range units {
			s := make([]float64, K*K)
			for _, bs := range st.BatchS {
				for k, v := range bs[i*K*K : (i+1)*K*K] {
					s[k] += v
				}
			}
			for k := range s {
				s[k] *= inv
			}
			out[ii] = s
		}
		return out
	}
	acc := st.formSums(units)
	for ii := range out {
		out[ii] = symmetric(acc, K, len(units), ii, inv)
	}
	return out
}

// symmetric is neuron ii's matrix out of formSums' result, symmetrised
// and scaled.
func symmetric(acc []float64, K, U, ii int, scale float64) []float64 {
	KU := K * U
	s := make([]float64, K*K)
	for a := 0; a < K; a++ {
		for b := a; b < K; b++ {
			v := (acc[a*KU+ii*K+b] + acc[b*KU+ii*K+a]) / 2 * scale
			s[a*K+b], s[b*K+a] = v, v
		}
	}
	return s
}

// formSums returns Σ_m C[m,i] p_m p_mᵀ for the listed neurons side by side
// (K × K·len(units), row-major). Each block of rows (an example's
// patches, or up to a few thousand explicit rows) is summed in float32
// inside one GEMM, the blocks in float64, in a fixed order.
func (st *LayerStats) formSums(units []int) []float64 {
	st.rowMajor()
	K, U := st.K, len(units)
	KU := K * U
	rows := max(64, min(2048, (1<<21)/KU))
	nb := st.blocks(0, st.M, rows)
	var w, buf, pt []float32
	part := make([]float32, K*KU)
	acc := make([]float64, K*KU)
	for j := 0; j < nb; j++ {
		var blk rowBlock
		blk, buf = st.block(0, st.M, rows, j, buf)
		n := blk.n
		w = grow32(w, n*KU)
		rowsA := blk.a // the block's rows, n×K row-major
		if blk.colMajor {
			// Transpose an example's patches once (reading each patch row
			// contiguously) instead of gathering a strided column per unit.
			pt = grow32(pt, n*K)
			for a := 0; a < K; a++ {
				for r, v := range blk.a[a*n : (a+1)*n] {
					pt[r*K+a] = v
				}
			}
			rowsA = pt
		}
		tensor.ParallelFor(n, func(r0, r1 int) {
			for r := r0; r < r1; r++ {
				c := st.C[(blk.lo+r)*st.Units : (blk.lo+r+1)*st.Units]
				row := w[r*KU : (r+1)*KU]
				src := rowsA[r*K : (r+1)*K]
				for ii, i := range units {
					ci := c[i]
					dst := row[ii*K : (ii+1)*K]
					if ci == 0 {
						// Rows a max pool did not pick (most rows of a
						// pooled layer) add nothing.
						clear(dst)
						continue
					}
					for a, pa := range src {
						dst[a] = ci * pa
					}
				}
			}
		})
		if blk.colMajor {
			tensor.Gemm(false, false, K, KU, n, 1, blk.a, n, w, KU, 0, part, KU)
		} else {
			tensor.Gemm(true, false, K, KU, n, 1, blk.a, K, w, KU, 0, part, KU)
		}
		for k, v := range part {
			acc[k] += float64(v)
		}
	}
	return acc
}

// reluCoefficients writes the coefficients g·σ″(z)·b² of a ReLU layer's
// rows in float32 (CollectOptions.Fast32) to ct, unit-major with rows
// stride apart, from row m0 on; z and g are [n, units, pos], so each
// example's unit is one contiguous run in and out.
func reluCoefficients(ct []float32, stride, m0 int, z, g []float32, n, units, pos int, scale []float32, beta, mult float32) {
	for e := 0; e < n; e++ {
		for i := 0; i < units; i++ {
			bb := mult * beta
			if scale != nil {
				bb *= scale[i] * scale[i]
			}
			base := (e*units + i) * pos
			at := i*stride + m0 + e*pos
			tensor.SoftplusD2Times(ct[at:at+pos], z[base:base+pos], g[base:base+pos], beta, bb)
		}
	}
}

// formPairs returns every neuron's Σ_m C[m,i] p_m p_mᵀ (K×K each, side
// by side) from the rows' pairwise products: for a run of examples,
// Qᵀ[(a,b), m] = p_ma·p_mb (a ≤ b) is built from the patches' rows and
// the upper triangles come out of one GEMM, Cᵀ·Q (Units × K(K+1)/2),
// summed in float32 per run and in float64 over runs, in a fixed order.
func (st *LayerStats) formPairs() []float64 {
	K, U, pos := st.K, st.Units, st.pos()
	np := K * (K + 1) / 2
	group := max(1, 2048/pos) // examples per GEMM
	examples := st.M / pos
	var buf, qt, part []float32
	qt = grow32(qt, np*group*pos)
	part = grow32(part, U*np)
	acc := make([]float64, U*np)
	for e0 := 0; e0 < examples; e0 += group {
		g := min(group, examples-e0)
		n := g * pos
		for e := 0; e < g; e++ {
			var blk rowBlock
			blk, buf = st.block(0, st.M, 0, e0+e, buf)
			// blk.a is K×pos, column-major rows: row a is contiguous.
			pi := 0
			for a := 0; a < K; a++ {
				ra := blk.a[a*pos : (a+1)*pos]
				for b := a; b < K; b++ {
					rb := blk.a[b*pos : (b+1)*pos]
					tensor.Mul(qt[pi*n+e*pos:pi*n+(e+1)*pos], ra, rb)
					pi++
				}
			}
		}
		if st.CT != nil {
			// U×n, rows st.M apart: the same products in the same order.
			tensor.Gemm(false, true, U, np, n, 1, st.CT[e0*pos:], st.M, qt, n, 0, part, np)
		} else {
			c := st.C[e0*pos*U : (e0*pos+n)*U] // n×U, row-major
			tensor.Gemm(true, true, U, np, n, 1, c, U, qt, n, 0, part, np)
		}
		for k, v := range part {
			acc[k] += float64(v)
		}
	}
	out := make([]float64, U*K*K)
	for i := 0; i < U; i++ {
		s := out[i*K*K : (i+1)*K*K]
		pi := 0
		for a := 0; a < K; a++ {
			for b := a; b < K; b++ {
				v := acc[i*np+pi]
				s[a*K+b], s[b*K+a] = v, v
				pi++
			}
		}
	}
	return out
}

// Quad returns vᵀ S_i v.
func (st *LayerStats) Quad(i int, v []float64) float64 {
	o := st.Op(i)
	sv := make([]float64, len(v))
	o.MulVec(sv, v)
	var q float64
	for k := range v {
		q += v[k] * sv[k]
	}
	if math.IsNaN(q) {
		return 0
	}
	return q
}
