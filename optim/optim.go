package optim

import (
	"fmt"
	"math"
	"strings"

	"github.com/nadir-ml/nadir/nn"
)

// Optimizer updates parameters from their gradients. State lives in each
// Param's Slots, so it follows neuron surgery: new units start from zero
// state and removed units drop theirs.
type Optimizer interface {
	// Step applies one update with learning rate lr to every non-frozen param.
	Step(params []*nn.Param, lr float64)
	Name() string
}

// SGD with momentum, optional Nesterov, and L2 weight decay added to the
// gradient (PyTorch's convention).
type SGD struct {
	Momentum    float64
	Nesterov    bool
	WeightDecay float64
}

func (o *SGD) Name() string { return "sgd" }

func (o *SGD) Step(params []*nn.Param, lr float64) {
	mu, wd, l := float32(o.Momentum), float32(o.WeightDecay), float32(lr)
	for _, p := range params {
		if p.Frozen {
			continue
		}
		decay := wd
		if p.NoDecay {
			decay = 0
		}
		if mu == 0 {
			d := p.Data[:len(p.Grad)]
			if decay == 0 {
				for i, g := range p.Grad {
					d[i] -= l * g
				}
				continue
			}
			for i, g := range p.Grad {
				d[i] -= l * (g + decay*d[i])
			}
			continue
		}
		p.EnsureSlots(1)
		buf := p.Slots[0]
		for i, g := range p.Grad {
			g += decay * p.Data[i]
			b := mu*buf[i] + g
			buf[i] = b
			if o.Nesterov {
				g += mu * b
			} else {
				g = b
			}
			p.Data[i] -= l * g
		}
	}
}

// Adam (Kingma & Ba) with L2 weight decay in the gradient. T, the step
// count used for bias correction, is saved in checkpoints.
type Adam struct {
	Beta1, Beta2, Eps float64
	WeightDecay       float64
	T                 int
}

func (o *Adam) Name() string { return "adam" }

func (o *Adam) Step(params []*nn.Param, lr float64) {
	o.T++
	c1 := 1 - math.Pow(o.Beta1, float64(o.T))
	c2 := 1 - math.Pow(o.Beta2, float64(o.T))
	step := float32(lr / c1)
	sc2 := float32(1 / math.Sqrt(c2))
	eps := float32(o.Eps)
	fb1, fb2, wd := float32(o.Beta1), float32(o.Beta2), float32(o.WeightDecay)
	for _, p := range params {
		if p.Frozen {
			continue
		}
		p.EnsureSlots(2)
		m, v := p.Slots[0], p.Slots[1]
		decay := wd
		if p.NoDecay {
			decay = 0
		}
		for i, g := range p.Grad {
			g += decay * p.Data[i]
			m[i] = fb1*m[i] + (1-fb1)*g
			v[i] = fb2*v[i] + (1-fb2)*g*g
			p.Data[i] -= step * m[i] / (float32(math.Sqrt(float64(v[i])))*sc2 + eps)
		}
	}
}

// RMSprop (PyTorch's form) with optional momentum.
type RMSprop struct {
	Alpha, Eps, Momentum, WeightDecay float64
}

func (o *RMSprop) Name() string { return "rmsprop" }

func (o *RMSprop) Step(params []*nn.Param, lr float64) {
	a, eps, mu, wd, l := float32(o.Alpha), float32(o.Eps), float32(o.Momentum), float32(o.WeightDecay), float32(lr)
	for _, p := range params {
		if p.Frozen {
			continue
		}
		p.EnsureSlots(2)
		sq, buf := p.Slots[0], p.Slots[1]
		decay := wd
		if p.NoDecay {
			decay = 0
		}
		for i, g := range p.Grad {
			g += decay * p.Data[i]
			sq[i] = a*sq[i] + (1-a)*g*g
			d := g / (float32(math.Sqrt(float64(sq[i]))) + eps)
			if mu != 0 {
				buf[i] = mu*buf[i] + d
				d = buf[i]
			}
			p.Data[i] -= l * d
		}
	}
}

// New makes an optimiser by name with the field's usual defaults:
// sgd (momentum 0.9, Nesterov), adam (0.9, 0.999, 1e-8), rmsprop (α 0.99).
func New(name string, weightDecay float64) (Optimizer, error) {
	switch strings.ToLower(name) {
	case "sgd":
		return &SGD{Momentum: 0.9, Nesterov: true, WeightDecay: weightDecay}, nil
	case "adam":
		return &Adam{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: weightDecay}, nil
	case "rmsprop":
		return &RMSprop{Alpha: 0.99, Eps: 1e-8, WeightDecay: weightDecay}, nil
	}
	return nil, fmt.Errorf("unknown optimizer %q (want sgd, adam or rmsprop)", name)
}

// Schedule maps progress (step of total) to a learning rate.
type Schedule interface {
	LR(step, total int) float64
}

// Constant keeps the base rate.
type Constant struct{ Base float64 }

func (s Constant) LR(int, int) float64 { return s.Base }

// Cosine anneals from Base to 0 over total steps, after an optional linear
// warm-up.
type Cosine struct {
	Base   float64
	Warmup int
}

func (s Cosine) LR(step, total int) float64 {
	if step < s.Warmup {
		return s.Base * float64(step+1) / float64(s.Warmup)
	}
	if total <= s.Warmup {
		return s.Base
	}
	t := float64(step-s.Warmup) / float64(total-s.Warmup)
	return s.Base * 0.5 * (1 + math.Cos(math.Pi*min(t, 1)))
}

// Step multiplies Base by Gamma at each milestone fraction of training
// (0.5 and 0.75 by default: the schedule of the splitting papers).
type Step struct {
	Base       float64
	Gamma      float64
	Milestones []float64
}

func (s Step) LR(step, total int) float64 {
	lr := s.Base
	for _, m := range s.Milestones {
		if float64(step) >= m*float64(total) {
			lr *= s.Gamma
		}
	}
	return lr
}

// NewSchedule parses "const", "cosine" or "step".
func NewSchedule(name string, base float64) (Schedule, error) {
	switch strings.ToLower(name) {
	case "", "const", "constant":
		return Constant{base}, nil
	case "cosine":
		return Cosine{Base: base}, nil
	case "step":
		return Step{Base: base, Gamma: 0.1, Milestones: []float64{0.5, 0.75}}, nil
	}
	return nil, fmt.Errorf("unknown schedule %q (want const, cosine or step)", name)
}

// ClipGradNorm scales all gradients so that their joint L2 norm is at most
// maxNorm (recurrent nets meet occasional steep steps) and returns the norm
// before clipping.
func ClipGradNorm(params []*nn.Param, maxNorm float64) float64 {
	var ss float64
	for _, p := range params {
		for _, g := range p.Grad {
			ss += float64(g) * float64(g)
		}
	}
	norm := math.Sqrt(ss)
	if maxNorm > 0 && norm > maxNorm {
		s := float32(maxNorm / norm)
		for _, p := range params {
			for i := range p.Grad {
				p.Grad[i] *= s
			}
		}
	}
	return norm
}
