package perf

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
	"github.com/nadir-ml/nadir/tensor"
)

// The figures' keys, the same as those the PyTorch peer prints.
const (
	KeyGemm512   = "gemm512_gflops"
	KeyGemm1024  = "gemm1024_gflops"
	KeyMLP       = "mlp_step_ms"
	KeyLeNet     = "lenet_step_ms"
	KeyVGG16     = "vgg16_step_ms"
	KeyVGG48     = "vgg48_step_ms"
	KeyDepthwise = "depthwise_ms"
)

// Keys lists the figures in the order Run measures them.
var Keys = []string{KeyGemm512, KeyGemm1024, KeyMLP, KeyLeNet, KeyVGG16, KeyVGG48, KeyDepthwise}

// LR is the train steps' learning rate (the peer's).
const LR = 0.01

// Gemm is one square product C = A·B with A and B uniform in [0, 1).
type Gemm struct {
	N       int
	A, B, C []float32
}

// NewGemm draws an n×n problem from r.
func NewGemm(n int, r *rand.Rand) (*Gemm, error) {
	if n < 1 {
		return nil, fmt.Errorf("perf: gemm size %d; need at least 1", n)
	}
	return &Gemm{N: n, A: uniform(r, n*n), B: uniform(r, n*n), C: make([]float32, n*n)}, nil
}

// Run computes one product.
func (g *Gemm) Run() {
	n := g.N
	tensor.Gemm(false, false, n, n, n, 1, g.A, n, g.B, n, 0, g.C, n)
}

// FLOPs is the work of one product, 2n³.
func (g *Gemm) FLOPs() float64 { n := float64(g.N); return 2 * n * n * n }

// TrainStep is one network with a fixed batch of 1×28×28 inputs, uniform in
// [0, 1), and uniform labels over the network's outputs.
type TrainStep struct {
	Net    *nn.Net
	X      *tensor.Tensor
	Labels []int
	Opt    optim.SGD
	LR     float64

	loss   nn.SoftmaxCE
	params []*nn.Param
}

// ImageShape is the per-example input of the train steps.
var ImageShape = []int{1, 28, 28}

// NewMLP builds the 784-256-256-10 ReLU network and a batch of batch images.
func NewMLP(batch int, r *rand.Rand) (*TrainStep, error) {
	b := builder{r: r}
	net, err := b.net("mlp",
		nn.NewFlatten(ImageShape),
		b.dense(784, 256), relu(256),
		b.dense(256, 256), relu(256),
		b.dense(256, 10),
	)
	return newTrainStep(net, err, batch, r)
}

// NewLeNet builds the two-convolution LeNet and a batch of batch images.
func NewLeNet(batch int, r *rand.Rand) (*TrainStep, error) {
	b := builder{r: r}
	net, err := b.net("lenet",
		b.conv([]int{1, 28, 28}, 32, 5, 0, 1), relu(32, 24, 24), b.maxPool([]int{32, 24, 24}, 2),
		b.conv([]int{32, 12, 12}, 64, 5, 0, 1), relu(64, 8, 8), b.maxPool([]int{64, 8, 8}, 2),
		nn.NewFlatten([]int{64, 4, 4}),
		b.dense(1024, 128), relu(128),
		b.dense(128, 10),
	)
	return newTrainStep(net, err, batch, r)
}

// VGGModel is the growth benchmark's network at width w in nadir's model
// grammar: eight 3×3 conv + BatchNorm + ReLU layers, max pools after the
// first, second, fourth and sixth (28 → 14 → 7 → 3 → 1), global average
// pool and a dense classifier.
func VGGModel(w int) string {
	return strings.ReplaceAll("cnn:c#,p,c#,p,c#,c#,p,c#,c#,p,c#,c#,g", "#", strconv.Itoa(w))
}

// VGGMomentum, VGGWeightDecay are the VGG steps' SGD settings (Nesterov),
// those of the reference growth code.
const (
	VGGMomentum    = 0.9
	VGGWeightDecay = 1e-4
)

// NewVGG builds VGGModel(width) for 10 classes and a batch of batch
// images, trained by SGD with Nesterov momentum and weight decay. Its
// convolutions have no bias (BatchNorm's β is the shift), unlike the
// peer's nn.Conv2d, which adds 8·width redundant parameters.
func NewVGG(width int) func(int, *rand.Rand) (*TrainStep, error) {
	return func(batch int, r *rand.Rand) (*TrainStep, error) {
		if width < 1 {
			return nil, fmt.Errorf("perf: vgg width %d; need at least 1", width)
		}
		net, err := nn.ParseModel(VGGModel(width), ImageShape, 10, nn.Activation{Kind: nn.ReLU}, r)
		s, err := newTrainStep(net, err, batch, r)
		if err != nil {
			return nil, err
		}
		s.Opt = optim.SGD{Momentum: VGGMomentum, Nesterov: true, WeightDecay: VGGWeightDecay}
		return s, nil
	}
}

func newTrainStep(net *nn.Net, err error, batch int, r *rand.Rand) (*TrainStep, error) {
	if err != nil {
		return nil, err
	}
	if batch < 1 {
		return nil, fmt.Errorf("perf: batch %d; need at least 1", batch)
	}
	classes := net.OutShape()[0]
	s := &TrainStep{
		Net:    net,
		X:      tensor.FromData(uniform(r, batch*tensor.Numel(ImageShape)), append([]int{batch}, ImageShape...)...),
		Labels: make([]int, batch),
		LR:     LR,
		params: net.Params(),
	}
	for i := range s.Labels {
		s.Labels[i] = r.IntN(classes)
	}
	return s, nil
}

// Run does one training step (zero the gradients, forward, loss, backward,
// SGD update) and returns the loss before the update.
func (s *TrainStep) Run() float64 {
	s.Net.ZeroGrad()
	l := s.loss.Forward(s.Net.Forward(s.X, true), s.Labels)
	s.Net.Backward(s.loss.Backward())
	s.Opt.Step(s.params, s.LR)
	return l
}

// Depthwise is a 3×3 depthwise convolution with padding 1 and a bias on a
// standard-normal batch, trained against the loss Σy².
type Depthwise struct {
	Conv *nn.Conv2D
	X    *tensor.Tensor
	dy   *tensor.Tensor
}

// NewDepthwise builds the convolution over channels channels of size×size
// images and a batch of batch of them.
func NewDepthwise(batch, channels, size int, r *rand.Rand) (*Depthwise, error) {
	if batch < 1 || channels < 2 || size < 1 {
		return nil, fmt.Errorf("perf: depthwise batch %d, %d channels, size %d; need batch ≥ 1, channels ≥ 2, size ≥ 1", batch, channels, size)
	}
	c, err := nn.NewConv2D([]int{channels, size, size}, channels, 3, 1, 1, channels, true, r)
	if err != nil {
		return nil, err
	}
	x := tensor.New(batch, channels, size, size)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	return &Depthwise{Conv: c, X: x, dy: tensor.New(batch, channels, size, size)}, nil
}

// Run does the forward pass, the loss Σy² and its gradient 2y, and the
// backward pass into freshly zeroed parameter gradients; it returns the loss.
func (d *Depthwise) Run() float64 {
	d.Conv.W.ZeroGrad()
	d.Conv.B.ZeroGrad()
	y := d.Conv.Forward(d.X, true)
	var l float64
	for i, v := range y.Data[:y.Len()] {
		l += float64(v * v)
		d.dy.Data[i] = 2 * v
	}
	d.Conv.Backward(d.dy)
	return l
}

// Measurement is one figure: its key, a description, its unit and the
// timed runs (after the warm-up) with their median.
type Measurement struct {
	Key    string
	Name   string
	Unit   string // "GFLOP/s" or "ms"
	Runs   []float64
	Median float64
}

// Options configure Run.
type Options struct {
	// Reps is the number of timed runs per figure; 0 means 5.
	Reps int
	// Steps is the number of train steps averaged in one run; 0 means 5.
	Steps int
	// Seed seeds the inputs and initial weights.
	Seed uint64
	// Small shrinks every workload (GEMM 32 and 64, batches of 4, VGG
	// widths 4 and 8, depthwise 2×8×8×8) under the same keys, to test the
	// plumbing quickly. Its figures mean nothing.
	Small bool
	// OnDone, when set, receives each figure as soon as it is measured.
	OnDone func(Measurement)
}

// sizes are the workloads' dimensions.
type sizes struct {
	gemm               [2]int
	batch              int
	vgg                [2]int // widths of the two VGG steps
	dwBatch, dwC, dwHW int
}

var (
	fullSizes  = sizes{gemm: [2]int{512, 1024}, batch: 128, vgg: [2]int{16, 48}, dwBatch: 32, dwC: 64, dwHW: 16}
	smallSizes = sizes{gemm: [2]int{32, 64}, batch: 4, vgg: [2]int{4, 8}, dwBatch: 2, dwC: 8, dwHW: 8}
)

// Run measures the figures in the order of Keys. It stops between
// runs when ctx is done, and fails when a workload produces a loss or a
// time that is not finite and positive.
func Run(ctx context.Context, o Options) ([]Measurement, error) {
	if o.Reps < 0 || o.Steps < 0 {
		return nil, fmt.Errorf("perf: reps %d, steps %d; need at least 1 (0 for the default)", o.Reps, o.Steps)
	}
	if o.Reps == 0 {
		o.Reps = 5
	}
	if o.Steps == 0 {
		o.Steps = 5
	}
	sz := fullSizes
	if o.Small {
		sz = smallSizes
	}
	r := rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))
	var out []Measurement
	done := func(m Measurement, err error) error {
		if err != nil {
			return err
		}
		m.Median = median(m.Runs)
		if !(m.Median > 0) || math.IsInf(m.Median, 0) {
			return fmt.Errorf("perf: %s: median %v is not a positive number", m.Key, m.Median)
		}
		out = append(out, m)
		if o.OnDone != nil {
			o.OnDone(m)
		}
		return nil
	}
	for i, n := range sz.gemm {
		if err := done(runGemm(ctx, Keys[i], n, o.Reps, r)); err != nil {
			return out, err
		}
	}
	nets := []struct {
		key, name string
		build     func(int, *rand.Rand) (*TrainStep, error)
	}{
		{KeyMLP, "MLP 784-256-256-10", NewMLP},
		{KeyLeNet, "LeNet 32c5-p2-64c5-p2-128-10", NewLeNet},
		{KeyVGG16, fmt.Sprintf("VGG11-like width %d (BN) %s", sz.vgg[0], VGGModel(sz.vgg[0])), NewVGG(sz.vgg[0])},
		{KeyVGG48, fmt.Sprintf("VGG11-like width %d (BN) %s", sz.vgg[1], VGGModel(sz.vgg[1])), NewVGG(sz.vgg[1])},
	}
	for _, nt := range nets {
		s, err := nt.build(sz.batch, r)
		if err != nil {
			return out, err
		}
		opt := "SGD"
		if s.Opt.Momentum != 0 {
			opt = "SGD Nesterov"
		}
		name := fmt.Sprintf("%s train step B=%d %s", nt.name, sz.batch, opt)
		if err := done(runSteps(ctx, nt.key, name, s, o.Reps, o.Steps)); err != nil {
			return out, err
		}
	}
	d, err := NewDepthwise(sz.dwBatch, sz.dwC, sz.dwHW, r)
	if err != nil {
		return out, err
	}
	name := fmt.Sprintf("depthwise conv 3x3 groups=%d (%dx%dx%dx%d) fwd+bwd", sz.dwC, sz.dwBatch, sz.dwC, sz.dwHW, sz.dwHW)
	if err := done(runSteps(ctx, KeyDepthwise, name, d, o.Reps, 1)); err != nil {
		return out, err
	}
	return out, nil
}

func runGemm(ctx context.Context, key string, n, reps int, r *rand.Rand) (Measurement, error) {
	g, err := NewGemm(n, r)
	if err != nil {
		return Measurement{}, err
	}
	m := Measurement{Key: key, Name: fmt.Sprintf("gemm float32 %d^3 NN", n), Unit: "GFLOP/s"}
	// About 2³⁰ multiply-adds per run, as the peer does.
	iters := max(1, (1<<30)/(n*n*n))
	g.Run()
	for range reps {
		if err := ctx.Err(); err != nil {
			return m, err
		}
		t0 := time.Now()
		for range iters {
			g.Run()
		}
		el := time.Since(t0).Seconds() / float64(iters)
		m.Runs = append(m.Runs, g.FLOPs()/el/1e9)
	}
	return m, nil
}

// stepper is a workload whose Run returns a loss.
type stepper interface{ Run() float64 }

func runSteps(ctx context.Context, key, name string, s stepper, reps, steps int) (Measurement, error) {
	m := Measurement{Key: key, Name: name, Unit: "ms"}
	check := func(l float64) error {
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return fmt.Errorf("perf: %s: loss %v", key, l)
		}
		return nil
	}
	if err := check(s.Run()); err != nil {
		return m, err
	}
	for range reps {
		if err := ctx.Err(); err != nil {
			return m, err
		}
		var l float64
		t0 := time.Now()
		for range steps {
			l = s.Run()
		}
		m.Runs = append(m.Runs, float64(time.Since(t0).Nanoseconds())/1e6/float64(steps))
		if err := check(l); err != nil {
			return m, err
		}
	}
	return m, nil
}

// median of xs (the mean of the middle two for an even count), as Python's
// statistics.median.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	h := len(s) / 2
	if len(s)%2 == 1 {
		return s[h]
	}
	return (s[h-1] + s[h]) / 2
}

func uniform(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()
	}
	return s
}

// builder collects the first error of a chain of layer constructors.
type builder struct {
	r   *rand.Rand
	err error
}

func (b *builder) keep(l nn.Layer, err error) nn.Layer {
	if err != nil && b.err == nil {
		b.err = err
	}
	return l
}

func (b *builder) dense(in, out int) nn.Layer {
	d, err := nn.NewDense(in, out, true, b.r)
	return b.keep(d, err)
}

func (b *builder) conv(in []int, out, k, pad, groups int) nn.Layer {
	c, err := nn.NewConv2D(in, out, k, 1, pad, groups, true, b.r)
	return b.keep(c, err)
}

func (b *builder) maxPool(in []int, k int) nn.Layer {
	p, err := nn.NewMaxPool2D(in, k, 0)
	return b.keep(p, err)
}

func (b *builder) net(name string, layers ...nn.Layer) (*nn.Net, error) {
	if b.err != nil {
		return nil, fmt.Errorf("perf: %s: %w", name, b.err)
	}
	n, err := nn.NewNet(ImageShape, layers...)
	if err != nil {
		return nil, fmt.Errorf("perf: %s: %w", name, err)
	}
	return n, nil
}

func relu(shape ...int) nn.Layer { return nn.NewAct(nn.Activation{Kind: nn.ReLU}, shape) }
