package npi

import (
	"math"

	"github.com/nadir-ml/nadir/nn"
)

// adam is the Adam optimiser (Kingma & Ba) over nn.Params, with the moment
// estimates in each parameter's Slots[0] and Slots[1] and the gradient
// clipped to a global L2 norm first (the LSTM occasionally meets a steep
// step early in training).
type adam struct {
	lr, beta1, beta2, eps, clip float64
	t                           int
}

func newAdam(lr float64) *adam {
	return &adam{lr: lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, clip: 5}
}

// step updates every non-frozen parameter from its gradient.
func (a *adam) step(params []*nn.Param) {
	var norm float64
	for _, p := range params {
		for _, g := range p.Grad {
			norm += float64(g) * float64(g)
		}
	}
	norm = math.Sqrt(norm)
	scale := 1.0
	if a.clip > 0 && norm > a.clip {
		scale = a.clip / norm
	}
	a.t++
	c1 := 1 - math.Pow(a.beta1, float64(a.t))
	c2 := 1 - math.Pow(a.beta2, float64(a.t))
	lr := float32(a.lr * math.Sqrt(c2) / c1)
	b1, b2 := float32(a.beta1), float32(a.beta2)
	eps := float32(a.eps * math.Sqrt(c2))
	for _, p := range params {
		if p.Frozen {
			continue
		}
		p.EnsureSlots(2)
		m, v := p.Slots[0], p.Slots[1]
		for i, g := range p.Grad {
			g *= float32(scale)
			m[i] = b1*m[i] + (1-b1)*g
			v[i] = b2*v[i] + (1-b2)*g*g
			p.Data[i] -= lr * m[i] / (float32(math.Sqrt(float64(v[i]))) + eps)
		}
	}
}
