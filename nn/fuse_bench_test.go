package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/nadir-ml/nadir/tensor"
)

// Benchmarks of the training paths of fuse_test.go against the layers run
// one by one (or the general convolution path), on the growth benchmark's
// shapes at batch 128: forward and backward per iteration.

// benchNet times Forward(train) and Backward of net on x with a fixed
// output gradient.
func benchNet(b *testing.B, net *Net, x *tensor.Tensor) {
	y := net.Forward(x, true)
	dy := tensor.New(y.Shape...)
	for i := range dy.Data {
		dy.Data[i] = float32(i%7) - 3
	}
	net.Backward(dy)
	b.ResetTimer()
	for b.Loop() {
		net.Forward(x, true)
		net.Backward(dy)
	}
}

// BenchmarkBNReLUPool: BatchNorm → ReLU → 2×2 max pool on 128×16×28×28,
// forward and backward, fused by Net (the default), with only the forward
// fused, and one layer at a time.
func BenchmarkBNReLUPool(b *testing.B) {
	for _, mode := range []string{"fused", "fwd-fused", "layers"} {
		b.Run(mode, func(b *testing.B) {
			defer func() { fuseBNReLU, fuseBackward = true, true }()
			fuseBNReLU, fuseBackward = mode != "layers", mode == "fused"
			in := []int{16, 28, 28}
			bn, err := NewBatchNorm(in)
			if err != nil {
				b.Fatal(err)
			}
			pool, err := NewMaxPool2D(in, 2, 0)
			if err != nil {
				b.Fatal(err)
			}
			net, err := NewNet(in, bn, NewAct(Activation{Kind: ReLU}, in), pool)
			if err != nil {
				b.Fatal(err)
			}
			net.InputGrad = true
			benchNet(b, net, uniformTensor(rand.New(rand.NewPCG(1, 1)), 128, 16, 28, 28))
		})
	}
}

// BenchmarkConvSmallMaps: 3×3 convolutions 16→16 on the benchmark's 3×3
// and 1×1 maps: the default (dense matrix on 3×3, centre taps on 1×1),
// image groups (dense off) and per-image GEMMs over all taps.
func BenchmarkConvSmallMaps(b *testing.B) {
	for _, hw := range []int{3, 1} {
		for _, mode := range []string{"fast", "groups", "general"} {
			b.Run(map[int]string{3: "3x3/", 1: "1x1/"}[hw]+mode, func(b *testing.B) {
				defer func(g, d int) { convGroupMaxCols, denseMaxPlane, centreTaps = g, d, true }(convGroupMaxCols, denseMaxPlane)
				if mode != "fast" {
					denseMaxPlane = 0
				}
				if mode == "general" {
					convGroupMaxCols, centreTaps = 0, false
				}
				benchConv(b, []int{16, hw, hw})
			})
		}
	}
}

// BenchmarkConvOneChannel: the benchmark's first layer (1→16 on 28×28),
// with the transposed weight gradient (the default) and the direct one.
func BenchmarkConvOneChannel(b *testing.B) {
	for _, narrow := range []bool{true, false} {
		b.Run(map[bool]string{true: "dWt", false: "dW"}[narrow], func(b *testing.B) {
			defer func() { narrowDW = true }()
			narrowDW = narrow
			benchConv(b, []int{1, 28, 28})
		})
	}
}

func benchConv(b *testing.B, in []int) {
	r := rand.New(rand.NewPCG(1, 1))
	c, err := NewConv2D(in, 16, 3, 1, 1, 1, false, r)
	if err != nil {
		b.Fatal(err)
	}
	net, err := NewNet(in, c)
	if err != nil {
		b.Fatal(err)
	}
	net.InputGrad = in[0] > 1 // the first layer forms no input gradient
	benchNet(b, net, uniformTensor(r, append([]int{128}, in...)...))
}

// BenchmarkConvInputGrad: the benchmark's 16→16 3×3 convolutions on 28×28,
// 14×14 and 7×7 maps, forward and backward, with both gradients from
// im2col(dY) (the default, dxByCorrelation) and with dW from im2col(X) and
// dX by Wᵀ·dY and col2im.
func BenchmarkConvInputGrad(b *testing.B) {
	for _, hw := range []int{28, 14, 7} {
		for _, corr := range []bool{true, false} {
			b.Run(fmt.Sprintf("%dx%d/%s", hw, hw, map[bool]string{true: "corr", false: "col2im"}[corr]), func(b *testing.B) {
				defer func() { dxCorrelate = true }()
				dxCorrelate = corr
				benchConv(b, []int{16, hw, hw})
			})
		}
	}
}
