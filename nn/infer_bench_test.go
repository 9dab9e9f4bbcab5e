package nn

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkInferBlocks times Infer on single fused blocks of the growth
// benchmark's network (batch 128, width 16): the one-channel first layer,
// a 14×14 layer (a GEMM per image), a 7×7 layer (image groups) and a 3×3
// layer (dense matrix, or image groups for comparison).
func BenchmarkInferBlocks(b *testing.B) {
	for _, bc := range []struct {
		name, spec string
		in         []int
		alt        func() (restore func())
	}{
		{"28x28_c1", "cnn:c16,p", []int{1, 28, 28}, nil},
		{"14x14_c16", "cnn:c16,p", []int{16, 14, 14}, nil},
		{"7x7_c16/groups", "cnn:c16,p", []int{16, 7, 7}, nil},
		{"3x3_c16/dense", "cnn:c16,p", []int{16, 3, 3}, nil},
		{"3x3_c16/groups", "cnn:c16,p", []int{16, 3, 3}, noDense},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			net, err := ParseModel(bc.spec, bc.in, 10, Activation{Kind: ReLU}, r)
			if err != nil {
				b.Fatal(err)
			}
			randomiseNetBN(net, r)
			x := uniformTensor(r, append([]int{128}, bc.in...)...)
			if bc.alt != nil {
				defer bc.alt()()
			}
			for b.Loop() {
				net.Infer(x)
			}
		})
	}
}

// noDense turns the dense small-map path off until restore.
func noDense() (restore func()) {
	old := denseMaxPlane
	denseMaxPlane = 0
	return func() { denseMaxPlane = old }
}
