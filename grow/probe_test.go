package grow_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nadir-ml/nadir/grow"
	"github.com/nadir-ml/nadir/nn"
)

// netState copies every array a probe must leave as it was: parameters,
// gradients, optimiser slots and BatchNorm statistics, layer by layer.
func netState(net *nn.Net) [][]float32 {
	var out [][]float32
	for _, l := range net.Layers {
		for _, p := range l.Params() {
			out = append(out, slices.Clone(p.Data), slices.Clone(p.Grad))
			for _, s := range p.Slots {
				out = append(out, slices.Clone(s))
			}
		}
		if bn, ok := l.(*nn.BatchNorm); ok {
			out = append(out, slices.Clone(bn.RunMean), slices.Clone(bn.RunVar))
		}
	}
	return out
}

// TestSplitLossesProbe checks SplitLosses.Probe on every unit edit of a
// growth step, on the delta path and the plain one: the probed loss is
// the loss of the edited net, the net is bitwise what it was afterwards
// (widths, weights, optimiser slots, BatchNorm statistics), and the kept
// state stays valid: the same edit applied for real then measures as a
// full forward pass does. The depthwise-separable net's blocks have
// depthwise convolutions that follow their input's units.
func TestSplitLossesProbe(t *testing.T) {
	for _, tc := range []struct {
		model  string
		deltas int // probes on the delta path
	}{
		// c6→c5, c5→c7 and c7→c4 are fused pairs; c4 feeds the head.
		{"cnn:c6,p,c5,c7,p,c4,g", 9},
		{"cnn:c6,d6s2,d5,g", 0},
	} {
		for _, plain := range []bool{false, true} {
			testProbe(t, tc.model, plain, map[bool]int{false: tc.deltas}[plain])
		}
	}
}

func testProbe(t *testing.T, model string, plain bool, wantDeltas int) {
	r := rand.New(rand.NewPCG(7, 8))
	d := grow.RandomImages(r, 32, []int{2, 12, 12}, 4)
	net := measureNet(t, r, model, d.Shape, 4)
	for _, l := range net.Layers {
		for _, p := range l.Params() {
			p.EnsureSlots(1)
			for j := range p.Slots[0] {
				p.Slots[0][j] = float32(r.NormFloat64())
			}
		}
	}
	b, steps, ls := splitLossesOn(net, d, 8, []int{0, 1, 2}, plain)
	// split returns a split of unit u of layer li with a displacement
	// drawn now, so that the probe and the real edit are the same.
	split := func(li, u int) func() error {
		p := net.Layers[li].(nn.Producer)
		dl := make([]float32, p.FanIn())
		for j := range dl {
			dl[j] = float32(0.3 * r.NormFloat64())
		}
		return func() error {
			fan := p.FanIn()
			w := net.Layers[li].(nn.Producer).Weight().Data
			in := slices.Clone(w[u*fan : (u+1)*fan])
			for j := range in {
				in[j] += dl[j]
				w[u*fan+j] -= dl[j]
			}
			out, err := net.OutgoingColumn(li, u)
			if err != nil {
				return err
			}
			for j := range out {
				out[j] *= 0.5
			}
			if err := net.AddUnits(li, []nn.NewUnit{{In: in, Like: u, Out: out}}); err != nil {
				return err
			}
			return net.ScaleOutgoing(li, u, 0.5)
		}
	}
	layers := net.Growable()
	var deltas, probes int
	for k := len(layers) - 1; k >= 0; k-- {
		li := layers[k]
		base := ls.Loss(li)
		for _, u := range []int{0, 2, 1} {
			edit := split(li, u)
			before, units := netState(net), net.Layers[li].(nn.Producer).Units()
			// Another unit's probe first: this one must start from the
			// net before it, not from its edit.
			if _, err := ls.Probe(li, split(li, (u+3)%units)); err != nil {
				t.Fatal(err)
			}
			got, err := ls.Probe(li, edit)
			if err != nil {
				t.Fatal(err)
			}
			probes++
			if ls.Incremental() {
				deltas++
				// The unit's old and new parameters and its copy's,
				// against the state before the probes, not the last
				// probe's edit.
				if n := ls.DeltaRows(); n != 3 {
					t.Errorf("layer %d unit %d: the probe convolved %d rows, want 3", li, u, n)
				}
			}
			if n := net.Layers[li].(nn.Producer).Units(); n != units {
				t.Fatalf("plain %v layer %d unit %d: %d units after the probe, want %d", plain, li, u, n, units)
			}
			after := netState(net)
			if len(after) != len(before) {
				t.Fatalf("plain %v layer %d unit %d: %d arrays after the probe, want %d", plain, li, u, len(after), len(before))
			}
			for i := range after {
				if !slices.Equal(after[i], before[i]) {
					t.Fatalf("plain %v layer %d unit %d: array %d changed by the probe", plain, li, u, i)
				}
			}
			if l := ls.Loss(li); math.Abs(l-base) > 1e-6*math.Abs(base) {
				t.Errorf("plain %v layer %d unit %d: loss %v after the probe, %v before", plain, li, u, l, base)
			}
			if err := edit(); err != nil {
				t.Fatal(err)
			}
			want := grow.MeanLoss(net, b, steps)
			if math.Abs(got-want) > 1e-6*math.Abs(want) {
				t.Errorf("plain %v layer %d unit %d: probed %v, edited net's loss %v", plain, li, u, got, want)
			}
			if got == base {
				t.Errorf("plain %v layer %d unit %d: the edit did not change the loss", plain, li, u)
			}
			if l := ls.Loss(li); math.Abs(l-want) > 1e-6*math.Abs(want) {
				t.Errorf("plain %v layer %d unit %d: SplitLosses %v after the real edit, MeanLoss %v", plain, li, u, l, want)
			}
			base = want
		}
	}
	if deltas != wantDeltas {
		t.Errorf("%s plain %v: %d of %d probes on the delta path, want %d", model, plain, deltas, probes, wantDeltas)
	}
}
