package grow_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nadir-ml/nadir/grow"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/tensor"
)

// bnNet is a small conv net with BatchNorm whose running statistics have
// seen a few batches, and a batch to evaluate it on.
func bnNet(t *testing.T) (*nn.Net, *tensor.Tensor) {
	t.Helper()
	r := rand.New(rand.NewPCG(2, 2))
	act, _ := nn.ParseActivation("relu")
	net, err := nn.ParseModel("cnn:c4,p,c5,d6,g", []int{2, 6, 6}, 3, act, r)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(8, 2, 6, 6)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	for range 5 {
		net.Forward(x, true)
	}
	return net, x
}

func clone(t *testing.T, n *nn.Net) *nn.Net {
	t.Helper()
	b, err := n.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c, err := nn.UnmarshalNet(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func maxAbsDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}

// Shrinking alone rescales only filters that a BatchNorm normalises (and
// that BatchNorm's running statistics with them): the function is kept in
// training and evaluation mode. The noise turns those filters and leaves
// the classifier alone.
func TestShrinkPerturb(t *testing.T) {
	net, x := bnNet(t)
	// Evaluation first: a training-mode pass updates the running statistics.
	wantE := net.Forward(x, false).Clone()
	wantT := clone(t, net).Forward(x, true).Clone()
	shrunk := clone(t, net)
	grow.ShrinkPerturb(shrunk, 0.5, 0, rand.New(rand.NewPCG(1, 1)))
	if d := maxAbsDiff(shrunk.Forward(x, false).Data, wantE.Data); d > 1e-4 {
		t.Errorf("shrink changed the evaluation-mode output by %g", d)
	}
	if d := maxAbsDiff(shrunk.Forward(x, true).Data, wantT.Data); d > 1e-4 {
		t.Errorf("shrink changed the training-mode output by %g", d)
	}
	conv := net.Layers[0].(*nn.Conv2D).W
	if got := shrunk.Layers[0].(*nn.Conv2D).W.Data[0]; math.Abs(float64(got-conv.Data[0]/2)) > 1e-7 {
		t.Errorf("first filter weight %g after shrinking by ½, want %g", got, conv.Data[0]/2)
	}
	noisy := clone(t, net)
	grow.ShrinkPerturb(noisy, 1, 0.2, rand.New(rand.NewPCG(1, 1)))
	if d := maxAbsDiff(noisy.Forward(x, true).Data, wantT.Data); d < 1e-3 {
		t.Errorf("perturbing left the output within %g", d)
	}
	head := len(net.Layers) - 1
	if d := maxAbsDiff(noisy.Layers[head].Params()[0].Data, net.Layers[head].Params()[0].Data); d != 0 {
		t.Errorf("perturbing changed the classifier (no BatchNorm after it) by %g", d)
	}
}

// Reinit draws exactly what nn.Build draws for the architecture,
// BatchNorm running statistics included.
func TestReinit(t *testing.T) {
	net, _ := bnNet(t)
	if err := grow.Reinit(net, rand.New(rand.NewPCG(9, 9))); err != nil {
		t.Fatal(err)
	}
	fresh, err := nn.Build(net.Spec(), rand.New(rand.NewPCG(9, 9)))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := net.MarshalBinary()
	b, _ := fresh.MarshalBinary()
	if string(a) != string(b) {
		t.Error("reinitialised network differs from a fresh build of its architecture")
	}
}
