package toy

import (
	"fmt"
	"math"
	"strings"

	"github.com/nadir-ml/nadir/nn"
)

// Activation is σ with its first two derivatives, all the toy network
// needs: σ' for gradients and σ″ for splitting matrices. nn.Activation
// satisfies it.
type Activation interface {
	F(z float64) float64
	D1(z float64) float64
	D2(z float64) float64
	String() string
}

// RBF is the Gaussian bump σ(z) = exp(−z²/2) of the S2D toy experiment
// (METHODS.md §1.5); nn has no such activation because no layer needs it.
type RBF struct{}

// F is exp(−z²/2).
func (RBF) F(z float64) float64 { return math.Exp(-z * z / 2) }

// D1 is −z·exp(−z²/2).
func (RBF) D1(z float64) float64 { return -z * math.Exp(-z*z/2) }

// D2 is (z²−1)·exp(−z²/2).
func (RBF) D2(z float64) float64 { return (z*z - 1) * math.Exp(-z*z/2) }

// FD returns σ(z) and σ'(z) with one exponential.
func (RBF) FD(z float64) (f, d1 float64) {
	e := math.Exp(-z * z / 2)
	return e, -z * e
}

// String is "rbf".
func (RBF) String() string { return "rbf" }

// ParseActivation reads "rbf" or any smooth activation nn.ParseActivation
// accepts (tanh, softplus[:beta], sigmoid, swish). ReLU-type activations
// are refused: σ″ vanishes, so the toy's splitting matrices would too
// (the surrogate of nn.Activation.SplitD2 belongs to deep networks, not to
// an experiment that checks the second-order prediction).
func ParseActivation(s string) (Activation, error) {
	if strings.EqualFold(strings.TrimSpace(s), "rbf") {
		return RBF{}, nil
	}
	a, err := nn.ParseActivation(s)
	if err != nil {
		return nil, fmt.Errorf("%w (or rbf)", err)
	}
	switch a.Kind {
	case nn.Tanh, nn.Softplus, nn.Sigmoid, nn.Swish:
		return smooth{a}, nil
	}
	return nil, fmt.Errorf("activation %q has a zero second derivative almost everywhere; the toy experiments need rbf, tanh, softplus, sigmoid or swish", s)
}

// smooth is an nn.Activation with a fused σ, σ' for the hot loop of
// Net.Gradient.
type smooth struct{ nn.Activation }

// FD returns σ(z) and σ'(z), sharing the transcendental call where it can.
func (a smooth) FD(z float64) (f, d1 float64) {
	switch a.Kind {
	case nn.Tanh:
		t := math.Tanh(z)
		return t, 1 - t*t
	case nn.Sigmoid:
		s := a.F(z)
		return s, s * (1 - s)
	}
	return a.F(z), a.D1(z)
}

// fder is implemented by activations with a fused σ, σ'.
type fder interface {
	FD(z float64) (f, d1 float64)
}

// fd returns σ(z), σ'(z) through the fused path when there is one.
func fd(a Activation, z float64) (float64, float64) {
	if f, ok := a.(fder); ok {
		return f.FD(z)
	}
	return a.F(z), a.D1(z)
}
