package grow

import (
	"math"
	"slices"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/tensor"
)

// SplitLosses measures the mean loss over the statistics batches after
// each edit of a growth step, as MeanLoss does, without rerunning the
// layers an edit cannot have changed. Surgery on layer L changes layer L
// and later layers only, so the output of layers [0, L) on each batch is
// computed once (when a loss at L is first asked for) and kept, and each
// measurement runs layers L onwards. The engine applies edits from the
// last layer backwards, so each layer's prefix is computed once per step.
// Results equal MeanLoss's bitwise (nn.Net.InferRange).
type SplitLosses struct {
	net   *nn.Net
	b     *data.Batcher
	steps []int

	at     int        // layer whose input is cached; -1: none
	layers []nn.Layer // the layers [0, at) the cache was computed with
	xs     []*tensor.Tensor
	ys     [][]int
	x      *tensor.Tensor
}

// NewSplitLosses measures net on the given batches of b.
func NewSplitLosses(net *nn.Net, b *data.Batcher, steps []int) *SplitLosses {
	return &SplitLosses{net: net, b: b, steps: steps, at: -1}
}

// Loss is the mean loss over the batches when only layers layer and later
// may have changed since the last call with the same layer.
func (s *SplitLosses) Loss(layer int) float64 {
	net := s.net
	layer = min(max(layer, 0), len(net.Layers))
	if layer != s.at || !slices.Equal(s.layers, net.Layers[:layer]) {
		s.fill(layer)
	}
	var ce nn.SoftmaxCE
	var sum float64
	var n int
	for k, x := range s.xs {
		y := s.ys[k]
		sum += ce.Forward(net.InferRange(x, layer, len(net.Layers)), y) * float64(len(y))
		n += len(y)
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// fill caches the input of layer at for every batch.
func (s *SplitLosses) fill(at int) {
	s.at = at
	s.layers = append(s.layers[:0], s.net.Layers[:at]...)
	s.xs = slices.Grow(s.xs[:0], len(s.steps))[:len(s.steps)]
	s.ys = slices.Grow(s.ys[:0], len(s.steps))[:len(s.steps)]
	for k, st := range s.steps {
		var y []int
		s.x, y = s.b.Batch(st, s.x, nil)
		s.ys[k] = y
		out := s.net.InferRange(s.x, 0, at)
		s.xs[k] = tensor.Reshape(s.xs[k], out.Shape...)
		copy(s.xs[k].Data, out.Data[:out.Len()])
	}
}
