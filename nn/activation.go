package nn

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ActKind names an activation function.
type ActKind int

const (
	Identity ActKind = iota
	ReLU
	LeakyReLU
	Softplus
	Tanh
	Sigmoid
	Swish
)

var actNames = map[ActKind]string{Identity: "identity", ReLU: "relu", LeakyReLU: "leakyrelu",
	Softplus: "softplus", Tanh: "tanh", Sigmoid: "sigmoid", Swish: "swish"}

// Activation is σ with its first and second derivatives. Beta is the
// softplus sharpness (default 1) or the leaky-ReLU negative slope
// (default 0.01).
//
// Splitting needs σ″. ReLU and leaky ReLU have σ″ = 0 almost everywhere,
// which would make every splitting matrix vanish, so SplitD2 substitutes the
// second derivative of a softplus with sharpness SurrogateBeta (3 by
// default, as the reference code does; METHODS.md §1.3), scaled by (1−slope)
// for leaky ReLU. Identity uses σ″ ≡ 1, the reference code's heuristic for
// linear layers. Every other activation uses its exact σ″.
type Activation struct {
	Kind          ActKind
	Beta          float64
	SurrogateBeta float64
}

// ParseActivation reads "relu", "tanh", "softplus", "softplus:3",
// "leakyrelu:0.2", "sigmoid", "swish", "identity".
func ParseActivation(s string) (Activation, error) {
	name, arg, hasArg := strings.Cut(strings.ToLower(strings.TrimSpace(s)), ":")
	for k, n := range actNames {
		if n != name {
			continue
		}
		a := Activation{Kind: k}
		if hasArg {
			if k != Softplus && k != LeakyReLU {
				return Activation{}, fmt.Errorf("activation %q takes no parameter", name)
			}
			v, err := strconv.ParseFloat(arg, 64)
			if err != nil || v <= 0 || math.IsInf(v, 0) {
				return Activation{}, fmt.Errorf("activation %q: bad parameter %q", name, arg)
			}
			a.Beta = v
		}
		return a.withDefaults(), nil
	}
	return Activation{}, fmt.Errorf("unknown activation %q (want relu, leakyrelu[:slope], softplus[:beta], tanh, sigmoid, swish, identity)", s)
}

func (a Activation) withDefaults() Activation {
	if a.Beta == 0 {
		switch a.Kind {
		case Softplus:
			a.Beta = 1
		case LeakyReLU:
			a.Beta = 0.01
		}
	}
	if a.SurrogateBeta == 0 {
		a.SurrogateBeta = 3
	}
	return a
}

// String is the form ParseActivation reads.
func (a Activation) String() string {
	n := actNames[a.Kind]
	if (a.Kind == Softplus && a.Beta != 1) || (a.Kind == LeakyReLU && a.Beta != 0.01) {
		n += ":" + strconv.FormatFloat(a.Beta, 'g', -1, 64)
	}
	return n
}

func sigm(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// F is σ(z).
func (a Activation) F(z float64) float64 {
	switch a.Kind {
	case ReLU:
		return math.Max(z, 0)
	case LeakyReLU:
		if z < 0 {
			return a.Beta * z
		}
		return z
	case Softplus:
		bz := a.Beta * z
		if bz > 20 {
			return z
		}
		return math.Log1p(math.Exp(bz)) / a.Beta
	case Tanh:
		return math.Tanh(z)
	case Sigmoid:
		return sigm(z)
	case Swish:
		return z * sigm(z)
	}
	return z
}

// D1 is σ'(z).
func (a Activation) D1(z float64) float64 {
	switch a.Kind {
	case ReLU:
		if z > 0 {
			return 1
		}
		return 0
	case LeakyReLU:
		if z < 0 {
			return a.Beta
		}
		return 1
	case Softplus:
		return sigm(a.Beta * z)
	case Tanh:
		t := math.Tanh(z)
		return 1 - t*t
	case Sigmoid:
		s := sigm(z)
		return s * (1 - s)
	case Swish:
		s := sigm(z)
		return s + z*s*(1-s)
	}
	return 1
}

// D2 is the true σ″(z) (0 for ReLU, leaky ReLU and identity).
func (a Activation) D2(z float64) float64 {
	switch a.Kind {
	case Softplus:
		s := sigm(a.Beta * z)
		return a.Beta * s * (1 - s)
	case Tanh:
		t := math.Tanh(z)
		return -2 * t * (1 - t*t)
	case Sigmoid:
		s := sigm(z)
		return s * (1 - s) * (1 - 2*s)
	case Swish:
		s := sigm(z)
		return 2*s*(1-s) + z*s*(1-s)*(1-2*s)
	}
	return 0
}

// SplitD2 is the σ″ used by the splitting matrix (see the type comment).
func (a Activation) SplitD2(z float64) float64 {
	switch a.Kind {
	case ReLU, LeakyReLU:
		// β·s(βz)·(1−s(βz)) = β·e/(1+e)² with e = exp(−|βz|): one
		// exponential and no overflow (this runs once per statistics row).
		b := a.SurrogateBeta
		e := math.Exp(-math.Abs(b * z))
		d := b * e / ((1 + e) * (1 + e))
		if a.Kind == LeakyReLU {
			d *= 1 - a.Beta
		}
		return d
	case Identity:
		return 1
	}
	return a.D2(z)
}
