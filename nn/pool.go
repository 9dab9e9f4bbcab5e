package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/nadir-ml/nadir/tensor"
)

// Pooling layers work per channel, so they follow neuron surgery by
// recording the new channel count; they hold no parameters. A batch's
// images are split over goroutines by tensor.ParallelFor.

// pool2d is the geometry and channel bookkeeping shared by the windowed
// pooling layers.
type pool2d struct {
	kind      string
	in        [3]int // C, H, W
	k, stride int
	oh, ow    int
	n         int // batch of the current pass
	x, dy     []float32
	y, dx     *tensor.Tensor
}

func newPool2D(kind string, in []int, kernel, stride int) (pool2d, error) {
	if len(in) != 3 || in[0] < 1 || in[1] < 1 || in[2] < 1 {
		return pool2d{}, fmt.Errorf("%s: input shape %v is not (C,H,W) with positive sizes", kind, in)
	}
	if kernel < 1 {
		return pool2d{}, fmt.Errorf("%s: window size %d; need at least 1", kind, kernel)
	}
	if stride < 0 {
		return pool2d{}, fmt.Errorf("%s: negative stride %d", kind, stride)
	}
	if stride == 0 {
		stride = kernel
	}
	if kernel > in[1] || kernel > in[2] {
		return pool2d{}, fmt.Errorf("%s: window %d larger than the %dx%d input", kind, kernel, in[1], in[2])
	}
	p := pool2d{kind: kind, in: [3]int{in[0], in[1], in[2]}, k: kernel, stride: stride}
	p.oh, p.ow = tensor.ConvOutSize(in[1], kernel, stride, 0), tensor.ConvOutSize(in[2], kernel, stride, 0)
	return p, nil
}

func (p *pool2d) Spec() LayerSpec {
	return LayerSpec{Kind: p.kind, In: []int{p.in[0], p.in[1], p.in[2]}, Kernel: p.k, Stride: p.stride}
}

// OutShape is (C, outH, outW).
func (p *pool2d) OutShape() []int { return []int{p.in[0], p.oh, p.ow} }

// SetIn records the per-example input shape (C, H, W). A shape that is not
// (C,H,W), or smaller than the window, gives an empty OutShape, which
// Net.Validate reports as an error.
func (p *pool2d) SetIn(in []int) {
	p.in = shape3(in)
	p.oh, p.ow = tensor.ConvOutSize(p.in[1], p.k, p.stride, 0), tensor.ConvOutSize(p.in[2], p.k, p.stride, 0)
}

func (p *pool2d) Params() []*Param { return nil }

// FollowAppend and FollowRemove track the channel count (SetIn with the
// new shape, which the network calls after surgery, agrees with them).
func (p *pool2d) FollowAppend(like []int) { p.in[0] += len(like) }
func (p *pool2d) FollowRemove(idx []int)  { p.in[0] -= len(idx) }

// begin checks x and sizes the output for a forward pass.
func (p *pool2d) begin(x *tensor.Tensor) {
	if len(x.Shape) != 4 || x.Shape[1] != p.in[0] || x.Shape[2] != p.in[1] || x.Shape[3] != p.in[2] {
		panic(fmt.Sprintf("nn: %s expects input (N,%d,%d,%d), got %v", p.kind, p.in[0], p.in[1], p.in[2], x.Shape))
	}
	p.n = x.Shape[0]
	p.x = x.Data[:x.Len()]
	p.y = tensor.Reshape(p.y, p.n, p.in[0], p.oh, p.ow)
}

// beginBackward checks dy and sizes dx.
func (p *pool2d) beginBackward(dy *tensor.Tensor) {
	if p.y == nil {
		panic(fmt.Sprintf("nn: %s Backward before Forward", p.kind))
	}
	if dy.Len() != p.y.Len() {
		panic(fmt.Sprintf("nn: %s output gradient has shape %v, output is %v", p.kind, dy.Shape, p.y.Shape))
	}
	p.dy = dy.Data[:dy.Len()]
	p.dx = tensor.Reshape(p.dx, p.n, p.in[0], p.in[1], p.in[2])
}

// images returns the number of planes in images [lo, hi) and their offsets
// in the input and the output.
func (p *pool2d) images(lo, hi int) (planes, xi, xo int) {
	c, hw, ohw := p.in[0], p.in[1]*p.in[2], p.oh*p.ow
	return (hi - lo) * c, lo * c * hw, lo * c * ohw
}

// MaxPool2D takes the maximum over k×k windows, recording where each
// maximum came from for the backward pass.
type MaxPool2D struct {
	pool2d
	arg      []int32
	fwd, bwd func(lo, hi int)
}

// NewMaxPool2D pools inputs of per-example shape in = (C, H, W) over
// kernel×kernel windows; stride 0 means stride = kernel.
func NewMaxPool2D(in []int, kernel, stride int) (*MaxPool2D, error) {
	p, err := newPool2D("maxpool", in, kernel, stride)
	if err != nil {
		return nil, err
	}
	l := &MaxPool2D{pool2d: p}
	l.fwd, l.bwd = l.forwardImages, l.backwardImages
	return l, nil
}

func (l *MaxPool2D) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	l.begin(x)
	if cap(l.arg) < l.y.Len() {
		l.arg = make([]int32, l.y.Len())
	}
	l.arg = l.arg[:l.y.Len()]
	tensor.ParallelFor(l.n, l.fwd)
	l.x = nil
	return l.y
}

// beginFused prepares a Forward on x whose planes a producer pools itself,
// one plane at a time while it is in cache (poolPlane), and returns the
// output; afterwards the layer is in the state Forward(x) leaves.
func (l *MaxPool2D) beginFused(x *tensor.Tensor) *tensor.Tensor {
	l.begin(x)
	l.x = nil
	if cap(l.arg) < l.y.Len() {
		l.arg = make([]int32, l.y.Len())
	}
	l.arg = l.arg[:l.y.Len()]
	return l.y
}

// poolPlane pools plane q (image·C + channel) of the input, given as src.
func (l *MaxPool2D) poolPlane(q int, src []float32) {
	ohw := l.oh * l.ow
	tensor.MaxPool2DForward(l.y.Data[q*ohw:(q+1)*ohw], l.arg[q*ohw:(q+1)*ohw], src, 1, l.in[1], l.in[2], l.k, l.stride)
}

func (l *MaxPool2D) forwardImages(lo, hi int) {
	c, xo, yo := l.images(lo, hi)
	hw, ohw := l.in[1]*l.in[2], l.oh*l.ow
	tensor.MaxPool2DForward(l.y.Data[yo:yo+c*ohw], l.arg[yo:yo+c*ohw], l.x[xo:xo+c*hw], c, l.in[1], l.in[2], l.k, l.stride)
}

func (l *MaxPool2D) Backward(dy *tensor.Tensor) *tensor.Tensor {
	l.beginBackward(dy)
	tensor.ParallelFor(l.n, l.bwd)
	l.dy = nil
	return l.dx
}

func (l *MaxPool2D) backwardImages(lo, hi int) {
	c, xo, yo := l.images(lo, hi)
	hw, ohw := l.in[1]*l.in[2], l.oh*l.ow
	dx := l.dx.Data[xo : xo+c*hw]
	clear(dx)
	tensor.MaxPool2DBackward(dx, l.dy[yo:yo+c*ohw], l.arg[yo:yo+c*ohw], c, l.in[1], l.in[2], l.k, l.stride)
}

// AvgPool2D averages over k×k windows.
type AvgPool2D struct {
	pool2d
	fwd, bwd func(lo, hi int)
}

// NewAvgPool2D pools inputs of per-example shape in = (C, H, W) over
// kernel×kernel windows; stride 0 means stride = kernel.
func NewAvgPool2D(in []int, kernel, stride int) (*AvgPool2D, error) {
	p, err := newPool2D("avgpool", in, kernel, stride)
	if err != nil {
		return nil, err
	}
	l := &AvgPool2D{pool2d: p}
	l.fwd, l.bwd = l.forwardImages, l.backwardImages
	return l, nil
}

func (l *AvgPool2D) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	l.begin(x)
	tensor.ParallelFor(l.n, l.fwd)
	l.x = nil
	return l.y
}

func (l *AvgPool2D) forwardImages(lo, hi int) {
	c, xo, yo := l.images(lo, hi)
	hw, ohw := l.in[1]*l.in[2], l.oh*l.ow
	tensor.AvgPool2DForward(l.y.Data[yo:yo+c*ohw], l.x[xo:xo+c*hw], c, l.in[1], l.in[2], l.k, l.stride)
}

func (l *AvgPool2D) Backward(dy *tensor.Tensor) *tensor.Tensor {
	l.beginBackward(dy)
	tensor.ParallelFor(l.n, l.bwd)
	l.dy = nil
	return l.dx
}

func (l *AvgPool2D) backwardImages(lo, hi int) {
	c, xo, yo := l.images(lo, hi)
	hw, ohw := l.in[1]*l.in[2], l.oh*l.ow
	dx := l.dx.Data[xo : xo+c*hw]
	clear(dx)
	tensor.AvgPool2DBackward(dx, l.dy[yo:yo+c*ohw], c, l.in[1], l.in[2], l.k, l.stride)
}

// GlobalAvgPool averages each channel over its whole H×W plane: (N, C, H, W)
// becomes (N, C), ready for a dense layer without a Flatten.
type GlobalAvgPool struct {
	in    [3]int
	n     int
	y, dx *tensor.Tensor
}

// NewGlobalAvgPool pools inputs of per-example shape in = (C, H, W).
func NewGlobalAvgPool(in []int) (*GlobalAvgPool, error) {
	if len(in) != 3 || in[0] < 1 || in[1] < 1 || in[2] < 1 {
		return nil, fmt.Errorf("gap: input shape %v is not (C,H,W) with positive sizes", in)
	}
	return &GlobalAvgPool{in: [3]int{in[0], in[1], in[2]}}, nil
}

func (l *GlobalAvgPool) Spec() LayerSpec {
	return LayerSpec{Kind: "gap", In: []int{l.in[0], l.in[1], l.in[2]}}
}

// OutShape is (C).
func (l *GlobalAvgPool) OutShape() []int { return []int{l.in[0]} }

// SetIn records the per-example input shape (C, H, W); another shape gives
// an empty OutShape, which Net.Validate reports as an error.
func (l *GlobalAvgPool) SetIn(in []int) { l.in = shape3(in) }

func (l *GlobalAvgPool) Params() []*Param { return nil }

// FollowAppend and FollowRemove track the channel count.
func (l *GlobalAvgPool) FollowAppend(like []int) { l.in[0] += len(like) }
func (l *GlobalAvgPool) FollowRemove(idx []int)  { l.in[0] -= len(idx) }

// Forward and Backward are memory-bound single passes; they run serially.
func (l *GlobalAvgPool) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	if len(x.Shape) != 4 || x.Shape[1] != l.in[0] || x.Shape[2] != l.in[1] || x.Shape[3] != l.in[2] {
		panic(fmt.Sprintf("nn: gap expects input (N,%d,%d,%d), got %v", l.in[0], l.in[1], l.in[2], x.Shape))
	}
	l.n = x.Shape[0]
	l.y = tensor.Reshape(l.y, l.n, l.in[0])
	tensor.GlobalAvgPoolForward(l.y.Data, x.Data, l.n*l.in[0], l.in[1]*l.in[2])
	return l.y
}

func (l *GlobalAvgPool) Backward(dy *tensor.Tensor) *tensor.Tensor {
	if l.y == nil {
		panic("nn: gap Backward before Forward")
	}
	if dy.Len() != l.y.Len() {
		panic(fmt.Sprintf("nn: gap output gradient has shape %v, output is %v", dy.Shape, l.y.Shape))
	}
	l.dx = tensor.Reshape(l.dx, l.n, l.in[0], l.in[1], l.in[2])
	clear(l.dx.Data)
	tensor.GlobalAvgPoolBackward(l.dx.Data, dy.Data, l.n*l.in[0], l.in[1]*l.in[2])
	return l.dx
}

func init() {
	builders["maxpool"] = func(s LayerSpec, _ *rand.Rand) (Layer, error) {
		return asLayer(NewMaxPool2D(s.In, s.Kernel, s.Stride))
	}
	builders["avgpool"] = func(s LayerSpec, _ *rand.Rand) (Layer, error) {
		return asLayer(NewAvgPool2D(s.In, s.Kernel, s.Stride))
	}
	builders["gap"] = func(s LayerSpec, _ *rand.Rand) (Layer, error) {
		return asLayer(NewGlobalAvgPool(s.In))
	}
}

// asLayer converts a constructor's result, keeping a failed one a nil
// interface rather than a typed nil pointer.
func asLayer[L Layer](l L, err error) (Layer, error) {
	if err != nil {
		return nil, err
	}
	return l, nil
}
