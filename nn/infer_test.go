package nn

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nadir-ml/nadir/tensor"
)

// randomiseNetBN gives every BatchNorm non-trivial running statistics and
// affine parameters, as training would.
func randomiseNetBN(net *Net, r *rand.Rand) {
	for _, l := range net.Layers {
		if bn, ok := l.(*BatchNorm); ok {
			for c := range bn.RunMean {
				bn.RunMean[c] = float32(r.NormFloat64() * 0.3)
				bn.RunVar[c] = float32(0.2 + r.Float64())
				bn.Gamma.Data[c] = float32(0.5 + r.Float64())
				bn.Beta.Data[c] = float32(r.NormFloat64() * 0.2)
			}
		}
	}
}

// Infer must agree with Forward(x, false) up to rounding for fused blocks
// (with and without a pool, odd sizes, other kernels and strides) and the
// layers it does not fuse; be bitwise the same for any thread count; and
// leave Forward and Backward working.
func TestInferMatchesForward(t *testing.T) {
	defer tensor.SetThreads(tensor.Threads())
	for _, spec := range []string{
		"cnn:c8,p,c6,c6,p,c5,p,g",
		"cnn:c4k5,c7s2,p,d6,f12",
		"cnn:c3,c4,p",
		"cnn:c4,p,c4,p,c4,p,c3,c5", // convolutions on 1×1 maps
		"cnn:c4,p,c4,p,c3,c4,p,f6", // dense 3×3 maps, without and with a pool
	} {
		r := rand.New(rand.NewPCG(1, 2))
		net, err := ParseModel(spec, []int{2, 15, 13}, 5, Activation{Kind: ReLU}, r)
		if err != nil {
			t.Fatal(err)
		}
		randomiseNetBN(net, r)
		// 20 images: batch slices of 2-3, so small maps are grouped.
		x := uniformTensor(r, 20, 2, 15, 13)
		labels := make([]int, 20)
		for i := range labels {
			labels[i] = i % 5
		}
		want := slices.Clone(net.Forward(x, false).Data)
		var first []float32
		for _, th := range []int{1, 2, 3} {
			tensor.SetThreads(th)
			got := net.Infer(x).Data
			if d := maxAbsDiff(got, want); d > 1e-5 {
				t.Errorf("%s, %d threads: Infer differs from Forward by %g", spec, th, d)
			}
			if first == nil {
				first = slices.Clone(got)
			} else if !slices.Equal(first, got) {
				t.Errorf("%s: Infer with %d threads is not bitwise the single-thread result", spec, th)
			}
		}
		// A training pass after Infer gives the gradients it gives alone.
		grads := func() []float32 {
			net.ZeroGrad()
			var ce SoftmaxCE
			ce.Forward(net.Forward(x, true), labels)
			net.Backward(ce.Backward())
			var g []float32
			for _, p := range net.Params() {
				g = append(g, p.Grad...)
			}
			return g
		}
		// Training moves the running statistics; restore them between runs.
		bufs := func() (s [][]float32) {
			for _, l := range net.Layers {
				if bn, ok := l.(*BatchNorm); ok {
					s = append(s, slices.Clone(bn.RunMean), slices.Clone(bn.RunVar))
				}
			}
			return s
		}
		restore := func(s [][]float32) {
			k := 0
			for _, l := range net.Layers {
				if bn, ok := l.(*BatchNorm); ok {
					copy(bn.RunMean, s[k])
					copy(bn.RunVar, s[k+1])
					k += 2
				}
			}
		}
		saved := bufs()
		g1 := grads()
		restore(saved)
		net.Infer(x)
		g2 := grads()
		if !slices.Equal(g1, g2) {
			t.Errorf("%s: gradients after Infer differ", spec)
		}
	}
}

// Infer follows surgery: after a conv layer gains filters it still agrees
// with Forward.
func TestInferAfterSurgery(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	net, err := ParseModel("cnn:c4,p,c4,g", []int{1, 8, 8}, 3, Activation{Kind: ReLU}, r)
	if err != nil {
		t.Fatal(err)
	}
	randomiseNetBN(net, r)
	x := uniformTensor(r, 3, 1, 8, 8)
	net.Infer(x)
	if err := net.AddUnits(0, []NewUnit{{In: make([]float32, 9), Like: 1}}); err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(net.Forward(x, false).Data)
	if d := maxAbsDiff(net.Infer(x).Data, want); d > 1e-5 {
		t.Errorf("after surgery Infer differs from Forward by %g", d)
	}
}

// Running a prefix and then the suffix from any producer gives Infer's
// result bitwise.
func TestInferRangeSplitsAtProducers(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	net, err := ParseModel("cnn:c5,p,c6,c4,p,f7", []int{1, 12, 12}, 4, Activation{Kind: ReLU}, r)
	if err != nil {
		t.Fatal(err)
	}
	randomiseNetBN(net, r)
	x := uniformTensor(r, 3, 1, 12, 12)
	want := slices.Clone(net.Infer(x).Data)
	for _, li := range append(net.Growable(), 0, len(net.Layers)) {
		mid := net.InferRange(x, 0, li).Clone()
		if got := net.InferRange(mid, li, len(net.Layers)).Data; !slices.Equal(got, want) {
			t.Errorf("split at layer %d: result differs from Infer", li)
		}
	}
}
