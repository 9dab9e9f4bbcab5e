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
// Row m of P is one input vector p of the layer's neurons (a dense input,
// or one im2col patch of a conv), with a trailing 1 when the layer has a
// bias; C[m*Units+i] is neuron i's coefficient g·σ”(z)·b² at that row.
// Neuron i's splitting matrix is then
//
//	S_i = (1/Batches) Σ_m C[m,i] p_m p_mᵀ
//
// (positions summed, batches averaged, g of the batch-mean loss: the
// reference code's convention, METHODS.md §1.2). Nothing D×D is stored:
// S_i v costs O(M·K), which is what makes Lanczos matrix-free.
type LayerStats struct {
	Layer   int // producer index in the net
	Units   int
	K       int  // θ dimension: fan-in (+1 with bias)
	Bias    bool // θ's last coordinate is the bias
	M       int  // rows
	P       []float32
	C       []float32
	Batches int
	// BatchRows[b] is the first row of batch b (len Batches+1), for the
	// stochastic (per-batch) products of the Rayleigh solver.
	BatchRows []int
}

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
	type plan struct {
		st    *LayerStats
		act   int
		scale []float32
		d2    func(float64) float64
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
	}
	var (
		x     *tensor.Tensor
		y     []int
		ce    nn.SoftmaxCE
		loss  float64
		count int
		patch []float32
	)
	// Every example contributes the same number of rows to a layer, so the
	// row buffers are sized once (after the first batch) instead of grown.
	examples := 0
	for _, s := range steps {
		examples += len(b.Indices(s))
	}
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
		for _, pl := range plans {
			st := pl.st
			st.BatchRows = append(st.BatchRows, st.M)
			z := net.Output(pl.act - 1) // pre-activation (after BN)
			g := net.Grad(pl.act)       // dL/d(activation output)
			units := st.Units
			pos := z.Len() / (n * units)
			rows := n * pos
			if st.M == 0 {
				st.P = make([]float32, examples*pos*st.K)
				st.C = make([]float32, examples*pos*units)
			}
			st.P = grow32(st.P, (st.M+rows)*st.K)
			st.C = grow32(st.C, (st.M+rows)*units)
			dstP := st.P[st.M*st.K:]
			dstC := st.C[st.M*units:]
			switch l := net.Layers[st.Layer].(type) {
			case *nn.Dense:
				in := l.Input()
				d := l.FanIn()
				for e := 0; e < n; e++ {
					copy(dstP[e*st.K:e*st.K+d], in.Data[e*d:(e+1)*d])
					if st.Bias {
						dstP[e*st.K+d] = 1
					}
				}
			case *nn.Conv2D:
				fan := l.FanIn()
				for e := 0; e < n; e++ {
					patch = l.Patches(patch, e) // fan × pos
					for q := 0; q < pos; q++ {
						row := dstP[(e*pos+q)*st.K:]
						for k := 0; k < fan; k++ {
							row[k] = patch[k*pos+q]
						}
						if st.Bias {
							row[fan] = 1
						}
					}
				}
			default:
				return nil, 0, fmt.Errorf("layer %d: %s has no splitting statistics", st.Layer, l.Spec().Kind)
			}
			// Coefficients; z and g are laid out [n, units, pos].
			for e := 0; e < n; e++ {
				for i := 0; i < units; i++ {
					bb := float64(1)
					if pl.scale != nil {
						bb = float64(pl.scale[i]) * float64(pl.scale[i])
					}
					base := (e*units + i) * pos
					for q := 0; q < pos; q++ {
						zv := float64(z.Data[base+q])
						dstC[(e*pos+q)*units+i] = float32(float64(g.Data[base+q]) * pl.d2(zv) * bb)
					}
				}
			}
			st.M += rows
			st.Batches++
		}
	}
	net.ZeroGrad()
	out := make([]*LayerStats, len(plans))
	for k, pl := range plans {
		pl.st.BatchRows = append(pl.st.BatchRows, pl.st.M)
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

// Operator is neuron i's splitting matrix as a matrix-free linear map.
type Operator struct {
	st *LayerStats
	i  int
	// Row range (all rows by default; one batch for stochastic products).
	lo, hi int
	scale  float64
}

// Op returns S_i as an operator over all rows.
func (st *LayerStats) Op(i int) *Operator {
	return &Operator{st: st, i: i, lo: 0, hi: st.M, scale: 1 / float64(st.Batches)}
}

// BatchOp returns batch b's unbiased estimate of S_i.
func (st *LayerStats) BatchOp(i, b int) *Operator {
	return &Operator{st: st, i: i, lo: st.BatchRows[b], hi: st.BatchRows[b+1], scale: 1}
}

func (o *Operator) Dim() int { return o.st.K }

// MulVec computes dst = S v = scale Σ_m c_m (p_m·v) p_m in float64.
func (o *Operator) MulVec(dst, v []float64) {
	st, K := o.st, o.st.K
	clear(dst)
	for m := o.lo; m < o.hi; m++ {
		c := float64(st.C[m*st.Units+o.i])
		if c == 0 {
			continue
		}
		p := st.P[m*K : (m+1)*K]
		var d float64
		for k, pv := range p {
			d += float64(pv) * v[k]
		}
		d *= c
		for k, pv := range p {
			dst[k] += d * float64(pv)
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
// method's cost, O(M·K²) per neuron — summing float32 block products in
// float64.
func (st *LayerStats) DenseMatrix(i int) []float64 {
	K := st.K
	s := make([]float64, K*K)
	const blk = 256
	w := make([]float32, blk*K)
	part := make([]float32, K*K)
	for lo := 0; lo < st.M; lo += blk {
		hi := min(lo+blk, st.M)
		nb := hi - lo
		for m := lo; m < hi; m++ {
			c := st.C[m*st.Units+i]
			src := st.P[m*K : (m+1)*K]
			dst := w[(m-lo)*K : (m-lo+1)*K]
			for k, v := range src {
				dst[k] = c * v
			}
		}
		tensor.Gemm(true, false, K, K, nb, 1, w, K, st.P[lo*K:], K, 0, part, K)
		for k, v := range part {
			s[k] += float64(v)
		}
	}
	inv := 1 / float64(st.Batches)
	for a := 0; a < K; a++ {
		for b := a; b < K; b++ {
			v := (s[a*K+b] + s[b*K+a]) / 2 * inv
			s[a*K+b], s[b*K+a] = v, v
		}
	}
	return s
}

// DenseMatrices forms every neuron's S_i at once (each K×K, row-major):
// with W = [c_1⊙P | … | c_U⊙P] for a block of rows, Pᵀ·W holds all U
// matrices side by side — one GEMM of width K·U per block instead of U
// skinny ones. Blocks are summed in float32 inside the GEMM and across
// blocks in float64.
func (st *LayerStats) DenseMatrices() [][]float64 {
	K, U := st.K, st.Units
	KU := K * U
	blk := max(64, min(2048, (1<<21)/KU))
	w := make([]float32, blk*KU)
	part := make([]float32, K*KU)
	acc := make([]float64, K*KU)
	for lo := 0; lo < st.M; lo += blk {
		hi := min(lo+blk, st.M)
		nb := hi - lo
		tensor.ParallelFor(nb, func(r0, r1 int) {
			for r := r0; r < r1; r++ {
				p := st.P[(lo+r)*K : (lo+r+1)*K]
				c := st.C[(lo+r)*U : (lo+r+1)*U]
				row := w[r*KU : (r+1)*KU]
				for i, ci := range c {
					dst := row[i*K : (i+1)*K]
					for a, pa := range p {
						dst[a] = ci * pa
					}
				}
			}
		})
		tensor.Gemm(true, false, K, KU, nb, 1, st.P[lo*K:], K, w, KU, 0, part, KU)
		for i, v := range part {
			acc[i] += float64(v)
		}
	}
	inv := 1 / float64(st.Batches)
	out := make([][]float64, U)
	for i := range out {
		s := make([]float64, K*K)
		for a := 0; a < K; a++ {
			for b := a; b < K; b++ {
				v := (acc[a*KU+i*K+b] + acc[b*KU+i*K+a]) / 2 * inv
				s[a*K+b], s[b*K+a] = v, v
			}
		}
		out[i] = s
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
