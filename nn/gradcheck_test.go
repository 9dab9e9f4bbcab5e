package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nadir-ml/nadir/tensor"
)

// Finite-difference gradient checking shared by the layer tests.
//
// The loss is L = Σ w⊙Forward(x) for a random projection w, summed in
// float64, and Backward(w) must return dL/dx and add dL/dθ into every
// Param.Grad. Numerical derivatives are central differences
// (L(v+h) − L(v−h))/2h with h = 2⁻⁷.
//
// Choices that keep float32 forward passes from drowning the comparison:
//   - x is a random permutation of the n values (i − ⌊n/2⌋ + ½)·g, with the
//     gap g = 4h, doubled until the values span [-1, 1]: any two inputs
//     differ by at least 4h and none is closer than 2h to 0, so a
//     perturbation of ±h never changes which input of a pooling window is
//     largest nor the sign of a ReLU input (no non-differentiable points);
//   - x, x±h and the parameters (rounded to multiples of 2⁻⁸ by the check)
//     are short dyadic numbers, so layers that are linear in what is
//     perturbed (convolutions, pooling, the affine part of BatchNorm)
//     compute both sides of a difference nearly exactly.
//
// Inputs of more than 64 values therefore span about ±n·2h: keep layers
// whose gradient is sensitive to the input's scale (BatchNorm in training,
// saturating activations) to inputs of at most a few hundred values.
const (
	gradStep    = 1.0 / 128
	gradMaxEval = 200  // elements checked per tensor
	gradTol     = 2e-2 // max relative error
)

// checkGrad compares l's Backward against central differences for an input
// of shape xShape (batch included) in train or eval mode: dx over the input
// and every parameter's gradient, over all elements of small tensors and
// gradMaxEval random ones of larger tensors. The error of one element is
// |a−n| / max(|a|+|n|, 10⁻³·scale) with scale the largest |a| or |n| in the
// tensor; the check fails above gradTol. l's Forward must be deterministic
// for a fixed input (BatchNorm's running statistics may change: train-mode
// outputs do not depend on them). The parameters are rounded to multiples of
// 2⁻⁸ first.
func checkGrad(t *testing.T, name string, l Layer, xShape []int, train bool, r *rand.Rand) {
	t.Helper()
	n := tensor.Numel(xShape)
	x := tensor.New(xShape...)
	gap := 4 * gradStep
	for float64(n)*gap < 2 {
		gap *= 2 // small inputs still span [-1, 1]
	}
	for i, p := range r.Perm(n) {
		x.Data[i] = float32((float64(p-n/2) + 0.5) * gap)
	}
	params := l.Params()
	for _, p := range params {
		for i, v := range p.Data {
			p.Data[i] = float32(math.Round(float64(v)*256) / 256)
		}
		p.ZeroGrad()
	}

	y := l.Forward(x, train)
	w := make([]float32, y.Len())
	for i := range w {
		w[i] = float32(2*r.Float64() - 1)
	}
	loss := func() float64 {
		y := l.Forward(x, train)
		if y.Len() != len(w) {
			t.Fatalf("%s: output size changed from %d to %d", name, len(w), y.Len())
		}
		var s float64
		for i, v := range y.Data[:len(w)] {
			s += float64(w[i]) * float64(v)
		}
		return s
	}
	dx := l.Backward(tensor.FromData(w, y.Shape...))
	if dx.Len() != n {
		t.Fatalf("%s: Backward returned %d values for %d inputs", name, dx.Len(), n)
	}
	analytic := [][]float32{append([]float32(nil), dx.Data[:n]...)}
	targets := [][]float32{x.Data}
	names := []string{"dx"}
	for _, p := range params {
		analytic = append(analytic, append([]float32(nil), p.Grad...))
		targets = append(targets, p.Data)
		names = append(names, "d"+p.Name)
	}

	for k, v := range targets {
		idx := make([]int, len(v))
		for i := range idx {
			idx[i] = i
		}
		if len(v) > gradMaxEval {
			idx = r.Perm(len(v))[:gradMaxEval]
		}
		num := make([]float64, len(idx))
		for j, i := range idx {
			orig := v[i]
			v[i] = orig + gradStep
			lp := loss()
			v[i] = orig - gradStep
			lm := loss()
			v[i] = orig
			num[j] = (lp - lm) / (2 * gradStep)
		}
		var scale float64
		for j, i := range idx {
			scale = math.Max(scale, math.Max(math.Abs(float64(analytic[k][i])), math.Abs(num[j])))
		}
		worst, at := 0.0, -1
		for j, i := range idx {
			a := float64(analytic[k][i])
			den := math.Max(math.Abs(a)+math.Abs(num[j]), 1e-3*scale)
			if den == 0 {
				continue
			}
			if e := math.Abs(a-num[j]) / den; e > worst {
				worst, at = e, j
			}
		}
		if worst > gradTol {
			t.Errorf("%s: %s[%d]: analytic %.6g, numeric %.6g (relative error %.2g; %d of %d checked, scale %.3g)",
				name, names[k], idx[at], analytic[k][idx[at]], num[at], worst, len(idx), len(v), scale)
		} else if testing.Verbose() {
			t.Logf("%s: %s: max relative error %.2g over %d of %d", name, names[k], worst, len(idx), len(v))
		}
	}
}
