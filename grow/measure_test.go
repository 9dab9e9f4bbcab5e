package grow_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/grow"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/tensor"
)

// SplitLosses equals MeanLoss through a growth step's sequence of edits,
// last layer first, and notices edits before its cached layer: bitwise on
// the plain path, to float32 rounding on the delta path.
func TestSplitLossesMatchesMeanLoss(t *testing.T) {
	for _, plain := range []bool{false, true} {
		t.Run(map[bool]string{false: "delta", true: "plain"}[plain], func(t *testing.T) { testSplitLosses(t, plain) })
	}
}

// splitLossesOn returns d in unshuffled batches of size batch and the
// split losses of net on steps of them, on the plain path if plain.
func splitLossesOn(net *nn.Net, d *data.Dataset, batch int, steps []int, plain bool) (*data.Batcher, []int, *grow.SplitLosses) {
	b := data.NewBatcher(d, batch)
	b.Epoch(nil)
	ls := grow.NewSplitLosses(net, b, steps)
	if plain {
		ls = grow.PlainSplitLosses(ls)
	}
	return b, steps, ls
}

func testSplitLosses(t *testing.T, plain bool) {
	r := rand.New(rand.NewPCG(1, 2))
	d, net := smallImageNet(t, r, 20)
	b, steps, ls := splitLossesOn(net, d, 6, []int{0, 1, 3}, plain)
	layers := net.Growable()
	last := 0.0
	check := func(at int, what string) {
		t.Helper()
		got, want := ls.Loss(at), grow.MeanLoss(net, b, steps)
		if plain && got != want || math.Abs(got-want) > 1e-6*math.Abs(want) {
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

// A growth step's splits (one unit's weights displaced, a copy added, the
// outgoing weights shared) measured on the delta path agree with full
// forward passes to float32 rounding, with and without a pool between the
// blocks, and through edits the delta cannot express that fall back to
// the plain path; the same measurements for any thread count.
func TestSplitLossesDelta(t *testing.T) {
	defer tensor.SetThreads(tensor.Threads())
	var first []float64
	for _, th := range []int{1, 2, 3} {
		tensor.SetThreads(th)
		got := splitLossesDelta(t)
		if first == nil {
			first = got
			continue
		}
		for k := range got {
			if got[k] != first[k] {
				t.Errorf("%d threads: measurement %d is %v, with one thread %v", th, k, got[k], first[k])
			}
		}
	}
	// The changed rows convolved from the image's patches (the path for
	// convolutions that are not "same") agree with MeanLoss too.
	defer grow.SetKn2row(false)()
	splitLossesDelta(t)
}

// splitLossesDelta runs the delta test's growth step and returns its
// measurements, which must not depend on the thread count.
func splitLossesDelta(t *testing.T) []float64 {
	var losses []float64
	r := rand.New(rand.NewPCG(3, 4))
	d := grow.RandomImages(r, 40, []int{2, 12, 12}, 4)
	net := measureNet(t, r, "cnn:c6,p,c5,c7,p,c4,c3,g", d.Shape, 4)
	b := data.NewBatcher(d, 16)
	b.Epoch(nil)
	steps := []int{0, 1}
	ls := grow.NewSplitLosses(net, b, steps)
	split := func(li, u int) {
		p := net.Layers[li].(nn.Producer)
		fan := p.FanIn()
		w := p.Weight().Data
		in := append([]float32(nil), w[u*fan:(u+1)*fan]...)
		for j := range in {
			dlt := float32(0.2 * r.NormFloat64())
			in[j] += dlt
			w[u*fan+j] -= dlt
		}
		out, err := net.OutgoingColumn(li, u)
		if err != nil {
			t.Fatal(err)
		}
		for j := range out {
			out[j] *= 0.4
		}
		if err := net.AddUnits(li, []nn.NewUnit{{In: in, Like: u, Out: out}}); err != nil {
			t.Fatal(err)
		}
		if err := net.ScaleOutgoing(li, u, 0.6); err != nil {
			t.Fatal(err)
		}
	}
	layers := net.Growable()
	var deltas int
	for k := len(layers) - 1; k >= 0; k-- {
		li := layers[k]
		for _, u := range []int{0, 2, 3} {
			var many bool
			switch {
			case u == 3 && k == 1:
				// Two units changed by one edit: still a delta.
				w := net.Layers[li].(nn.Producer).Weight()
				w.Data[w.Cols] += 0.3
			case u == 3 && k == 2:
				// Every unit changed: measured the plain way.
				w := net.Layers[li].(nn.Producer).Weight()
				for j := range w.Data {
					w.Data[j] *= 1.01
				}
				many = true
			case u == 2 && k == 3:
				// The consumer's BatchNorm changed too: its scale is in
				// the kept outputs, so measured the plain way.
				bn := net.Layers[layers[4]+1].(*nn.BatchNorm)
				bn.Gamma.Data[0] *= 1.5
				bn.Beta.Data[1] += 0.2
				many = true
			}
			split(li, u)
			got, want := ls.Loss(li), grow.MeanLoss(net, b, steps)
			losses = append(losses, got)
			if math.Abs(got-want) > 1e-6*math.Abs(want) {
				t.Errorf("layer %d unit %d: SplitLosses %v, MeanLoss %v", li, u, got, want)
			}
			if ls.Incremental() {
				deltas++
			}
			if many && ls.Incremental() {
				t.Errorf("layer %d unit %d: measured by a delta", li, u)
			}
		}
	}
	// c6→c5 (pooled), c5→c7, c7→c4 (pooled), c4→c3 measure by deltas
	// after their first split, but for the edit of every unit and the
	// consumer's new BatchNorm; c3 feeds the head.
	if deltas != 6 {
		t.Errorf("%d measurements on the delta path, want 6", deltas)
	}
	return losses
}

// measureNet parses model with BatchNorm statistics and affine parameters
// drawn from r (so that folding them matters) and a head sharpened 20×
// (so that every layer's output moves the loss).
func measureNet(t *testing.T, r *rand.Rand, model string, shape []int, classes int) *nn.Net {
	t.Helper()
	net, err := nn.ParseModel(model, shape, classes, nn.Activation{Kind: nn.ReLU}, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range net.Layers {
		if bn, ok := l.(*nn.BatchNorm); ok {
			for c := range bn.RunMean {
				bn.RunMean[c] = float32(0.1 * r.NormFloat64())
				bn.RunVar[c] = float32(0.5 + r.Float64())
				bn.Gamma.Data[c] = float32(0.5 + r.Float64())
				bn.Beta.Data[c] = float32(0.1 * r.NormFloat64())
			}
		}
	}
	for _, p := range net.Layers[len(net.Layers)-1].Params() {
		for j := range p.Data {
			p.Data[j] *= 20
		}
	}
	return net
}

// The inputs kept from the first pass serve an earlier layer only while
// the layers before it are unchanged: an edit in place (same layer, new
// weights or BatchNorm statistics) below the asked layer is noticed.
func TestSplitLossesPrefixReuse(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	d, net := smallImageNet(t, r, 12)
	b := data.NewBatcher(d, 4)
	b.Epoch(nil)
	steps := []int{0, 2}
	ls := grow.PlainSplitLosses(grow.NewSplitLosses(net, b, steps))
	layers := net.Growable()
	check := func(at int, what string) {
		t.Helper()
		if got, want := ls.Loss(at), grow.MeanLoss(net, b, steps); got != want {
			t.Errorf("%s: SplitLosses %v, MeanLoss %v", what, got, want)
		}
	}
	check(layers[2], "first pass")
	check(layers[1], "kept input")
	check(layers[2], "later layer again")
	net.Layers[layers[0]].(nn.Producer).Weight().Data[0] += 0.5
	check(layers[1], "weights of an earlier layer edited in place")
	check(layers[2], "later layer again")
	net.Layers[layers[0]+1].(*nn.BatchNorm).RunMean[0] += 0.5
	check(layers[1], "BatchNorm statistics edited in place")
}

// smallImageNet returns n random 1×8×8 images in 3 classes and a small
// conv net with a pool, drawn from r.
func smallImageNet(t *testing.T, r *rand.Rand, n int) (*data.Dataset, *nn.Net) {
	t.Helper()
	d := grow.RandomImages(r, n, []int{1, 8, 8}, 3)
	net, err := nn.ParseModel("cnn:c4,p,c5,c3,g", d.Shape, 3, nn.Activation{Kind: nn.ReLU}, r)
	if err != nil {
		t.Fatal(err)
	}
	return d, net
}
