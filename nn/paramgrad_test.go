package nn

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nadir-ml/nadir/tensor"
)

// With NoParamGrad, Backward leaves the convolutions' and dense layers'
// parameter gradients at zero and every layer's output gradient is
// bitwise what a full Backward gives, on every convolution path (per
// image, grouped images, correlation, narrow filters, centre taps, dense
// maps, depthwise, pointwise) and for 1 and 3 threads.
func TestNoParamGrad(t *testing.T) {
	defer tensor.SetThreads(tensor.Threads())
	for _, spec := range []string{"cnn:c16,p,c16,p,c16,c16,p,c16,c16,p,c16,c16,g", "cnn:c8,p,c6,c6,p,c5,g",
		"cnn:c4k5,c7s2,p,f12", "cnn:c4,d6,p,d5,f7", "mlp:9,4"} {
		for _, th := range []int{1, 3} {
			tensor.SetThreads(th)
			r := rand.New(rand.NewPCG(7, 8))
			in := []int{1, 28, 28}
			if spec == "mlp:9,4" {
				in = []int{13}
			}
			net, err := ParseModel(spec, in, 5, Activation{Kind: ReLU}, r)
			if err != nil {
				t.Fatal(err)
			}
			randomiseNetBN(net, r)
			x := uniformTensor(r, append([]int{9}, in...)...)
			labels := make([]int, 9)
			for i := range labels {
				labels[i] = i % 5
			}
			run := func(noParam bool) [][]float32 {
				net.ZeroGrad()
				net.NoParamGrad = noParam
				var ce SoftmaxCE
				ce.Forward(net.Forward(x, false), labels)
				net.Backward(ce.Backward())
				var g [][]float32
				for i := range net.Layers {
					g = append(g, slices.Clone(net.Grad(i).Data[:net.Grad(i).Len()]))
				}
				return g
			}
			want := run(false)
			got := run(true)
			for i := range want {
				if !slices.Equal(got[i], want[i]) {
					t.Fatalf("%s, %d threads: layer %d's output gradient differs", spec, th, i)
				}
			}
			for i, l := range net.Layers {
				if _, ok := l.(ParamGradSkipper); !ok {
					continue
				}
				for _, p := range l.Params() {
					for _, v := range p.Grad {
						if v != 0 {
							t.Fatalf("%s: layer %d (%s) formed a parameter gradient", spec, i, l.Spec().Kind)
						}
					}
				}
			}
			net.NoParamGrad = false
		}
	}
}

// The growth benchmark's network, one batch of 128: Backward with and
// without the parameter gradients (the splitting statistics' pass needs
// only the layers' output gradients).
func BenchmarkBackwardNoParamGrad(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	net, err := ParseModel("cnn:c16,p,c16,p,c16,c16,p,c16,c16,p,c16,c16,g", []int{1, 28, 28}, 10, Activation{Kind: ReLU}, r)
	if err != nil {
		b.Fatal(err)
	}
	x := uniformTensor(r, 128, 1, 28, 28)
	labels := make([]int, 128)
	for i := range labels {
		labels[i] = i % 10
	}
	for _, skip := range []bool{false, true} {
		name := "params"
		if skip {
			name = "no-params"
		}
		b.Run(name, func(b *testing.B) {
			net.NoParamGrad = skip
			var ce SoftmaxCE
			ce.Forward(net.Forward(x, false), labels)
			dy := ce.Backward()
			for b.Loop() {
				net.Backward(dy)
			}
		})
	}
}
