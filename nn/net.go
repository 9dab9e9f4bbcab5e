package nn

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/nadir-ml/nadir/tensor"
)

// Net is a sequential network whose hidden widths change during training.
// Widths change only through the surgery methods below, which keep every
// consumer of a grown or shrunk layer consistent (BatchNorm entries,
// depthwise channels, the Flatten between a conv and a dense layer, the
// consuming layer's input columns, and the optimiser state in each Param).
type Net struct {
	In     []int // per-example input shape
	Layers []Layer

	// InputGrad makes Backward compute the gradient with respect to the
	// network's input. Training never needs it, so by default the first
	// layer skips that product (a third of an MLP's first-layer backward).
	InputGrad bool
	// NoParamGrad makes Backward leave the parameter gradients of
	// convolutions and dense layers alone (ParamGradSkipper): passes that
	// need only the gradients of the layers' outputs (Grad), such as the
	// splitting statistics, skip those products. Every Grad(i) is bitwise
	// the same.
	NoParamGrad bool

	outs   []*tensor.Tensor // output of each layer in the last Forward
	grads  []*tensor.Tensor // dL/d(output) of each layer in the last Backward
	params []*Param         // cached Params(); rebuilt after surgery
	inf    *inferState      // Infer's buffers

	// The chain and gradient backwardBNReLU is working on, and its pass
	// bound once (ParallelFor gets no new closure per call).
	fusedBN   *BatchNorm
	fusedAct  *Act
	fusedPool *MaxPool2D
	fusedDy   []float32
	fusedBwd  func(lo, hi int)
}

// InputGradSkipper is implemented by layers that can skip computing
// dL/d(input) when nobody needs it.
type InputGradSkipper interface {
	SkipInputGrad(skip bool)
}

// ParamGradSkipper is implemented by layers that can skip forming their
// parameters' gradients (Net.NoParamGrad).
type ParamGradSkipper interface {
	SkipParamGrad(skip bool)
}

// NewNet checks that the layers' shapes chain and returns the network.
func NewNet(in []int, layers ...Layer) (*Net, error) {
	n := &Net{In: append([]int(nil), in...), Layers: layers}
	if err := n.Validate(); err != nil {
		return nil, err
	}
	return n, nil
}

// Validate re-propagates shapes through the layers and checks that every
// parameter has the size its layer's shapes imply.
func (n *Net) Validate() error {
	n.params = nil
	shape := n.In
	for i, l := range n.Layers {
		l.SetIn(shape)
		if p, ok := l.(Producer); ok && isProducer(l) {
			want := p.FanIn()
			if w := p.Weight(); w.Cols != want {
				return fmt.Errorf("layer %d (%s): weight has %d columns, input gives %d", i, l.Spec().Kind, w.Cols, want)
			}
		}
		shape = l.OutShape()
		if tensor.Numel(shape) <= 0 {
			return fmt.Errorf("layer %d (%s): empty output shape %v", i, l.Spec().Kind, shape)
		}
	}
	return nil
}

// OutShape is the per-example output shape.
func (n *Net) OutShape() []int {
	if len(n.Layers) == 0 {
		return n.In
	}
	return n.Layers[len(n.Layers)-1].OutShape()
}

// SetRand hands r to every layer that draws random numbers in training.
func (n *Net) SetRand(r *rand.Rand) {
	for _, l := range n.Layers {
		if rl, ok := l.(Randomised); ok {
			rl.SetRand(r)
		}
	}
}

// Forward runs the network on a batch. A per-channel BatchNorm followed by
// a ReLU runs as one pass that writes both layers' outputs (the same
// values, buffers and layer state as the two Forwards one after the other).
func (n *Net) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	if len(n.outs) != len(n.Layers) {
		n.outs = make([]*tensor.Tensor, len(n.Layers))
		n.grads = make([]*tensor.Tensor, len(n.Layers))
	}
	for i := 0; i < len(n.Layers); i++ {
		if z, y, pooled, ok := n.forwardBNReLU(i, x, train); ok {
			n.outs[i], n.outs[i+1] = z, y
			x = y
			i++
			if pooled != nil {
				n.outs[i+1] = pooled
				x = pooled
				i++
			}
			continue
		}
		x = n.Layers[i].Forward(x, train)
		n.outs[i] = x
	}
	return x
}

// fuseBNReLU enables Forward's BatchNorm+ReLU pass; tests turn it off to
// compare with the layers run one by one.
var fuseBNReLU = true

// fusePoolPlane is the smallest plane (H·W values) whose max pool runs
// inside the BatchNorm+ReLU pass: pooling a plane while it is in cache
// saves reading it back, but costs a kernel call per plane, which on small
// planes costs more than the pass it saves. A variable for tests.
var fusePoolPlane = 128

// forwardBNReLU runs layers i and i+1 in one pass when they are a
// per-channel BatchNorm and a ReLU, returning both outputs. A max pool
// after them (layer i+2) on planes of at least fusePoolPlane values pools
// each plane in the same pass, and its output is returned too (nil
// otherwise).
func (n *Net) forwardBNReLU(i int, x *tensor.Tensor, train bool) (z, y, pooled *tensor.Tensor, ok bool) {
	if !fuseBNReLU || i+1 >= len(n.Layers) {
		return nil, nil, nil, false
	}
	bn, ok := n.Layers[i].(*BatchNorm)
	if !ok || !bn.channelwise() {
		return nil, nil, nil, false
	}
	a, ok := n.Layers[i+1].(*Act)
	if !ok || a.A.Kind != ReLU {
		return nil, nil, nil, false
	}
	r := a.reluOutput(x.Shape)
	if i+2 < len(n.Layers) {
		if p, ok := n.Layers[i+2].(*MaxPool2D); ok && p.in[1]*p.in[2] >= fusePoolPlane {
			pooled = p.beginFused(a.y)
			z = bn.forwardReLUPool(x, train, r, p)
			a.z = z
			return z, a.y, pooled, true
		}
	}
	z = bn.forwardReLU(x, train, r)
	a.z = z
	return z, a.y, nil, true
}

// Backward propagates dL/d(output) and accumulates parameter gradients
// (unless NoParamGrad).
// Unless InputGrad is set, layers before the first one with parameters are
// skipped and that layer does not form its input gradient (nothing needs
// it), and Backward returns nil.
func (n *Net) Backward(dy *tensor.Tensor) *tensor.Tensor {
	first := 0
	if !n.InputGrad {
		for first < len(n.Layers)-1 && len(n.Layers[first].Params()) == 0 {
			first++
		}
	}
	for i, l := range n.Layers {
		if s, ok := l.(InputGradSkipper); ok {
			s.SkipInputGrad(i == first && !n.InputGrad)
		}
		if s, ok := l.(ParamGradSkipper); ok {
			s.SkipParamGrad(n.NoParamGrad)
		}
	}
	for i := len(n.Layers) - 1; i >= 0; i-- {
		n.grads[i] = dy
		if i < first {
			continue
		}
		if dx, j, ok := n.backwardBNReLU(i, first, dy); ok {
			dy, i = dx, j
			continue
		}
		dy = n.Layers[i].Backward(dy)
	}
	if !n.InputGrad {
		return nil
	}
	return dy
}

// fuseBackward enables Backward's fused pass over a max pool (optional),
// ReLU and BatchNorm; tests turn it off to compare.
var fuseBackward = true

// backwardBNReLU runs the backward passes of a per-channel BatchNorm, the
// ReLU after it and the max pool after that (if any), ending at layer i,
// as one pass per image that goes plane by plane: pool gradient, ReLU
// gradient and BatchNorm's Σdy and Σdy·x while the plane is in cache,
// instead of three passes over the batch's activations. BatchNorm's dx pass
// follows. Every layer's gradient buffer, every Grad and all parameter
// gradients are bitwise those of the layers' own Backwards (the same
// kernels on the same values, in the same order). It returns the
// BatchNorm's input gradient and the BatchNorm's index, or ok false when
// layers ..i are not such a chain.
func (n *Net) backwardBNReLU(i, first int, dy *tensor.Tensor) (dx *tensor.Tensor, bi int, ok bool) {
	if !fuseBackward {
		return nil, 0, false
	}
	pool, _ := n.Layers[i].(*MaxPool2D)
	ai := i
	if pool != nil {
		ai = i - 1
	}
	bi = ai - 1
	if bi < first {
		return nil, 0, false
	}
	a, ok := n.Layers[ai].(*Act)
	if !ok || a.A.Kind != ReLU || a.z == nil {
		return nil, 0, false
	}
	bn, ok := n.Layers[bi].(*BatchNorm)
	if !ok || bn.y == nil || bn.hw <= 1 || a.z.Len() != bn.y.Len() {
		return nil, 0, false
	}
	if pool != nil && (pool.y == nil || pool.n*pool.in[0]*pool.in[1]*pool.in[2] != a.z.Len()) {
		return nil, 0, false
	}
	da := dy
	if pool != nil {
		pool.beginBackward(dy)
		da = pool.dx
		n.grads[ai] = da
	}
	a.dx = tensor.Reshape(a.dx, da.Shape...)
	n.grads[bi] = a.dx
	bn.beginBackward(a.dx)
	bn.part = resize64(bn.part, 2*bn.n*bn.in[0])
	n.fusedBN, n.fusedAct, n.fusedPool, n.fusedDy = bn, a, pool, dy.Data
	if n.fusedBwd == nil {
		n.fusedBwd = n.backwardFusedImages
	}
	tensor.ParallelFor(bn.n, n.fusedBwd)
	n.fusedBN, n.fusedAct, n.fusedPool, n.fusedDy = nil, nil, nil, nil
	if pool != nil {
		pool.dy = nil
	}
	bn.backwardFromSums()
	bn.dy = nil
	return bn.dx, bi, true
}

// backwardFusedImages is backwardBNReLU's pass over images [lo, hi).
func (n *Net) backwardFusedImages(lo, hi int) {
	bn, a, p := n.fusedBN, n.fusedAct, n.fusedPool
	c, hw := bn.in[0], bn.hw
	z, g := a.z.Data, a.dx.Data
	for q := lo * c; q < hi*c; q++ {
		// gq, ReLU's input gradient, is also BatchNorm's output gradient.
		gq := g[q*hw : (q+1)*hw]
		var da []float32
		if p != nil {
			ohw := p.oh * p.ow
			da = p.dx.Data[q*hw : (q+1)*hw]
			clear(da)
			tensor.MaxPool2DBackward(da, p.dy[q*ohw:(q+1)*ohw], p.arg[q*ohw:(q+1)*ohw], 1, p.in[1], p.in[2], p.k, p.stride)
		} else {
			da = n.fusedDy[q*hw : (q+1)*hw]
		}
		tensor.ReLUGrad(gq, da, z[q*hw:(q+1)*hw])
		bn.part[2*q], bn.part[2*q+1] = tensor.SumDot64(gq, bn.x[q*hw:(q+1)*hw])
	}
}

// Output is layer i's output in the last Forward; Grad is dL/d(that output)
// in the last Backward. These are the per-neuron statistics hooks: the
// splitting methods read a producer's input, the pre-activation z (the
// output of the layer before the activation) and g (the gradient at the
// activation's output). Both are layer-owned buffers, valid until the next
// pass.
func (n *Net) Output(i int) *tensor.Tensor { return n.outs[i] }
func (n *Net) Grad(i int) *tensor.Tensor   { return n.grads[i] }

// Params lists every trainable parameter in layer order. The list is
// cached; surgery through Net's methods refreshes it.
func (n *Net) Params() []*Param {
	if n.params == nil {
		for _, l := range n.Layers {
			n.params = append(n.params, l.Params()...)
		}
	}
	return n.params
}

// ZeroGrad clears all gradients.
func (n *Net) ZeroGrad() {
	for _, p := range n.Params() {
		p.ZeroGrad()
	}
}

// NumParams counts trainable scalars.
func (n *Net) NumParams() int {
	s := 0
	for _, p := range n.Params() {
		s += p.Len()
	}
	return s
}

// isProducer: dense layers and ungrouped convolutions own neurons.
func isProducer(l Layer) bool {
	sp := l.Spec()
	switch sp.Kind {
	case "dense":
		return true
	case "conv2d":
		return sp.Groups <= 1
	}
	return false
}

func isDepthwise(l Layer) bool {
	sp := l.Spec()
	return sp.Kind == "conv2d" && sp.Groups > 1 && len(sp.In) > 0 && sp.Groups == sp.In[0] && sp.Out == sp.Groups
}

// ErrNoConsumer is returned for surgery on the output layer, whose units
// are the network's outputs and cannot grow.
var ErrNoConsumer = errors.New("layer has no consumer (it is the output layer)")

// chain describes the layers a producer's units flow through.
type chain struct {
	producer  Producer
	followers []Follower
	consumer  Consumer
	ci        int // consumer's index
	spatial   int // columns per unit in the consumer
}

func (n *Net) chainOf(li int) (chain, error) {
	if li < 0 || li >= len(n.Layers) {
		return chain{}, fmt.Errorf("layer %d out of range [0,%d)", li, len(n.Layers))
	}
	p, ok := n.Layers[li].(Producer)
	if !ok || !isProducer(n.Layers[li]) {
		return chain{}, fmt.Errorf("layer %d (%s) has no neurons to grow", li, n.Layers[li].Spec().Kind)
	}
	c := chain{producer: p, spatial: 1}
	for j := li + 1; j < len(n.Layers); j++ {
		l := n.Layers[j]
		if isProducer(l) {
			cons, ok := l.(Consumer)
			if !ok {
				return chain{}, fmt.Errorf("layer %d (%s) cannot take new inputs", j, l.Spec().Kind)
			}
			c.consumer, c.ci = cons, j
			return c, nil
		}
		if l.Spec().Kind == "conv2d" && !isDepthwise(l) {
			return chain{}, fmt.Errorf("layer %d: grouped convolution (groups %d) cannot follow neuron surgery", j, l.Spec().Groups)
		}
		f, ok := l.(Follower)
		if !ok {
			return chain{}, fmt.Errorf("layer %d (%s) cannot follow neuron surgery", j, l.Spec().Kind)
		}
		if fl, ok := l.(*Flatten); ok {
			c.spatial = fl.Spatial()
		}
		c.followers = append(c.followers, f)
	}
	return chain{}, fmt.Errorf("layer %d: %w", li, ErrNoConsumer)
}

// ChainInfo names, by layer index, the layers a producer's units flow
// through: its followers (BatchNorm, activation, depthwise conv, pooling,
// flatten) and the consumer whose input columns belong to them. Spatial is
// the number of consumer columns per unit contributed by a Flatten (1
// otherwise).
type ChainInfo struct {
	Producer  int
	Followers []int
	Consumer  int
	Spatial   int
}

// Chain describes producer layer li's chain, or fails when li has no
// growable neurons.
func (n *Net) Chain(li int) (ChainInfo, error) {
	c, err := n.chainOf(li)
	if err != nil {
		return ChainInfo{}, err
	}
	info := ChainInfo{Producer: li, Consumer: c.ci, Spatial: c.spatial}
	for j := li + 1; j < c.ci; j++ {
		info.Followers = append(info.Followers, j)
	}
	return info, nil
}

// Growable lists the layers whose neurons can be grown: producers that
// have a consumer downstream.
func (n *Net) Growable() []int {
	var out []int
	for i := range n.Layers {
		if _, err := n.chainOf(i); err == nil {
			out = append(out, i)
		}
	}
	return out
}

// NewUnit describes one unit to append to a producer layer.
type NewUnit struct {
	In   []float32 // incoming weights, FanIn values (nil: zeros)
	Bias float32
	// Like is the existing unit whose per-channel state downstream
	// (BatchNorm statistics, depthwise filter) the new unit copies; -1 gives
	// fresh defaults.
	Like int
	// Out is the new unit's outgoing weights in the consumer, laid out as
	// OutgoingColumn returns them (nil: zeros, so the function is unchanged).
	Out []float32
}

// AddUnits appends units to producer layer li, in order.
func (n *Net) AddUnits(li int, units []NewUnit) error {
	c, err := n.chainOf(li)
	if err != nil {
		return err
	}
	old, fan := c.producer.Units(), c.producer.FanIn()
	in := make([][]float32, len(units))
	bias := make([]float32, len(units))
	like := make([]int, len(units))
	outs := make([][]float32, len(units))
	for i, u := range units {
		if u.In != nil && len(u.In) != fan {
			return fmt.Errorf("layer %d: new unit has %d incoming weights, want %d", li, len(u.In), fan)
		}
		if u.Like >= old {
			return fmt.Errorf("layer %d: like-unit %d out of range [0,%d)", li, u.Like, old)
		}
		in[i], bias[i], like[i], outs[i] = u.In, u.Bias, u.Like, u.Out
	}
	want := len(c.consumer.InputColumn(c.spatial, 0))
	for i, o := range outs {
		if o != nil && len(o) != want {
			return fmt.Errorf("layer %d: new unit %d has %d outgoing weights, want %d", li, i, len(o), want)
		}
	}
	c.producer.AppendUnits(in, bias)
	for _, f := range c.followers {
		f.FollowAppend(like)
	}
	c.consumer.AppendInputs(c.spatial, outs)
	return n.Validate()
}

// OutgoingColumn returns a copy of unit u's outgoing weights in the consumer.
func (n *Net) OutgoingColumn(li, u int) ([]float32, error) {
	c, err := n.chainOf(li)
	if err != nil {
		return nil, err
	}
	if u < 0 || u >= c.producer.Units() {
		return nil, fmt.Errorf("layer %d: unit %d out of range", li, u)
	}
	return c.consumer.InputColumn(c.spatial, u), nil
}

// ScaleOutgoing multiplies unit u's outgoing weights by s.
func (n *Net) ScaleOutgoing(li, u int, s float32) error {
	c, err := n.chainOf(li)
	if err != nil {
		return err
	}
	if u < 0 || u >= c.producer.Units() {
		return fmt.Errorf("layer %d: unit %d out of range", li, u)
	}
	c.consumer.ScaleInput(c.spatial, u, s)
	return nil
}

// RemoveUnits drops units of producer layer li with everything downstream
// that belongs to them.
func (n *Net) RemoveUnits(li int, idx []int) error {
	c, err := n.chainOf(li)
	if err != nil {
		return err
	}
	idx = slices.Clone(idx)
	slices.Sort(idx)
	idx = slices.Compact(idx)
	if len(idx) > 0 && (idx[0] < 0 || idx[len(idx)-1] >= c.producer.Units()) {
		return fmt.Errorf("layer %d: unit index out of range [0,%d)", li, c.producer.Units())
	}
	if len(idx) >= c.producer.Units() {
		return fmt.Errorf("layer %d: cannot remove all %d units", li, c.producer.Units())
	}
	c.producer.RemoveUnits(idx)
	for _, f := range c.followers {
		f.FollowRemove(idx)
	}
	c.consumer.RemoveInputs(c.spatial, idx)
	return n.Validate()
}

// InsertLayers inserts layers before index at (at == len(Layers) appends).
// Use IdentityDense / IdentityConv for function-preserving insertions.
func (n *Net) InsertLayers(at int, ls ...Layer) error {
	if at < 0 || at > len(n.Layers) {
		return fmt.Errorf("insert position %d out of range [0,%d]", at, len(n.Layers))
	}
	n.Layers = slices.Insert(n.Layers, at, ls...)
	n.outs, n.grads = nil, nil
	return n.Validate()
}

// IdentityDense is a width×width dense layer initialised to the identity
// (bias 0). Followed by an activation σ it preserves the function wherever
// σ(x) = x on the inputs it sees (e.g. ReLU after a ReLU layer).
func IdentityDense(width int) *Dense {
	d, _ := NewDense(width, width, true, nil)
	for i := 0; i < width; i++ {
		d.W.Data[i*width+i] = 1
	}
	return d
}

// IdentityConv is a c→c convolution with a k×k Dirac kernel (1 at the
// centre tap of channel i's own input), same padding and no bias: the
// identity on its input. Followed by ReLU after a ReLU layer it preserves
// the function, which is how a layer is inserted for depth.
func IdentityConv(in []int, k int) (*Conv2D, error) {
	if len(in) != 3 || k < 1 || k%2 == 0 {
		return nil, fmt.Errorf("identity conv: need a C×H×W input and an odd kernel, got %v and %d", in, k)
	}
	c, err := NewConv2D(in, in[0], k, 1, k/2, 1, false, nil)
	if err != nil {
		return nil, err
	}
	clear(c.W.Data)
	for i := 0; i < in[0]; i++ {
		c.W.Data[i*c.W.Cols+i*k*k+(k/2)*k+k/2] = 1
	}
	return c, nil
}
