package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/nadir-ml/nadir/tensor"
)

// BatchNorm normalises each feature of (N, C) batches, or each channel of
// (N, C, H, W) batches over N·H·W values, then scales by γ and shifts by β,
// following PyTorch: in training the batch mean and biased variance
// normalise, and the running statistics move towards the batch mean and the
// unbiased variance with weight Momentum; in evaluation the running
// statistics normalise.
//
// RunMean and RunVar are state, not parameters: optimisers never see them,
// checkpoints store them (Buffers), and surgery resizes them with γ and β.
// Statistics are accumulated in float64.
type BatchNorm struct {
	Gamma, Beta     *Param
	RunMean, RunVar []float32
	Eps, Momentum   float64

	in       []int // (C) or (C, H, W)
	train    bool  // mode of the last Forward
	n, hw    int   // batch and plane size of the last Forward
	x, dy    []float32
	xhat, y  *tensor.Tensor
	dx       *tensor.Tensor
	invStd   []float32 // per channel, of the last Forward
	fwd, bwd func(lo, hi int)
}

// NewBatchNorm normalises inputs of per-example shape in = (C) or (C, H, W),
// with γ = 1, β = 0, running mean 0 and variance 1, eps 1e-5 and momentum
// 0.1.
func NewBatchNorm(in []int) (*BatchNorm, error) {
	if (len(in) != 1 && len(in) != 3) || slices.ContainsFunc(in, func(d int) bool { return d < 1 }) {
		return nil, fmt.Errorf("batchnorm: input shape %v is not (C) or (C,H,W) with positive sizes", in)
	}
	c := in[0]
	b := &BatchNorm{
		Gamma: NewParam("gamma", c, 1), Beta: NewParam("beta", c, 1),
		RunMean: make([]float32, c), RunVar: make([]float32, c),
		Eps: 1e-5, Momentum: 0.1,
		in: slices.Clone(in),
	}
	b.Gamma.NoDecay, b.Beta.NoDecay = true, true
	for i := range c {
		b.Gamma.Data[i] = 1
		b.RunVar[i] = 1
	}
	b.fwd, b.bwd = b.forwardChannels, b.backwardChannels
	return b, nil
}

func init() {
	builders["batchnorm"] = func(s LayerSpec, _ *rand.Rand) (Layer, error) {
		b, err := NewBatchNorm(s.In)
		if err != nil {
			return nil, err
		}
		if s.Eps != 0 {
			b.Eps = s.Eps
		}
		if s.Moment != 0 {
			b.Momentum = s.Moment
		}
		return b, nil
	}
}

func (b *BatchNorm) Spec() LayerSpec {
	return LayerSpec{Kind: "batchnorm", In: slices.Clone(b.in), Eps: b.Eps, Moment: b.Momentum}
}

// OutShape equals the input shape.
func (b *BatchNorm) OutShape() []int { return slices.Clone(b.in) }

// SetIn records the per-example input shape; its channel count must agree
// with γ, which surgery resizes.
func (b *BatchNorm) SetIn(in []int) { b.in = append(b.in[:0], in...) }

// Params is γ, β.
func (b *BatchNorm) Params() []*Param { return []*Param{b.Gamma, b.Beta} }

// Buffers are the running statistics, for checkpoints.
func (b *BatchNorm) Buffers() []*[]float32 { return []*[]float32{&b.RunMean, &b.RunVar} }

// Scale returns b_c = γ_c/sqrt(RunVar_c + Eps), the factor by which the
// layer multiplies channel c in evaluation mode (the splitting statistics
// fold it into the neuron).
func (b *BatchNorm) Scale() []float32 {
	s := make([]float32, b.Gamma.Rows)
	for c := range s {
		s[c] = float32(float64(b.Gamma.Data[c]) / math.Sqrt(float64(b.RunVar[c])+b.Eps))
	}
	return s
}

// Forward normalises x (N, in...) with batch statistics when train is true
// (updating the running statistics) and with the running statistics
// otherwise.
func (b *BatchNorm) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	c := b.in[0]
	if b.Gamma.Rows != c || b.Beta.Rows != c || len(b.RunMean) != c || len(b.RunVar) != c {
		panic(fmt.Sprintf("nn: batchnorm has %d channels of parameters, input shape %v", b.Gamma.Rows, b.in))
	}
	if len(x.Shape) != len(b.in)+1 || !slices.Equal(x.Shape[1:], b.in) {
		panic(fmt.Sprintf("nn: batchnorm expects input (N,%v), got %v", b.in, x.Shape))
	}
	b.n, b.hw, b.train = x.Shape[0], tensor.Numel(b.in[1:]), train
	b.x = x.Data[:x.Len()]
	b.xhat = tensor.Reshape(b.xhat, x.Shape...)
	b.y = tensor.Reshape(b.y, x.Shape...)
	b.invStd = resize(b.invStd, c)
	tensor.ParallelFor(c, b.fwd)
	b.x = nil
	return b.y
}

// forwardChannels handles channels [lo, hi); each channel's statistics are
// reduced by one goroutine in a fixed order.
func (b *BatchNorm) forwardChannels(lo, hi int) {
	c, hw := b.in[0], b.hw
	m := float64(b.n * hw)
	for ch := lo; ch < hi; ch++ {
		var mean, inv float64
		if b.train {
			var s float64
			for i := 0; i < b.n; i++ {
				for _, v := range b.x[(i*c+ch)*hw : (i*c+ch+1)*hw] {
					s += float64(v)
				}
			}
			mean = s / m
			var ss float64
			for i := 0; i < b.n; i++ {
				for _, v := range b.x[(i*c+ch)*hw : (i*c+ch+1)*hw] {
					d := float64(v) - mean
					ss += d * d
				}
			}
			variance := ss / m
			inv = 1 / math.Sqrt(variance+b.Eps)
			unbiased := variance
			if m > 1 {
				unbiased = ss / (m - 1)
			}
			mo := b.Momentum
			b.RunMean[ch] = float32((1-mo)*float64(b.RunMean[ch]) + mo*mean)
			b.RunVar[ch] = float32((1-mo)*float64(b.RunVar[ch]) + mo*unbiased)
		} else {
			mean = float64(b.RunMean[ch])
			inv = 1 / math.Sqrt(float64(b.RunVar[ch])+b.Eps)
		}
		b.invStd[ch] = float32(inv)
		g, be := float64(b.Gamma.Data[ch]), float64(b.Beta.Data[ch])
		for i := 0; i < b.n; i++ {
			off := (i*c + ch) * hw
			xs := b.x[off : off+hw]
			xh := b.xhat.Data[off : off+hw]
			ys := b.y.Data[off : off+hw]
			for j, v := range xs {
				h := (float64(v) - mean) * inv
				xh[j] = float32(h)
				ys[j] = float32(g*h + be)
			}
		}
	}
}

// Backward adds dL/dγ and dL/dβ into their Grad and returns dL/dx. In
// training mode the batch statistics depend on every input, so each input's
// gradient involves its whole channel:
// dx = γ·invstd/M · (M·dy − Σdy − x̂·Σ(dy·x̂)).
func (b *BatchNorm) Backward(dy *tensor.Tensor) *tensor.Tensor {
	if b.xhat == nil {
		panic("nn: batchnorm Backward before Forward")
	}
	if dy.Len() != b.xhat.Len() {
		panic(fmt.Sprintf("nn: batchnorm output gradient has shape %v, output is %v", dy.Shape, b.xhat.Shape))
	}
	b.dy = dy.Data[:dy.Len()]
	b.dx = tensor.Reshape(b.dx, b.xhat.Shape...)
	tensor.ParallelFor(b.in[0], b.bwd)
	b.dy = nil
	return b.dx
}

func (b *BatchNorm) backwardChannels(lo, hi int) {
	c, hw := b.in[0], b.hw
	m := float64(b.n * hw)
	for ch := lo; ch < hi; ch++ {
		var sdy, sdyx float64
		for i := 0; i < b.n; i++ {
			off := (i*c + ch) * hw
			xh := b.xhat.Data[off : off+hw]
			for j, d := range b.dy[off : off+hw] {
				sdy += float64(d)
				sdyx += float64(d) * float64(xh[j])
			}
		}
		b.Gamma.Grad[ch] += float32(sdyx)
		b.Beta.Grad[ch] += float32(sdy)
		k := float64(b.Gamma.Data[ch]) * float64(b.invStd[ch])
		for i := 0; i < b.n; i++ {
			off := (i*c + ch) * hw
			xh := b.xhat.Data[off : off+hw]
			ds := b.dy[off : off+hw]
			dx := b.dx.Data[off : off+hw]
			if !b.train {
				kf := float32(k)
				for j, d := range ds {
					dx[j] = kf * d
				}
				continue
			}
			mdy, mdyx := sdy/m, sdyx/m
			for j, d := range ds {
				dx[j] = float32(k * (float64(d) - mdy - float64(xh[j])*mdyx))
			}
		}
	}
}

// FollowAppend adds one channel per entry of like, copying γ, β and the
// running statistics of channel like[i], or, for like[i] < 0, starting from
// γ = 1, β = 0, mean 0, variance 1.
func (b *BatchNorm) FollowAppend(like []int) {
	g := make([][]float32, len(like))
	be := make([][]float32, len(like))
	for i, l := range like {
		if l >= 0 {
			g[i], be[i] = []float32{b.Gamma.Data[l]}, []float32{b.Beta.Data[l]}
			b.RunMean = append(b.RunMean, b.RunMean[l])
			b.RunVar = append(b.RunVar, b.RunVar[l])
			continue
		}
		g[i] = []float32{1}
		b.RunMean = append(b.RunMean, 0)
		b.RunVar = append(b.RunVar, 1)
	}
	b.Gamma.AppendRows(g)
	b.Beta.AppendRows(be)
	b.in[0] = b.Gamma.Rows
}

// FollowRemove drops the listed channels.
func (b *BatchNorm) FollowRemove(idx []int) {
	b.Gamma.RemoveRows(idx)
	b.Beta.RemoveRows(idx)
	drop := make([]bool, len(b.RunMean))
	for _, i := range idx {
		drop[i] = true
	}
	k := 0
	for i := range b.RunMean {
		if !drop[i] {
			b.RunMean[k], b.RunVar[k] = b.RunMean[i], b.RunVar[i]
			k++
		}
	}
	b.RunMean, b.RunVar = b.RunMean[:k], b.RunVar[:k]
	b.in[0] = b.Gamma.Rows
}
