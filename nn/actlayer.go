package nn

import (
	"math"
	"math/rand/v2"

	"github.com/nadir-ml/nadir/tensor"
)

// Act applies an activation elementwise. It caches its input z (the
// pre-activation the splitting statistics need) and its output. ReLU runs
// the vectorised tensor kernels, split over threads in blocks of reluBlock
// values (an elementwise map: the split cannot change a result).
type Act struct {
	A     Activation
	in    []int
	z     *tensor.Tensor
	y, dx *tensor.Tensor
	dy    []float32 // the gradient being back-propagated

	reluFwd, reluBwd func(lo, hi int)
}

// reluBlock is the number of values one ReLU task covers: large enough
// that a task's cost dwarfs handing it to a thread.
const reluBlock = 1 << 15

// NewAct makes an activation layer for per-example shape in.
func NewAct(a Activation, in []int) *Act {
	l := &Act{A: a.withDefaults(), in: append([]int(nil), in...)}
	l.reluFwd, l.reluBwd = l.reluForwardBlocks, l.reluBackwardBlocks
	return l
}

// blocks is the number of reluBlock-sized tasks over n values.
func blocks(n int) int { return (n + reluBlock - 1) / reluBlock }

// blockRange is the values of tasks [lo, hi) over n values.
func blockRange(lo, hi, n int) (int, int) { return lo * reluBlock, min(hi*reluBlock, n) }

func (l *Act) reluForwardBlocks(lo, hi int) {
	i, j := blockRange(lo, hi, l.y.Len())
	tensor.ReLU(l.y.Data[i:j], l.z.Data[i:j])
}

func (l *Act) reluBackwardBlocks(lo, hi int) {
	i, j := blockRange(lo, hi, l.dx.Len())
	tensor.ReLUGrad(l.dx.Data[i:j], l.dy[i:j], l.z.Data[i:j])
}

// reluOutput sizes the output buffer for an input of the given shape and
// returns it, for a producer that writes the ReLU of its output in the
// same pass (BatchNorm.forwardReLU). Setting z to the producer's output
// then leaves the layer in the state Forward(z) would.
func (l *Act) reluOutput(shape []int) []float32 {
	l.y = tensor.Reshape(l.y, shape...)
	return l.y.Data
}

func (l *Act) Spec() LayerSpec {
	return LayerSpec{Kind: "act", In: l.in, Act: actNames[l.A.Kind], Beta: l.A.Beta}
}
func (l *Act) OutShape() []int       { return append([]int(nil), l.in...) }
func (l *Act) SetIn(in []int)        { l.in = append(l.in[:0], in...) }
func (l *Act) Params() []*Param      { return nil }
func (l *Act) FollowAppend([]int)    {}
func (l *Act) FollowRemove([]int)    {}
func (l *Act) Input() *tensor.Tensor { return l.z }

func (l *Act) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	l.z = x
	l.y = tensor.Reshape(l.y, x.Shape...)
	xs, ys := x.Data[:x.Len()], l.y.Data
	switch l.A.Kind {
	case ReLU:
		if l.reluFwd == nil { // an Act built as a struct literal
			l.reluFwd, l.reluBwd = l.reluForwardBlocks, l.reluBackwardBlocks
		}
		tensor.ParallelFor(blocks(len(xs)), l.reluFwd)
	case Identity:
		copy(ys, xs)
	case LeakyReLU:
		s := float32(l.A.Beta)
		for i, v := range xs {
			if v < 0 {
				v *= s
			}
			ys[i] = v
		}
	default:
		for i, v := range xs {
			ys[i] = float32(l.A.F(float64(v)))
		}
	}
	return l.y
}

func (l *Act) Backward(dy *tensor.Tensor) *tensor.Tensor {
	l.dx = tensor.Reshape(l.dx, dy.Shape...)
	zs, ds, dx := l.z.Data[:l.z.Len()], dy.Data, l.dx.Data
	switch l.A.Kind {
	case ReLU:
		if l.reluBwd == nil {
			l.reluFwd, l.reluBwd = l.reluForwardBlocks, l.reluBackwardBlocks
		}
		l.dy = ds[:len(zs)]
		tensor.ParallelFor(blocks(len(zs)), l.reluBwd)
		l.dy = nil
	case Identity:
		copy(dx, ds[:len(zs)])
	case Tanh:
		ys := l.y.Data
		for i, y := range ys[:len(zs)] {
			dx[i] = ds[i] * (1 - y*y)
		}
	case Sigmoid:
		ys := l.y.Data
		for i, y := range ys[:len(zs)] {
			dx[i] = ds[i] * y * (1 - y)
		}
	default:
		for i, z := range zs {
			dx[i] = ds[i] * float32(l.A.D1(float64(z)))
		}
	}
	return l.dx
}

// Flatten turns C×H×W into one vector per example (a view: no copy).
type Flatten struct {
	in    []int
	y, dx tensor.Tensor
}

func NewFlatten(in []int) *Flatten { return &Flatten{in: append([]int(nil), in...)} }

func (l *Flatten) Spec() LayerSpec    { return LayerSpec{Kind: "flatten", In: l.in} }
func (l *Flatten) OutShape() []int    { return []int{tensor.Numel(l.in)} }
func (l *Flatten) SetIn(in []int)     { l.in = append(l.in[:0], in...) }
func (l *Flatten) Params() []*Param   { return nil }
func (l *Flatten) FollowAppend([]int) {}
func (l *Flatten) FollowRemove([]int) {}

// Spatial is the number of flattened values per input channel.
func (l *Flatten) Spatial() int {
	if len(l.in) < 2 {
		return 1
	}
	return tensor.Numel(l.in[1:])
}

func (l *Flatten) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	n := x.Shape[0]
	l.y.Data = x.Data[:x.Len()]
	l.y.Shape = append(l.y.Shape[:0], n, x.Len()/n)
	return &l.y
}

func (l *Flatten) Backward(dy *tensor.Tensor) *tensor.Tensor {
	l.dx.Data = dy.Data[:dy.Len()]
	l.dx.Shape = append(l.dx.Shape[:0], dy.Shape[0])
	l.dx.Shape = append(l.dx.Shape, l.in...)
	return &l.dx
}

// Dropout zeroes each input with probability Rate in training and scales
// the survivors by 1/(1−Rate) (inverted dropout); identity in evaluation.
type Dropout struct {
	Rate  float64
	in    []int
	r     *rand.Rand
	mask  []float32
	y, dx *tensor.Tensor
	train bool
}

func NewDropout(rate float64, in []int) *Dropout {
	return &Dropout{Rate: rate, in: append([]int(nil), in...)}
}

func (l *Dropout) Spec() LayerSpec      { return LayerSpec{Kind: "dropout", In: l.in, Rate: l.Rate} }
func (l *Dropout) OutShape() []int      { return append([]int(nil), l.in...) }
func (l *Dropout) SetIn(in []int)       { l.in = append(l.in[:0], in...) }
func (l *Dropout) Params() []*Param     { return nil }
func (l *Dropout) FollowAppend([]int)   {}
func (l *Dropout) FollowRemove([]int)   {}
func (l *Dropout) SetRand(r *rand.Rand) { l.r = r }

func (l *Dropout) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	l.train = train && l.Rate > 0
	l.y = tensor.Reshape(l.y, x.Shape...)
	n := x.Len()
	if !l.train {
		copy(l.y.Data, x.Data[:n])
		return l.y
	}
	if l.r == nil {
		panic("nn: dropout used in training without a random source (Net.SetRand)")
	}
	if cap(l.mask) < n {
		l.mask = make([]float32, n)
	}
	l.mask = l.mask[:n]
	keep := float32(1 / (1 - l.Rate))
	thr := uint64(l.Rate * math.MaxUint64)
	for i := range l.mask {
		if l.r.Uint64() < thr {
			l.mask[i] = 0
		} else {
			l.mask[i] = keep
		}
		l.y.Data[i] = x.Data[i] * l.mask[i]
	}
	return l.y
}

func (l *Dropout) Backward(dy *tensor.Tensor) *tensor.Tensor {
	l.dx = tensor.Reshape(l.dx, dy.Shape...)
	n := dy.Len()
	if !l.train {
		copy(l.dx.Data, dy.Data[:n])
		return l.dx
	}
	for i := 0; i < n; i++ {
		l.dx.Data[i] = dy.Data[i] * l.mask[i]
	}
	return l.dx
}
