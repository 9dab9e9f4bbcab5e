package cost

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nadir-ml/nadir/nn"
)

func buildNet(t *testing.T, spec string, in []int, classes int) *nn.Net {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	net, err := nn.ParseModel(spec, in, classes, nn.Activation{Kind: nn.ReLU}, r)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

var testNets = []struct {
	spec     string
	in       []int
	growable int // expected number of growable layers
}{
	{"mlp:8,16", []int{784}, 2},
	{"cnn:c8,p,c16,p,f32", []int{1, 28, 28}, 3},
	{"cnn:c8,d16,p,d32,g", []int{1, 28, 28}, 3},
}

// TestNeuronExact grows every growable layer by one unit and compares the
// params and macs models' Neuron with the actual change of the network.
func TestNeuronExact(t *testing.T) {
	params, _ := New("params", Options{})
	macs, _ := New("macs", Options{})
	for _, tc := range testNets {
		net := buildNet(t, tc.spec, tc.in, 10)
		grow := net.Growable()
		if len(grow) != tc.growable {
			t.Fatalf("%s: %d growable layers, want %d", tc.spec, len(grow), tc.growable)
		}
		for _, li := range grow {
			p, err := params.Neuron(net, li)
			if err != nil {
				t.Fatal(err)
			}
			m, err := macs.Neuron(net, li)
			if err != nil {
				t.Fatal(err)
			}
			tp, _ := params.Total(net)
			tm, _ := macs.Total(net)
			if tp != float64(net.NumParams()) || tm != float64(net.MACs()) {
				t.Fatalf("%s: totals %v, %v; want %d, %d", tc.spec, tp, tm, net.NumParams(), net.MACs())
			}
			p0, m0 := net.NumParams(), net.MACs()
			if err := net.AddUnits(li, []nn.NewUnit{{Like: -1}}); err != nil {
				t.Fatal(err)
			}
			if d := net.NumParams() - p0; float64(d) != p {
				t.Errorf("%s layer %d: params Neuron %v, actual change %d", tc.spec, li, p, d)
			}
			if d := net.MACs() - m0; float64(d) != m {
				t.Errorf("%s layer %d: macs Neuron %v, actual change %d", tc.spec, li, m, d)
			}
		}
	}
}

// TestNeuronByHand pins a few costs worked out on paper, so that the chain
// decomposition (followers, Flatten's spatial columns, depthwise channels)
// is checked independently of nn's own counting.
func TestNeuronByHand(t *testing.T) {
	params, _ := New("params", Options{})
	macs, _ := New("macs", Options{})
	cases := []struct {
		spec         string
		in           []int
		li           int
		params, macs float64
	}{
		// dense 784→8: 784 weights + bias, plus a column of 16 in the next dense.
		{"mlp:8,16", []int{784}, 0, 785 + 16, 784 + 16},
		// dense 8→16: 8+1, plus a column of 10 in the output layer.
		{"mlp:8,16", []int{784}, 2, 9 + 10, 8 + 10},
		// conv 1→8 3x3 at 28x28 (no bias) + BN γ,β + a 3x3 input kernel in
		// each of the 16 filters of the next conv at 14x14.
		{"cnn:c8,p,c16,p,f32", []int{1, 28, 28}, 0, 9 + 2 + 16*9, 28*28*9 + 14*14*16*9},
		// conv 8→16 at 14x14 + BN + 7x7 flattened columns in the 32-unit dense.
		{"cnn:c8,p,c16,p,f32", []int{1, 28, 28}, 4, 8*9 + 2 + 32*49, 14*14*8*9 + 32*49},
		// pointwise 8→16 at 28x28 + BN, then (after the pool) a 3x3
		// depthwise channel at 14x14 + its BN, then a column of 32 in the
		// next pointwise conv at 14x14.
		{"cnn:c8,d16,p,d32,g", []int{1, 28, 28}, 6, 8 + 2 + 9 + 2 + 32, 28*28*8 + 14*14*9 + 14*14*32},
	}
	for _, c := range cases {
		net := buildNet(t, c.spec, c.in, 10)
		p, err := params.Neuron(net, c.li)
		if err != nil {
			t.Fatal(err)
		}
		m, err := macs.Neuron(net, c.li)
		if err != nil {
			t.Fatal(err)
		}
		if p != c.params || m != c.macs {
			t.Errorf("%s layer %d (%s): params %v macs %v, want %v and %v", c.spec, c.li, net.Layers[c.li].Spec().Kind, p, m, c.params, c.macs)
		}
	}
}

func TestEnergy(t *testing.T) {
	energy, _ := New("energy", Options{})
	macs, _ := New("macs", Options{})
	for _, tc := range testNets {
		net := buildNet(t, tc.spec, tc.in, 10)
		var want float64
		for _, li := range net.Growable() {
			e, err := energy.Neuron(net, li)
			if err != nil {
				t.Fatal(err)
			}
			m, _ := macs.Neuron(net, li)
			if e != math.Sqrt(m) {
				t.Errorf("%s layer %d: energy %v, want sqrt(%v)", tc.spec, li, e, m)
			}
			want += float64(net.Layers[li].(nn.Producer).Units()) * e
		}
		got, err := energy.Total(net)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-want) > 1e-9*want {
			t.Errorf("%s: energy total %v, want %v", tc.spec, got, want)
		}
	}
}

func TestNeuronErrors(t *testing.T) {
	net := buildNet(t, "mlp:8", []int{4}, 3)
	for _, kind := range Kinds() {
		m, err := New(kind, Options{LatencyCache: "", Batch: 2, Repeats: 1})
		if err != nil {
			t.Fatal(err)
		}
		if m.Name() != kind {
			t.Errorf("New(%q).Name() = %q", kind, m.Name())
		}
		for _, li := range []int{1, 2, 3, -1} { // activation, output layer, out of range
			if _, err := m.Neuron(net, li); err == nil {
				t.Errorf("%s: Neuron of layer %d: no error", kind, li)
			}
		}
	}
	_, err := New("flops", Options{})
	if err == nil || !strings.Contains(err.Error(), "params") || !strings.Contains(err.Error(), "latency") {
		t.Errorf("unknown kind: error %v does not list the kinds", err)
	}
	if _, err := New("latency", Options{Batch: -1}); err == nil {
		t.Error("negative batch accepted")
	}
}

func TestBreakdown(t *testing.T) {
	net := buildNet(t, "cnn:c8,p,c16,p,f32", []int{1, 28, 28}, 10)
	rows, err := Breakdown(net)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(net.Layers) {
		t.Fatalf("%d rows for %d layers", len(rows), len(net.Layers))
	}
	params, _ := New("params", Options{})
	var np int
	var nm int64
	grow := map[int]bool{}
	for _, li := range net.Growable() {
		grow[li] = true
	}
	for i, r := range rows {
		np += r.Params
		nm += r.MACs
		if r.Index != i || r.Kind != net.Layers[i].Spec().Kind {
			t.Errorf("row %d: index %d kind %s", i, r.Index, r.Kind)
		}
		if grow[i] != (r.NeuronParams > 0) || grow[i] != (r.NeuronMACs > 0) {
			t.Errorf("row %d (%s): neuron costs %v %v, growable %v", i, r.Kind, r.NeuronParams, r.NeuronMACs, grow[i])
		}
		if grow[i] {
			p, _ := params.Neuron(net, i)
			if p != r.NeuronParams {
				t.Errorf("row %d: NeuronParams %v, want %v", i, r.NeuronParams, p)
			}
			if r.Units != net.Layers[i].(nn.Producer).Units() {
				t.Errorf("row %d: units %d", i, r.Units)
			}
		}
	}
	if np != net.NumParams() || nm != net.MACs() {
		t.Errorf("rows sum to %d params, %d MACs; net has %d, %d", np, nm, net.NumParams(), net.MACs())
	}
}
