package split

import (
	"fmt"
	"math"

	"github.com/nadir-ml/nadir/nn"
)

// A split that puts all of an off-spring's weight w_j on its outgoing
// weights (the surgery of METHODS.md §1) leaves each copy's incoming
// weights and BatchNorm γ, β at their parent's values while they receive
// w_j times the parent's gradient, and the outgoing weights at w_j times
// their value with the full gradient: relative learning rates of w_j and
// 1/w_j. A balanced split instead scales every parameter group along the
// unit's path (incoming weights and bias, each BatchNorm's γ and β, a
// following depthwise filter, the outgoing weights) by √w_j. Through
// positively homogeneous layers (ReLU, leaky ReLU, identity, pooling,
// flatten, dropout, linear depthwise filters) the path's product is then
// w_j as before — the same network function at every ε — and every group's
// gradient is √w_j times its parent's, like its value: each parameter keeps
// its parent's gradient-to-value ratio. Layers in between that BatchNorm
// normalises (incoming weights, a depthwise filter) are scale-invariant;
// scaling them by √w_j as well keeps their effective step, and the running
// statistics of the BatchNorm after them are rescaled so that evaluation
// mode computes the same function too.

// balanceable reports whether unit scaling through layer li's chain is
// function-preserving: every follower must be positively homogeneous.
func balanceable(net *nn.Net, li int) bool {
	info, err := net.Chain(li)
	if err != nil {
		return false
	}
	for _, j := range info.Followers {
		switch l := net.Layers[j].(type) {
		case *nn.BatchNorm, *nn.MaxPool2D, *nn.AvgPool2D, *nn.GlobalAvgPool, *nn.Flatten, *nn.Dropout:
		case *nn.Act:
			if k := l.A.Kind; k != nn.ReLU && k != nn.LeakyReLU && k != nn.Identity {
				return false
			}
		case *nn.Conv2D:
			// A depthwise filter (the only convolution a chain may hold).
		default:
			return false
		}
	}
	return true
}

// scaleUnit multiplies unit u's incoming weights and bias in producer li
// and its per-channel parameters downstream (BatchNorm γ and β, depthwise
// filter and bias) by a, rescaling BatchNorm running statistics by the
// factor their input changes by, and returns the factor s by which the
// signal the consumer sees changes: the unit's outgoing weights must be
// divided by s to keep the function. Optimiser state follows: a single
// slot (SGD momentum, in gradient units) is scaled by a, since the
// gradient of each scaled group scales by a as well; several slots
// (Adam's or RMSprop's moments, whose units differ) restart at zero.
func scaleUnit(net *nn.Net, li, u int, a float64) (float64, error) {
	info, err := net.Chain(li)
	if err != nil {
		return 0, err
	}
	p := net.Layers[li].(nn.Producer)
	scaleRow(p.Weight(), u, a)
	if b := p.BiasParam(); b != nil {
		scaleRow(b, u, a)
	}
	s := a // scale of the unit's signal at this point of the chain
	for _, j := range info.Followers {
		switch l := net.Layers[j].(type) {
		case *nn.BatchNorm:
			l.RunMean[u] *= float32(s)
			l.RunVar[u] *= float32(s * s)
			scaleRow(l.Gamma, u, a)
			scaleRow(l.Beta, u, a)
			s = a
		case *nn.Conv2D:
			scaleRow(l.W, u, a)
			s *= a
			if l.B != nil {
				scaleRow(l.B, u, s)
			}
		}
	}
	return s, nil
}

// scaleRow multiplies row r of p (data and optimiser state) by a.
func scaleRow(p *nn.Param, r int, a float64) {
	lo, hi := r*p.Cols, (r+1)*p.Cols
	for i := lo; i < hi; i++ {
		p.Data[i] = float32(float64(p.Data[i]) * a)
	}
	scaleSlots(p, lo, hi, a)
}

// scaleSlots scales the optimiser state of elements [lo, hi) of p by a, or
// clears it when the parameter holds several slots.
func scaleSlots(p *nn.Param, lo, hi int, a float64) {
	for _, sl := range p.Slots {
		for i := lo; i < hi; i++ {
			if len(p.Slots) == 1 {
				sl[i] = float32(float64(sl[i]) * a)
			} else {
				sl[i] = 0
			}
		}
	}
}

// scaleOutgoingSlots scales the optimiser state of unit u's outgoing
// weights in its consumer by a (cleared with several slots).
func scaleOutgoingSlots(net *nn.Net, li, u int, a float64) error {
	info, err := net.Chain(li)
	if err != nil {
		return err
	}
	var w *nn.Param
	g := 1
	switch c := net.Layers[info.Consumer].(type) {
	case *nn.Dense:
		w, g = c.W, info.Spatial
	case *nn.Conv2D:
		w = c.W
		g = c.Spec().Kernel * c.Spec().Kernel
	default:
		return fmt.Errorf("layer %d: cannot reach the outgoing weights of a %T", li, c)
	}
	for r := 0; r < w.Rows; r++ {
		scaleSlots(w, r*w.Cols+u*g, r*w.Cols+(u+1)*g, a)
	}
	return nil
}

// balancedShares reports whether a scheme's split can be balanced: every
// off-spring weight positive (√w needs w > 0) and the chain homogeneous.
func balancedShares(net *nn.Net, li int, s Scheme) bool {
	for _, w := range s.Weights {
		if w <= 0 || math.IsNaN(w) {
			return false
		}
	}
	return balanceable(net, li)
}
