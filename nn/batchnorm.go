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

	in    []int // (C) or (C, H, W)
	train bool  // mode of the last Forward
	n, hw int   // batch and plane size of the last Forward
	// x is the last Forward's input. Backward of an (N,C,H,W) batch
	// reads it (x̂ = (x − mean)·invStd is never stored), so, as with Act,
	// the input must not change between Forward and Backward.
	x, dy        []float32
	xhat         *tensor.Tensor // x̂ of (N,C) batches
	y, dx        *tensor.Tensor
	relu         []float32  // ReLU of y, written with it (see forwardReLU)
	pool         *MaxPool2D // pools relu plane by plane, or nil
	mean, invStd []float32  // per channel, as the last Forward normalised
	acc          []float64  // per-channel sums of (N,C) batches
	coef         []float32  // per-channel backward coefficients of (N,C) batches
	part         []float64  // per-plane sums of (N,C,H,W) batches, image by image
	// Method values bound once, so that ParallelFor gets no new closure
	// per call.
	stats, norm, dsums, dnorm func(lo, hi int)
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
	b.stats, b.norm, b.dsums, b.dnorm = b.statsImages, b.normImages, b.gradSumsImages, b.gradImages
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
//
// (N,C,H,W) batches take two passes split over goroutines by image, each
// reading memory in order: Σx and Σx² (float64) per plane, added per
// channel in image order (fixed by the batch alone), then the vectorised
// y = a·x + b with a = γ·invstd and b = β − a·mean (see forwardPlanes).
// (N,C) batches run row by row on one goroutine, which reads memory in
// order.
func (b *BatchNorm) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	return b.forward(x, train, nil)
}

// forwardReLU is Forward that also writes max(y, 0) into relu (the length
// of x) in the same pass, for a ReLU that follows: Net uses it so that the
// activation's input and output come from one pass over x instead of two.
func (b *BatchNorm) forwardReLU(x *tensor.Tensor, train bool, relu []float32) *tensor.Tensor {
	return b.forward(x, train, relu)
}

// forwardReLUPool is forwardReLU that also runs the max pool p (prepared
// by beginFused) on each plane of relu right after writing it, while the
// plane is in cache, instead of in a pass of its own.
func (b *BatchNorm) forwardReLUPool(x *tensor.Tensor, train bool, relu []float32, p *MaxPool2D) *tensor.Tensor {
	b.pool = p
	defer func() { b.pool = nil }()
	return b.forward(x, train, relu)
}

// channelwise reports whether batches of this layer are (N,C,H,W) with
// planes larger than one value, the path that normalises plane by plane.
func (b *BatchNorm) channelwise() bool { return tensor.Numel(b.in[1:]) > 1 }

func (b *BatchNorm) forward(x *tensor.Tensor, train bool, relu []float32) *tensor.Tensor {
	c := b.in[0]
	if b.Gamma.Rows != c || b.Beta.Rows != c || len(b.RunMean) != c || len(b.RunVar) != c {
		panic(fmt.Sprintf("nn: batchnorm has %d channels of parameters, input shape %v", b.Gamma.Rows, b.in))
	}
	if len(x.Shape) != len(b.in)+1 || !slices.Equal(x.Shape[1:], b.in) {
		panic(fmt.Sprintf("nn: batchnorm expects input (N,%v), got %v", b.in, x.Shape))
	}
	b.n, b.hw, b.train = x.Shape[0], tensor.Numel(b.in[1:]), train
	b.x = x.Data[:x.Len()]
	b.y = tensor.Reshape(b.y, x.Shape...)
	b.mean = resize(b.mean, c)
	b.invStd = resize(b.invStd, c)
	if b.hw == 1 {
		b.xhat = tensor.Reshape(b.xhat, x.Shape...)
		b.forwardRows()
		if relu != nil {
			tensor.ReLU(relu, b.y.Data)
		}
		if b.pool != nil {
			panic("nn: batchnorm: pooling fused into an (N,C) batch")
		}
		return b.y
	}
	b.relu = relu
	b.forwardPlanes()
	b.relu = nil
	return b.y
}

// setStats records channel ch's normalisation from its sum s and sum of
// squared deviations ss over m values (train), or from the running
// statistics (eval), and moves the running statistics in training.
func (b *BatchNorm) setStats(ch int, s, ss, m float64) {
	if !b.train {
		b.mean[ch] = b.RunMean[ch]
		b.invStd[ch] = float32(1 / math.Sqrt(float64(b.RunVar[ch])+b.Eps))
		return
	}
	mean, variance := s/m, ss/m
	unbiased := variance // one value per channel: no unbiased estimate
	if m > 1 {
		unbiased = ss / (m - 1)
	}
	mo := b.Momentum
	b.RunMean[ch] = float32((1-mo)*float64(b.RunMean[ch]) + mo*mean)
	b.RunVar[ch] = float32((1-mo)*float64(b.RunVar[ch]) + mo*unbiased)
	b.mean[ch] = float32(mean)
	b.invStd[ch] = float32(1 / math.Sqrt(variance+b.Eps))
}

// forwardPlanes normalises an (N,C,H,W) batch in two passes over it, each
// split over goroutines by image and reading memory in order: Σx and Σx²
// (float64) of every plane, then y = a·x + b per plane with a = γ·invstd
// and b = β − a·mean (and the ReLU and pool when fused). Between them each
// channel's plane sums are added in image order, an order fixed by the
// batch alone.
func (b *BatchNorm) forwardPlanes() {
	c := b.in[0]
	m := float64(b.n * b.hw)
	if b.train {
		b.part = resize64(b.part, 2*b.n*c)
		tensor.ParallelFor(b.n, b.stats)
	}
	b.coef = resize(b.coef, 2*c)
	for ch := range c {
		var s, ss float64
		if b.train {
			for i := 0; i < b.n; i++ {
				s += b.part[2*(i*c+ch)]
				ss += b.part[2*(i*c+ch)+1]
			}
			// Σ(x−mean)² = Σx² − (Σx)²/m: exact enough in float64 for
			// float32 data unless |mean| exceeds the spread by ~10⁶.
			ss = max(ss-s*s/m, 0)
		}
		b.setStats(ch, s, ss, m)
		inv := float64(b.invStd[ch])
		a := float64(b.Gamma.Data[ch]) * inv
		b.coef[ch], b.coef[c+ch] = float32(a), float32(float64(b.Beta.Data[ch])-a*float64(b.mean[ch]))
	}
	tensor.ParallelFor(b.n, b.norm)
}

// statsImages sums the planes of images [lo, hi).
func (b *BatchNorm) statsImages(lo, hi int) {
	hw := b.hw
	for q := lo * b.in[0]; q < hi*b.in[0]; q++ {
		b.part[2*q], b.part[2*q+1] = tensor.Moments64(b.x[q*hw : (q+1)*hw])
	}
}

// normImages normalises the planes of images [lo, hi).
func (b *BatchNorm) normImages(lo, hi int) {
	c, hw := b.in[0], b.hw
	for q := lo * c; q < hi*c; q++ {
		ch := q % c
		var r []float32
		if b.relu != nil {
			r = b.relu[q*hw : (q+1)*hw]
		}
		tensor.AffineReLU(b.y.Data[q*hw:(q+1)*hw], r, b.x[q*hw:(q+1)*hw], b.coef[ch], b.coef[c+ch])
		if b.pool != nil {
			b.pool.poolPlane(q, r)
		}
	}
}

// forwardRows handles an (N,C) batch.
func (b *BatchNorm) forwardRows() {
	c, n := b.in[0], b.n
	if b.train {
		b.acc = resize64(b.acc, 2*c)
		s, ss := b.acc[:c], b.acc[c:]
		clear(b.acc)
		for i := 0; i < n; i++ {
			for ch, v := range b.x[i*c : (i+1)*c] {
				s[ch] += float64(v)
			}
		}
		for i := 0; i < n; i++ {
			for ch, v := range b.x[i*c : (i+1)*c] {
				d := float64(v) - s[ch]/float64(n)
				ss[ch] += d * d
			}
		}
		for ch := range c {
			b.setStats(ch, s[ch], ss[ch], float64(n))
		}
	} else {
		for ch := range c {
			b.setStats(ch, 0, 0, float64(n))
		}
	}
	mean, inv, g, be := b.mean[:c], b.invStd[:c], b.Gamma.Data[:c], b.Beta.Data[:c]
	for i := 0; i < n; i++ {
		xs, xh, ys := b.x[i*c:(i+1)*c], b.xhat.Data[i*c:(i+1)*c], b.y.Data[i*c:(i+1)*c]
		for ch, v := range xs {
			h := (v - mean[ch]) * inv[ch]
			xh[ch] = h
			ys[ch] = g[ch]*h + be[ch]
		}
	}
}

// Backward adds dL/dγ and dL/dβ into their Grad and returns dL/dx. In
// training mode the batch statistics depend on every input, so each input's
// gradient involves its whole channel:
// dx = γ·invstd/M · (M·dy − Σdy − x̂·Σ(dy·x̂)).
func (b *BatchNorm) Backward(dy *tensor.Tensor) *tensor.Tensor {
	if b.y == nil {
		panic("nn: batchnorm Backward before Forward")
	}
	if dy.Len() != b.y.Len() {
		panic(fmt.Sprintf("nn: batchnorm output gradient has shape %v, output is %v", dy.Shape, b.y.Shape))
	}
	b.beginBackward(dy)
	if b.hw == 1 {
		b.backwardRows()
	} else {
		b.backwardPlanes()
	}
	b.dy = nil
	return b.dx
}

// gradCoeffs adds channel ch's γ and β gradients and returns the
// coefficients of dx = k·(dy − a − x̂·s).
func (b *BatchNorm) gradCoeffs(ch int, sdy, sdyx float64) (k, a, s float32) {
	k64, a64, s64 := b.gradCoeffs64(ch, sdy, sdyx)
	return float32(k64), float32(a64), float32(s64)
}

// gradCoeffs64 is gradCoeffs before rounding to float32.
func (b *BatchNorm) gradCoeffs64(ch int, sdy, sdyx float64) (k, a, s float64) {
	b.Gamma.Grad[ch] += float32(sdyx)
	b.Beta.Grad[ch] += float32(sdy)
	k = float64(b.Gamma.Data[ch]) * float64(b.invStd[ch])
	if !b.train {
		return k, 0, 0
	}
	m := float64(b.n * b.hw)
	return k, sdy / m, sdyx / m
}

// backwardPlanes handles an (N,C,H,W) batch from x rather than a stored
// x̂, in two passes split by image like forwardPlanes: with Σdy and Σdy·x
// (float64) per plane, added per channel in image order,
// Σdy·x̂ = invstd·(Σdy·x − mean·Σdy), and dx = k·(dy − a − x̂·s) is the
// single vectorised pass dx = k·dy + (B·x + C) with B = −k·invstd·s and
// C = −k·a − B·mean.
func (b *BatchNorm) backwardPlanes() {
	b.part = resize64(b.part, 2*b.n*b.in[0])
	tensor.ParallelFor(b.n, b.dsums)
	b.backwardFromSums()
}

// beginBackward takes dy and sizes dx.
func (b *BatchNorm) beginBackward(dy *tensor.Tensor) {
	b.dy = dy.Data[:dy.Len()]
	b.dx = tensor.Reshape(b.dx, b.y.Shape...)
}

// backwardFromSums is backwardPlanes after its first pass: the per-plane
// Σdy and Σdy·x are in b.part (Net's fused backward forms them in its own
// pass).
func (b *BatchNorm) backwardFromSums() {
	c := b.in[0]
	b.coef = resize(b.coef, 3*c)
	for ch := range c {
		var sdy, sdyx float64
		for i := 0; i < b.n; i++ {
			sdy += b.part[2*(i*c+ch)]
			sdyx += b.part[2*(i*c+ch)+1]
		}
		mean, inv := float64(b.mean[ch]), float64(b.invStd[ch])
		k, a, s := b.gradCoeffs64(ch, sdy, inv*(sdyx-mean*sdy))
		bx := -k * inv * s
		b.coef[ch], b.coef[c+ch], b.coef[2*c+ch] = float32(k), float32(bx), float32(-k*a-bx*mean)
	}
	tensor.ParallelFor(b.n, b.dnorm)
}

// gradSumsImages forms Σdy and Σdy·x of the planes of images [lo, hi).
func (b *BatchNorm) gradSumsImages(lo, hi int) {
	hw := b.hw
	for q := lo * b.in[0]; q < hi*b.in[0]; q++ {
		b.part[2*q], b.part[2*q+1] = tensor.SumDot64(b.dy[q*hw:(q+1)*hw], b.x[q*hw:(q+1)*hw])
	}
}

// gradImages forms dx of the planes of images [lo, hi).
func (b *BatchNorm) gradImages(lo, hi int) {
	c, hw := b.in[0], b.hw
	for q := lo * c; q < hi*c; q++ {
		ch := q % c
		tensor.LinComb(b.dx.Data[q*hw:(q+1)*hw], b.dy[q*hw:(q+1)*hw], b.x[q*hw:(q+1)*hw], b.coef[ch], b.coef[c+ch], b.coef[2*c+ch])
	}
}

func (b *BatchNorm) backwardRows() {
	c, n := b.in[0], b.n
	b.acc = resize64(b.acc, 2*c)
	sdy, sdyx := b.acc[:c], b.acc[c:]
	clear(b.acc)
	for i := 0; i < n; i++ {
		xh := b.xhat.Data[i*c : (i+1)*c]
		for ch, d := range b.dy[i*c : (i+1)*c] {
			sdy[ch] += float64(d)
			sdyx[ch] += float64(d) * float64(xh[ch])
		}
	}
	// The coefficients overwrite the sums: k, a, s per channel.
	b.coef = resize(b.coef, 3*c)
	for ch := range c {
		b.coef[ch], b.coef[c+ch], b.coef[2*c+ch] = b.gradCoeffs(ch, sdy[ch], sdyx[ch])
	}
	k, a, s := b.coef[:c], b.coef[c:2*c], b.coef[2*c:]
	for i := 0; i < n; i++ {
		xh, dx := b.xhat.Data[i*c:(i+1)*c], b.dx.Data[i*c:(i+1)*c]
		for ch, d := range b.dy[i*c : (i+1)*c] {
			dx[ch] = k[ch] * (d - a[ch] - xh[ch]*s[ch])
		}
	}
}

func resize64(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
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
