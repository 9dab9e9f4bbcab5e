package firefly

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/grow"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/tensor"
)

// fixture: a small net, one batch of synthetic data whose labels depend on
// the input, and BatchNorm running statistics that are not the defaults.
type fixture struct {
	name string
	net  *nn.Net
	b    *data.Batcher
}

func fixtures(t *testing.T) []fixture { return fixturesAct(t, nn.Activation{Kind: nn.ReLU}) }

func fixturesAct(t *testing.T, act nn.Activation) []fixture {
	t.Helper()
	var out []fixture
	for _, f := range []struct {
		name, model string
		shape       []int
	}{
		{"dense", "mlp:6,5", []int{4}},
		{"conv", "cnn:c3,p,c4,f5", []int{2, 6, 6}},
	} {
		r := rand.New(rand.NewPCG(1, 2))
		net, err := nn.ParseModel(f.model, f.shape, 3, act, r)
		if err != nil {
			t.Fatal(err)
		}
		d := &data.Dataset{Name: f.name, Shape: f.shape, Classes: 3}
		dim := tensor.Numel(f.shape)
		for i := 0; i < 24; i++ {
			var s float32
			for j := 0; j < dim; j++ {
				v := float32(r.NormFloat64())
				d.X = append(d.X, v)
				s += v * float32(j%3-1)
			}
			d.Y = append(d.Y, int(math.Abs(float64(s)))%3)
		}
		b := data.NewBatcher(d, 12)
		// Move BatchNorm running statistics off their defaults.
		x, _ := b.Batch(0, nil, nil)
		for k := 0; k < 3; k++ {
			net.Forward(x, true)
		}
		out = append(out, fixture{f.name, net, b})
	}
	return out
}

func outputs(net *nn.Net, b *data.Batcher) []float32 {
	x, _ := b.Batch(0, nil, nil)
	return append([]float32(nil), net.Forward(x, false).Data...)
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var m float64
	for i := range a {
		m = max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}

// prepared builds trained candidates (a few steps, so every candidate is
// non-trivial) for fixture f.
func prepared(t *testing.T, f fixture, o Options) *Candidates {
	t.Helper()
	if o.LR == 0 {
		o.LR = 0.05
	}
	c, err := NewCandidates(f.net, o, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Train(context.Background(), f.b, []int{0, 1, 0}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Score(context.Background(), f.b, []int{0}, nil); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCandidateGradients checks the candidate parameters' gradients (tied
// halves, shared twin rows) against central finite differences of the
// candidate network's loss.
func TestCandidateGradients(t *testing.T) {
	for _, f := range fixtures(t) {
		c := prepared(t, f, Options{Candidates: 2})
		x, y := f.b.Batch(0, nil, nil)
		loss := func() float64 {
			var ce nn.SoftmaxCE
			return ce.Forward(c.clone.Forward(x, false), y)
		}
		r := rand.New(rand.NewPCG(5, 6))
		for _, bl := range c.blocks() {
			clear(bl.g)
		}
		c.lossGrad(x, y)
		checked := 0
		for _, bl := range c.blocks() {
			for n := 0; n < 6; n++ {
				i := r.IntN(len(bl.v))
				old := bl.v[i]
				h := 1e-2
				bl.v[i] = old + h
				c.writeClone()
				lp := loss()
				bl.v[i] = old - h
				c.writeClone()
				lm := loss()
				bl.v[i] = old
				c.writeClone()
				fd := (lp - lm) / (2 * h)
				if math.Abs(fd-bl.g[i]) > 2e-3+0.03*math.Abs(fd) {
					t.Errorf("%s: block grad %d: analytic %.6g, finite difference %.6g", f.name, i, bl.g[i], fd)
				}
				checked++
			}
		}
		if checked < 18 {
			t.Fatalf("%s: only %d gradients checked", f.name, checked)
		}
	}
}

// apply selects candidates with keep(c) and applies them in the engine's
// order (last layer first, by unit).
func apply(t *testing.T, net *nn.Net, cands []grow.Candidate, keep func(grow.Candidate) bool, eps float64) int {
	t.Helper()
	n := 0
	var sel []grow.Candidate
	for _, c := range cands {
		if keep(c) {
			sel = append(sel, c)
		}
	}
	for i := 1; i < len(sel); i++ {
		for j := i; j > 0 && (sel[j].Layer > sel[j-1].Layer || sel[j].Layer == sel[j-1].Layer && sel[j].Unit < sel[j-1].Unit); j-- {
			sel[j], sel[j-1] = sel[j-1], sel[j]
		}
	}
	for _, c := range sel {
		if err := c.Apply(net, eps); err != nil {
			t.Fatalf("apply %s %d/%d: %v", c.Kind, c.Layer, c.Unit, err)
		}
		n++
	}
	return n
}

func copyNet(t *testing.T, net *nn.Net) *nn.Net {
	t.Helper()
	b, err := net.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	n, err := nn.UnmarshalNet(b)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestZeroMagnitudePreserves: every kind of Firefly edit — split, new
// neuron, new dense layer, new conv layer — applied at ε = 0 leaves the
// network function unchanged.
func TestZeroMagnitudePreserves(t *testing.T) {
	for _, f := range fixtures(t) {
		want := outputs(f.net, f.b)
		for _, kind := range []string{KindSplit, KindNew, KindLayer} {
			net := copyNet(t, f.net)
			ff := fixture{f.name, net, f.b}
			c := prepared(t, ff, Options{Candidates: 2})
			cands := c.Candidates()
			if kind == KindLayer {
				d, err := NewDepth(net, f.b, []int{0, 1})
				if err != nil {
					t.Fatal(err)
				}
				if err := d.Train(context.Background(), f.b, []int{0, 1}, 0.05, nil); err != nil {
					t.Fatal(err)
				}
				if err := d.Score(context.Background(), f.b, []int{0}, nil); err != nil {
					t.Fatal(err)
				}
				env := &grow.Env{Net: net, Cost: paramsCost{}}
				cands, err = d.Candidates(env, 10, c.sel)
				if err != nil {
					t.Fatal(err)
				}
			}
			layers := len(net.Layers)
			params := net.NumParams()
			wantLayers := 0 // conv + BatchNorm + ReLU, or dense + ReLU, per position
			for _, p := range Positions(net) {
				wantLayers += 2 + len(net.Layers[p[0]].OutShape())/3
			}
			n := apply(t, net, cands, func(c grow.Candidate) bool { return c.Kind == kind }, 0)
			if n == 0 {
				t.Fatalf("%s: no %s candidates", f.name, kind)
			}
			if net.NumParams() <= params {
				t.Fatalf("%s %s: nothing was added", f.name, kind)
			}
			if kind == KindLayer && len(net.Layers) != layers+wantLayers {
				t.Fatalf("%s: %d layers inserted, want %d", f.name, len(net.Layers)-layers, wantLayers)
			}
			if kind == KindLayer {
				// The provenance note survives a checkpoint round trip (nadir inspect shows it).
				marked := 0
				for _, l := range copyNet(t, net).Layers {
					if strings.HasPrefix(l.Spec().Origin, "inserted by firefly") {
						marked++
					}
				}
				if marked != n {
					t.Fatalf("%s: %d inserted layers marked, want %d", f.name, marked, n)
				}
			}
			if kind == KindLayer && f.name == "conv" {
				conv := 0
				for _, l := range net.Layers {
					if l.Spec().Kind == "conv2d" {
						conv++
					}
				}
				if conv != 2+2 { // c3, c4 and one inserted after each of them
					t.Fatalf("conv: %d conv layers after insertion, want 4", conv)
				}
			}
			if d := maxDiff(outputs(net, f.b), want); d > 1e-5 {
				t.Errorf("%s %s at ε=0: output changed by %g", f.name, kind, d)
			}
		}
	}
}

// TestSurgeryMatchesCandidateNetwork: applying every candidate at ε = 1
// gives exactly the candidate network's function.
func TestSurgeryMatchesCandidateNetwork(t *testing.T) {
	for _, f := range fixtures(t) {
		c := prepared(t, f, Options{Candidates: 2})
		want := outputs(c.clone, f.b)
		apply(t, f.net, c.Candidates(), func(grow.Candidate) bool { return true }, 1)
		if d := maxDiff(outputs(f.net, f.b), want); d > 1e-4 {
			t.Errorf("%s: grown network differs from the candidate network by %g", f.name, d)
		}
	}
}

// TestGateLinearisation: the loss change of the applied edits when their
// gate moves from 1 to 1±h matches the first-order prediction h·Σ g_k from
// the gate derivatives, on a dense and a conv net with tanh (h = 0.01, central
// differences; tolerance 3% + 5e-8, float32 loss rounding).
// It checks the surgery and the scores together: the derivative of the
// grown network's loss along the edits equals the summed gate derivatives
// measured on the candidate network.
func TestGateLinearisation(t *testing.T) {
	// A smooth activation: ReLU kinks would dominate the finite differences.
	for _, f := range fixturesAct(t, nn.Activation{Kind: nn.Tanh}) {
		for _, kind := range []string{"split", "all"} {
			o := Options{Candidates: 2, SplitOnly: kind == "split"}
			net := copyNet(t, f.net)
			ff := fixture{f.name, net, f.b}
			c := prepared(t, ff, o)
			cands := c.Candidates()
			var sum float64
			for _, k := range cands {
				sum += k.Score
			}
			x, y := f.b.Batch(0, nil, nil)
			loss := func(eps float64) float64 {
				n := copyNet(t, net)
				apply(t, n, c.rebind(n).Candidates(), func(grow.Candidate) bool { return true }, eps)
				var ce nn.SoftmaxCE
				return ce.Forward(n.Forward(x, false), y)
			}
			h := 0.01
			measured := (loss(1+h) - loss(1-h)) / 2
			pred := h * sum
			if math.Abs(measured-pred) > 0.03*math.Abs(pred)+5e-8 {
				t.Errorf("%s %s: loss change %.6g, gate linearisation %.6g", f.name, kind, measured, pred)
			} else {
				t.Logf("%s %s: loss change %.6g, gate linearisation %.6g", f.name, kind, measured, pred)
			}
		}
	}
}

type paramsCost struct{}

func (paramsCost) Name() string { return "params" }
func (paramsCost) Neuron(net *nn.Net, li int) (float64, error) {
	return float64(net.Layers[li].(nn.Producer).FanIn() + 1), nil
}
func (paramsCost) Total(net *nn.Net) (float64, error) { return float64(net.NumParams()), nil }
