package nn

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nadir-ml/nadir/tensor"
)

// trainStepResult runs one Forward/Backward of net on x with softmax
// cross-entropy and returns every layer's output and output gradient,
// every parameter gradient and the BatchNorm running statistics, in order.
func trainStepResult(net *Net, x *tensor.Tensor, labels []int) [][]float32 {
	net.ZeroGrad()
	var loss SoftmaxCE
	out := net.Forward(x, true)
	loss.Forward(out, labels)
	net.Backward(loss.Backward())
	var res [][]float32
	for i := range net.Layers {
		res = append(res, slices.Clone(net.Output(i).Data))
		if g := net.Grad(i); g != nil { // nil before the first layer with parameters
			res = append(res, slices.Clone(g.Data))
		}
	}
	for _, p := range net.Params() {
		res = append(res, slices.Clone(p.Grad))
	}
	for _, l := range net.Layers {
		if bn, ok := l.(*BatchNorm); ok {
			res = append(res, slices.Clone(bn.RunMean), slices.Clone(bn.RunVar))
		}
	}
	return res
}

// Net's fused BatchNorm+ReLU forward and its fused max pool, ReLU and
// BatchNorm backward equal the layers run one by one bitwise (outputs,
// gradients, running statistics), and a training step is bitwise the same
// for any thread count.
func TestFusedBNReLUMatchesLayers(t *testing.T) {
	defer tensor.SetThreads(tensor.Threads())
	defer func() { fuseBNReLU, fuseBackward = true, true }()
	for _, spec := range []string{"cnn:c8,p,c6,c6,p,c5,g", "cnn:c4k5,c7s2,p,f12", "mlp:9", "cnn:c5,p,c3,c3,p,c4,p,g"} {
		var ref [][]float32
		for _, tc := range []struct {
			fuse, bwd bool
			threads   int
		}{{false, false, 1}, {true, true, 1}, {true, true, 2}, {true, true, 3}, {false, false, 3}, {false, true, 2}, {true, false, 1}} {
			fuseBNReLU, fuseBackward = tc.fuse, tc.bwd
			tensor.SetThreads(tc.threads)
			r := rand.New(rand.NewPCG(5, 6))
			net, err := ParseModel(spec, []int{2, 15, 13}, 5, Activation{Kind: ReLU}, r)
			if err != nil {
				t.Fatal(err)
			}
			randomiseNetBN(net, r)
			x := uniformTensor(r, 12, 2, 15, 13)
			labels := make([]int, 12)
			for i := range labels {
				labels[i] = i % 5
			}
			got := trainStepResult(net, x, labels)
			if ref == nil {
				ref = got
				continue
			}
			for i := range got {
				if !slices.Equal(got[i], ref[i]) {
					t.Fatalf("%s, fused %v/%v, %d threads: result %d differs from the unfused one-thread step", spec, tc.fuse, tc.bwd, tc.threads, i)
				}
			}
		}
	}
}

// netLayer presents a Net as one Layer for checkGrad, with the input
// gradient on.
type netLayer struct{ *Net }

func (l netLayer) Spec() LayerSpec { return LayerSpec{Kind: "net"} }
func (l netLayer) SetIn([]int)     {}
func (l netLayer) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	return l.Net.Forward(x, train)
}
func (l netLayer) Backward(dy *tensor.Tensor) *tensor.Tensor {
	l.Net.InputGrad = true
	return l.Net.Backward(dy)
}

// The fused BatchNorm+ReLU(+max pool) gradients match finite differences,
// in training and evaluation mode. β puts every channel's zero midway between
// two adjacent outputs, so that no perturbation of checkGrad crosses the
// ReLU's kink (its inputs are at least 4h apart; γ = 2 widens that).
func TestFusedBNReLUGradients(t *testing.T) {
	defer func(v int) { fusePoolPlane = v }(fusePoolPlane)
	fusePoolPlane = 1
	in, batch := []int{3, 4, 5}, 3
	for _, train := range []bool{true, false} {
		pcg := rand.NewPCG(7, 8)
		bn := mustBN(t, in)
		randomiseBN(bn, rand.New(rand.NewPCG(9, 10)))
		for c := range bn.Gamma.Data {
			bn.Gamma.Data[c], bn.Beta.Data[c] = 2, 0
		}
		// checkGrad's input, drawn from a copy of its generator.
		twin := *pcg
		shape := append([]int{batch}, in...)
		n := tensor.Numel(shape)
		x := tensor.New(shape...)
		gap := 4 * gradStep
		for float64(n)*gap < 2 {
			gap *= 2
		}
		for i, p := range rand.New(&twin).Perm(n) {
			x.Data[i] = float32((float64(p-n/2) + 0.5) * gap)
		}
		y := bn.Forward(x, train)
		hw := tensor.Numel(in[1:])
		for c := range in[0] {
			var v []float64
			for i := range batch {
				for _, e := range y.Data[(i*in[0]+c)*hw : (i*in[0]+c+1)*hw] {
					v = append(v, float64(e))
				}
			}
			slices.Sort(v)
			mid := len(v) / 2
			bn.Beta.Data[c] = float32(-(v[mid-1] + v[mid]) / 2)
		}
		pool, err := NewMaxPool2D(in, 2, 0)
		if err != nil {
			t.Fatal(err)
		}
		net, err := NewNet(in, bn, NewAct(Activation{Kind: ReLU}, in), pool)
		if err != nil {
			t.Fatal(err)
		}
		checkGrad(t, fmt.Sprintf("fused bn→relu→pool train=%v", train), netLayer{net}, shape, train, rand.New(pcg))
	}
}

// Convolutions on small maps multiply several images' patches per GEMM, or
// on a 1×1 map only the centre taps. Those paths must agree with per-image
// GEMMs over all taps to rounding, be bitwise the
// same for any thread count, accumulate into Param.Grad, and match finite
// differences (batches above gradChunks, so that slices hold several
// images).
func TestConv2DImageGroups(t *testing.T) {
	defer tensor.SetThreads(tensor.Threads())
	defer func(v int) { convGroupMaxCols = v }(convGroupMaxCols)
	defer func(v int) { denseMaxPlane = v }(denseMaxPlane)
	defer func() { centreTaps = true }()
	denseMaxPlane = 0
	for _, sz := range [][2]int{{1, 1}, {3, 3}, {4, 3}, {2, 5}} {
		run := func(groupCols, threads int) [][]float32 {
			convGroupMaxCols = groupCols
			centreTaps = groupCols > 0
			tensor.SetThreads(threads)
			r := rand.New(rand.NewPCG(11, 12))
			c := mustConv(t, []int{3, sz[0], sz[1]}, 5, 3, 1, 1, 1, true, r)
			if groupCols > 0 {
				c.n = 37
				if c.groupImages() < 2 && !c.centreOnly() {
					t.Fatalf("%v: neither image groups nor centre taps", sz)
				}
			}
			x := uniformTensor(r, 37, 3, sz[0], sz[1])
			dy := uniformTensor(r, 37, 5, sz[0], sz[1])
			y := slices.Clone(c.Forward(x, true).Data)
			dx := slices.Clone(c.Backward(dy).Data)
			once := slices.Clone(c.W.Grad)
			c.Forward(x, true)
			c.Backward(dy)
			for i, v := range c.W.Grad {
				if d := v - 2*once[i]; d > 1e-5 || d < -1e-5 {
					t.Fatalf("%v: second Backward gave W.Grad[%d] = %v, want 2×%v", sz, i, v, once[i])
				}
			}
			return [][]float32{y, dx, once, slices.Clone(c.B.Grad)}
		}
		ref := run(0, 1)
		grouped := run(16, 1)
		for k := range ref {
			if d := maxAbsDiff(grouped[k], ref[k]); d > 1e-5 {
				t.Errorf("%v: result %d of image groups differs from per-image GEMMs by %g", sz, k, d)
			}
		}
		for _, th := range []int{2, 3, 8} {
			got := run(16, th)
			for k := range got {
				if !slices.Equal(got[k], grouped[k]) {
					t.Fatalf("%v, %d threads: result %d differs from one thread", sz, th, k)
				}
			}
		}
	}
	convGroupMaxCols = 16
	tensor.SetThreads(2)
	r := rand.New(rand.NewPCG(13, 14))
	c := mustConv(t, []int{2, 3, 3}, 3, 3, 1, 1, 1, true, r)
	checkGrad(t, "conv2d image groups", c, []int{20, 2, 3, 3}, true, r)
	centreTaps = true
	c = mustConv(t, []int{4, 1, 1}, 3, 3, 1, 1, 1, true, r)
	checkGrad(t, "conv2d centre taps", c, []int{20, 4, 1, 1}, true, r)
	for i, v := range c.W.Grad {
		if i%9 != 4 && v != 0 {
			t.Fatalf("centre taps: off-centre weight %d has gradient %v", i, v)
		}
	}
}

// A one-channel 3×3 convolution forms its weight gradient transposed
// (narrowFilters): the same as the direct product to rounding, bitwise the
// same for any thread count, and matching finite differences.
func TestConv2DNarrowFilters(t *testing.T) {
	defer tensor.SetThreads(tensor.Threads())
	defer func() { narrowDW = true }()
	run := func(narrow bool, threads int) [][]float32 {
		narrowDW = narrow
		tensor.SetThreads(threads)
		r := rand.New(rand.NewPCG(15, 16))
		c := mustConv(t, []int{1, 9, 11}, 16, 3, 1, 1, 1, true, r)
		if c.narrowFilters() != narrow {
			t.Fatal("narrowFilters does not follow narrowDW")
		}
		x := uniformTensor(r, 19, 1, 9, 11)
		dy := uniformTensor(r, 19, 16, 9, 11)
		c.Forward(x, true)
		dx := slices.Clone(c.Backward(dy).Data)
		return [][]float32{dx, slices.Clone(c.W.Grad), slices.Clone(c.B.Grad)}
	}
	ref := run(false, 1)
	got := run(true, 1)
	for k := range ref {
		if d := maxAbsDiff(got[k], ref[k]); d > 1e-4 {
			t.Errorf("result %d: transposed weight gradient differs by %g", k, d)
		}
	}
	for _, th := range []int{2, 3} {
		for k, v := range run(true, th) {
			if !slices.Equal(v, got[k]) {
				t.Fatalf("%d threads: result %d differs from one thread", th, k)
			}
		}
	}
	r := rand.New(rand.NewPCG(17, 18))
	c := mustConv(t, []int{1, 5, 5}, 16, 3, 1, 1, 1, true, r)
	c.n = 10
	if c.groupImages() != 1 {
		t.Fatal("the finite-difference case groups images; it must take the narrow path")
	}
	checkGrad(t, "conv2d narrow filters", c, []int{10, 1, 5, 5}, true, r)
}

// A stride-1 convolution forms both gradients from im2col(dY)
// (dxByCorrelation): the same as the general path (dW from im2col(X), dX
// by Wᵀ·dY and col2im) to rounding, bitwise the same for any thread count,
// and matching finite differences. Odd and even kernels, paddings 0 to k−1, maps wider
// than 16 columns.
func TestConv2DInputGradCorrelation(t *testing.T) {
	if !tensor.FastIm2Col(3, 1, 7) {
		t.Skip("no vectorised im2col on this machine: the correlation path is off")
	}
	defer tensor.SetThreads(tensor.Threads())
	defer func() { dxCorrelate = true }()
	for _, g := range []struct{ cin, out, h, w, k, pad int }{
		{4, 4, 7, 7, 3, 1}, {5, 3, 9, 18, 3, 0}, {3, 3, 6, 5, 3, 2}, {4, 2, 8, 8, 2, 1}, {2, 2, 11, 20, 5, 2},
	} {
		run := func(corr bool, threads int) [][]float32 {
			dxCorrelate = corr
			tensor.SetThreads(threads)
			r := rand.New(rand.NewPCG(19, 20))
			c := mustConv(t, []int{g.cin, g.h, g.w}, g.out, g.k, 1, g.pad, 1, true, r)
			if c.dxByCorrelation() != corr {
				t.Fatalf("%+v: dxByCorrelation %v, want %v", g, !corr, corr)
			}
			oh, ow := tensor.ConvOutSize(g.h, g.k, 1, g.pad), tensor.ConvOutSize(g.w, g.k, 1, g.pad)
			x := uniformTensor(r, 19, g.cin, g.h, g.w)
			dy := uniformTensor(r, 19, g.out, oh, ow)
			c.Forward(x, true)
			dx := slices.Clone(c.Backward(dy).Data)
			return [][]float32{dx, slices.Clone(c.W.Grad), slices.Clone(c.B.Grad)}
		}
		ref := run(false, 1)
		got := run(true, 1)
		for k := range ref {
			if d := maxAbsDiff(got[k], ref[k]); d > 1e-4 {
				t.Errorf("%+v: result %d: correlation input gradient differs by %g", g, k, d)
			}
		}
		for _, th := range []int{2, 3} {
			for k, v := range run(true, th) {
				if !slices.Equal(v, got[k]) {
					t.Fatalf("%+v, %d threads: result %d differs from one thread", g, th, k)
				}
			}
		}
	}
	dxCorrelate = true
	tensor.SetThreads(2)
	r := rand.New(rand.NewPCG(21, 22))
	c := mustConv(t, []int{3, 5, 6}, 3, 3, 1, 1, 1, true, r)
	c.n = 10
	if !c.dxByCorrelation() || c.groupImages() != 1 {
		t.Fatal("the finite-difference case must take the correlation path")
	}
	checkGrad(t, "conv2d input gradient by correlation", c, []int{10, 3, 5, 6}, true, r)
}

// Convolutions on maps of at most denseMaxPlane positions run as one dense
// matrix over whole images: the same as per-image GEMMs over patches to
// rounding, bitwise the same for any thread count, accumulating into
// Param.Grad, and matching finite differences; strides, paddings, kernels
// larger than the map, with and without bias, first layer (no dx). Planes
// larger than k·k positions keep the patch path.
func TestConv2DDenseMaps(t *testing.T) {
	defer tensor.SetThreads(tensor.Threads())
	defer func(v, g int) { denseMaxPlane, convGroupMaxCols = v, g }(denseMaxPlane, convGroupMaxCols)
	for _, g := range []struct {
		cin, out, h, w, k, stride, pad int
		bias, skipDx                   bool
	}{
		{5, 4, 3, 3, 3, 1, 1, true, false}, {3, 6, 3, 2, 3, 1, 1, false, false}, {4, 4, 3, 3, 3, 2, 1, true, false},
		{2, 3, 2, 5, 5, 1, 2, true, false}, {3, 2, 2, 2, 2, 1, 0, true, true},
	} {
		run := func(dense bool, threads int) [][]float32 {
			denseMaxPlane, convGroupMaxCols = 0, 0
			if dense {
				denseMaxPlane = 16
			}
			tensor.SetThreads(threads)
			r := rand.New(rand.NewPCG(23, 24))
			c := mustConv(t, []int{g.cin, g.h, g.w}, g.out, g.k, g.stride, g.pad, 1, g.bias, r)
			if c.denseMaps() != dense {
				t.Fatalf("%+v: denseMaps %v, want %v", g, !dense, dense)
			}
			c.SkipInputGrad(g.skipDx)
			x := uniformTensor(r, 21, g.cin, g.h, g.w)
			oh, ow := c.OutHW()
			dy := uniformTensor(r, 21, g.out, oh, ow)
			y := slices.Clone(c.Forward(x, true).Data)
			var dx []float32
			if d := c.Backward(dy); d != nil {
				dx = slices.Clone(d.Data)
			} else if !g.skipDx {
				t.Fatalf("%+v: no input gradient", g)
			}
			once := slices.Clone(c.W.Grad)
			c.Forward(x, true)
			c.Backward(dy)
			for i, v := range c.W.Grad {
				if d := v - 2*once[i]; d > 1e-5 || d < -1e-5 {
					t.Fatalf("%+v: second Backward gave W.Grad[%d] = %v, want 2×%v", g, i, v, once[i])
				}
			}
			res := [][]float32{y, dx, once, slices.Clone(c.Patches(nil, 3))}
			if g.bias {
				res = append(res, slices.Clone(c.B.Grad))
			}
			return res
		}
		ref := run(false, 1)
		got := run(true, 1)
		for k := range ref {
			if d := maxAbsDiff(got[k], ref[k]); d > 1e-5 || len(got[k]) != len(ref[k]) {
				t.Errorf("%+v: result %d of the dense path differs from per-image GEMMs by %g", g, k, d)
			}
		}
		for _, th := range []int{2, 3} {
			for k, v := range run(true, th) {
				if !slices.Equal(v, got[k]) {
					t.Fatalf("%+v, %d threads: result %d differs from one thread", g, th, k)
				}
			}
		}
	}
	denseMaxPlane = 16
	if c := mustConv(t, []int{3, 4, 4}, 4, 3, 1, 1, 1, true, nil); c.denseMaps() {
		t.Fatal("a 4×4 map under a 3×3 kernel takes the dense path")
	}
	tensor.SetThreads(2)
	r := rand.New(rand.NewPCG(25, 26))
	c := mustConv(t, []int{3, 3, 3}, 4, 3, 1, 1, 1, true, r)
	if !c.denseMaps() {
		t.Fatal("the finite-difference case must take the dense path")
	}
	checkGrad(t, "conv2d dense maps", c, []int{10, 3, 3, 3}, true, r)
}
