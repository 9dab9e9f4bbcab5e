package grow_test

import (
	"math/rand/v2"
	"testing"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/grow"
	"github.com/nadir-ml/nadir/nn"
)

// SplitLosses equals MeanLoss bitwise through a growth step's sequence of
// edits, last layer first, and notices edits before its cached layer.
func TestSplitLossesMatchesMeanLoss(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	d := &data.Dataset{Name: "img", Shape: []int{1, 8, 8}, Classes: 3}
	for i := 0; i < 20; i++ {
		for j := 0; j < 64; j++ {
			d.X = append(d.X, float32(r.NormFloat64()))
		}
		d.Y = append(d.Y, i%3)
	}
	net, err := nn.ParseModel("cnn:c4,p,c5,c3,g", d.Shape, 3, nn.Activation{Kind: nn.ReLU}, r)
	if err != nil {
		t.Fatal(err)
	}
	b := data.NewBatcher(d, 6)
	b.Epoch(nil)
	steps := []int{0, 1, 3}
	ls := grow.NewSplitLosses(net, b, steps)
	layers := net.Growable()
	last := 0.0
	check := func(at int, what string) {
		t.Helper()
		got, want := ls.Loss(at), grow.MeanLoss(net, b, steps)
		if got != want {
			t.Errorf("%s: SplitLosses %v, MeanLoss %v", what, got, want)
		}
		if got == last {
			t.Errorf("%s: the loss did not change (%v): the edit tests nothing", what, got)
		}
		last = got
	}
	check(layers[len(layers)-1], "before")
	edit := func(li int) {
		in := make([]float32, net.Layers[li].(nn.Producer).FanIn())
		for j := range in {
			in[j] = float32(r.NormFloat64())
		}
		out, err := net.OutgoingColumn(li, 0)
		if err != nil {
			t.Fatal(err)
		}
		for j := range out {
			out[j] = float32(r.NormFloat64())
		}
		if err := net.AddUnits(li, []nn.NewUnit{{In: in, Like: 0, Out: out}}); err != nil {
			t.Fatal(err)
		}
	}
	for k := len(layers) - 1; k >= 0; k-- {
		edit(layers[k])
		check(layers[k], "after an edit of its own layer")
	}
	// Asked at a later layer after an earlier one changed, it recomputes.
	edit(layers[0])
	check(layers[1], "later layer after an edit of the first")
}
