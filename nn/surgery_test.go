package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nadir-ml/nadir/tensor"
)

func randTensor(r *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(r.NormFloat64())
	}
	return t
}

func maxDiff(a, b *tensor.Tensor) float64 {
	var m float64
	for i := range a.Data[:a.Len()] {
		m = math.Max(m, math.Abs(float64(a.Data[i]-b.Data[i])))
	}
	return m
}

// surgeryCase builds a network whose layer li is a growable producer.
type surgeryCase struct {
	name  string
	build func(r *rand.Rand) (*Net, []int) // net and batch input shape
}

// checkPreserved runs op on the network and checks the output on a fixed
// batch is unchanged (to float32 rounding).
func checkPreserved(t *testing.T, name string, net *Net, xShape []int, r *rand.Rand, op func() error) {
	t.Helper()
	x := randTensor(r, xShape...)
	before := net.Forward(x, false).Clone()
	if err := op(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	after := net.Forward(x, false)
	if d := maxDiff(before, after); d > 1e-4 {
		t.Fatalf("%s: output changed by %g", name, d)
	}
}

// surgeryOps are the primitives every layer pair must survive with the
// function unchanged when the new units contribute nothing.
func surgeryOps(t *testing.T, c surgeryCase) {
	r := rand.New(rand.NewPCG(1, 2))
	net, xs := c.build(r)
	for _, li := range net.Growable() {
		p := net.Layers[li].(Producer)
		fan := p.FanIn()
		// 1. Append a random unit with zero outgoing weights.
		in := make([]float32, fan)
		for i := range in {
			in[i] = float32(r.NormFloat64())
		}
		checkPreserved(t, c.name+"/append-fresh", net, xs, r, func() error {
			return net.AddUnits(li, []NewUnit{{In: in, Like: -1}})
		})
		// 2. Split unit 0: duplicate its incoming weights and state, halve
		// the outgoing column and give the copy the other half.
		checkPreserved(t, c.name+"/duplicate-halve", net, xs, r, func() error {
			col, err := net.OutgoingColumn(li, 0)
			if err != nil {
				return err
			}
			for i := range col {
				col[i] *= 0.5
			}
			w := p.Weight()
			theta := append([]float32(nil), w.Data[:w.Cols]...)
			var bias float32
			if b := p.BiasParam(); b != nil {
				bias = b.Data[0]
			}
			if err := net.ScaleOutgoing(li, 0, 0.5); err != nil {
				return err
			}
			return net.AddUnits(li, []NewUnit{{In: theta, Bias: bias, Like: 0, Out: col}})
		})
		// 3. Signed split of unit 1 into weights (2, -1) of exact clones.
		checkPreserved(t, c.name+"/signed-clone", net, xs, r, func() error {
			col, _ := net.OutgoingColumn(li, 1)
			for i := range col {
				col[i] *= -1
			}
			w := p.Weight()
			theta := append([]float32(nil), w.Data[w.Cols:2*w.Cols]...)
			var bias float32
			if b := p.BiasParam(); b != nil {
				bias = b.Data[1]
			}
			if err := net.ScaleOutgoing(li, 1, 2); err != nil {
				return err
			}
			return net.AddUnits(li, []NewUnit{{In: theta, Bias: bias, Like: 1, Out: col}})
		})
		// 4. Remove a unit whose outgoing weights are zero (the fresh one).
		fresh := -1
		for u := 0; u < p.Units(); u++ {
			col, _ := net.OutgoingColumn(li, u)
			zero := true
			for _, v := range col {
				if v != 0 {
					zero = false
					break
				}
			}
			if zero {
				fresh = u
				break
			}
		}
		if fresh < 0 {
			t.Fatalf("%s: no zero-outgoing unit found after append", c.name)
		}
		checkPreserved(t, c.name+"/remove-silent", net, xs, r, func() error {
			return net.RemoveUnits(li, []int{fresh})
		})
	}
	if len(net.Growable()) == 0 {
		t.Fatalf("%s: nothing growable", c.name)
	}
	// Optimiser slots follow surgery: every slot has the param's size.
	for _, p := range net.Params() {
		for _, s := range p.Slots {
			if len(s) != p.Len() {
				t.Fatalf("%s: param %s slot has %d values, param %d", c.name, p.Name, len(s), p.Len())
			}
		}
	}
}

func withSlots(net *Net, r *rand.Rand) {
	for _, p := range net.Params() {
		p.EnsureSlots(2)
		for _, s := range p.Slots {
			for i := range s {
				s[i] = float32(r.NormFloat64())
			}
		}
	}
}

func TestSurgeryDenseDense(t *testing.T) {
	surgeryOps(t, surgeryCase{"mlp", func(r *rand.Rand) (*Net, []int) {
		act, _ := ParseActivation("tanh")
		net, err := ParseModel("mlp:6,5", []int{7}, 3, act, r)
		if err != nil {
			t.Fatal(err)
		}
		withSlots(net, r)
		return net, []int{4, 7}
	}})
}

func TestSurgeryOptimiserState(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	act, _ := ParseActivation("relu")
	net, err := ParseModel("mlp:4", []int{3}, 2, act, r)
	if err != nil {
		t.Fatal(err)
	}
	withSlots(net, r)
	w := net.Layers[0].(*Dense).W
	old := append([]float32(nil), w.Slots[0]...)
	if err := net.AddUnits(0, []NewUnit{{Like: -1}}); err != nil {
		t.Fatal(err)
	}
	for i, v := range old {
		if w.Slots[0][i] != v {
			t.Fatalf("existing state changed at %d", i)
		}
	}
	for _, v := range w.Slots[0][len(old):] {
		if v != 0 {
			t.Fatal("new unit's optimiser state is not zero")
		}
	}
	next := net.Layers[2].(*Dense).W
	if next.Cols != 5 || len(next.Slots[1]) != next.Len() {
		t.Fatalf("consumer not resized: cols %d", next.Cols)
	}
	for r := 0; r < next.Rows; r++ {
		if next.Slots[1][r*next.Cols+4] != 0 {
			t.Fatal("new input column's optimiser state is not zero")
		}
	}
}

func TestSurgeryErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	act, _ := ParseActivation("relu")
	net, _ := ParseModel("mlp:4", []int{3}, 2, act, r)
	if err := net.AddUnits(2, []NewUnit{{Like: -1}}); err == nil {
		t.Fatal("growing the output layer must fail")
	}
	if err := net.AddUnits(0, []NewUnit{{In: make([]float32, 2), Like: -1}}); err == nil {
		t.Fatal("wrong fan-in must fail")
	}
	if err := net.RemoveUnits(0, []int{0, 1, 2, 3}); err == nil {
		t.Fatal("removing every unit must fail")
	}
	if err := net.AddUnits(1, nil); err == nil {
		t.Fatal("activation layer has no neurons")
	}
}

func TestInsertIdentityDense(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	act, _ := ParseActivation("relu")
	net, _ := ParseModel("mlp:5", []int{3}, 2, act, r)
	checkPreserved(t, "insert-identity", net, []int{6, 3}, r, func() error {
		return net.InsertLayers(2, IdentityDense(5), NewAct(act, []int{5}))
	})
	if len(net.Growable()) != 2 {
		t.Fatalf("inserted layer should be growable, growable = %v", net.Growable())
	}
}

func TestSurgeryConvChains(t *testing.T) {
	for _, c := range []struct{ name, model string }{
		{"conv-bn-conv", "cnn:c4,c5"},
		{"conv-pool-conv", "cnn:c4,p,c5k5"},
		{"conv-flatten-dense", "cnn:c4,p,f6"},
		{"conv-gap-dense", "cnn:c4s2,g"},
		{"pointwise-depthwise-pointwise", "cnn:c4,d6,d5"},
		{"dense-dense-after-conv", "cnn:c3,p,f5,f4"},
	} {
		surgeryOps(t, surgeryCase{c.name, func(r *rand.Rand) (*Net, []int) {
			act, _ := ParseActivation("softplus")
			net, err := ParseModel(c.model, []int{2, 10, 10}, 3, act, r) // 10x10: c5k5 after the pool fits its 5x5 input
			if err != nil {
				t.Fatal(err)
			}
			// Non-trivial BatchNorm statistics and affine parameters.
			for _, l := range net.Layers {
				if bn, ok := l.(*BatchNorm); ok {
					for i := range bn.RunMean {
						bn.RunMean[i] = float32(r.NormFloat64())
						bn.RunVar[i] = float32(0.5 + r.Float64())
					}
					for _, p := range bn.Params() {
						for i := range p.Data {
							p.Data[i] = float32(0.5 + r.Float64())
						}
					}
				}
			}
			withSlots(net, r)
			return net, []int{3, 2, 10, 10}
		}})
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	act, _ := ParseActivation("relu")
	net, err := ParseModel("cnn:c4,p,d6,f5", []int{1, 8, 8}, 3, act, r)
	if err != nil {
		t.Fatal(err)
	}
	withSlots(net, r)
	x := randTensor(r, 2, 1, 8, 8)
	net.Forward(x, true) // move BatchNorm running statistics
	want := net.Forward(x, false).Clone()
	b, err := net.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalNet(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(want, got.Forward(x, false)); d != 0 {
		t.Fatalf("reloaded network differs by %g", d)
	}
	b[len(b)/2] ^= 1
	if _, err := UnmarshalNet(b); err == nil {
		t.Fatal("corrupt network data accepted")
	}
}

func TestParseModelErrors(t *testing.T) {
	act, _ := ParseActivation("relu")
	r := rand.New(rand.NewPCG(1, 1))
	for _, m := range []string{"", "mlp", "mlp:", "mlp:0", "mlp:a", "rnn:3", "cnn:x", "cnn:c", "cnn:c4k2", "cnn:c4,p,p,p,p,p", "cnn:f4,c4", "cnn:c4q"} {
		if _, err := ParseModel(m, []int{1, 8, 8}, 10, act, r); err == nil {
			t.Errorf("model %q accepted", m)
		}
	}
	if _, err := ParseModel("cnn:c4", []int{20}, 10, act, r); err == nil {
		t.Error("cnn on vector data accepted")
	}
}

func TestInsertIdentityConv(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	act, _ := ParseActivation("relu")
	net, err := ParseModel("cnn:c4,p,f5", []int{1, 6, 6}, 2, act, r)
	if err != nil {
		t.Fatal(err)
	}
	checkPreserved(t, "insert-identity-conv", net, []int{2, 1, 6, 6}, r, func() error {
		ic, err := IdentityConv([]int{4, 6, 6}, 3)
		if err != nil {
			return err
		}
		return net.InsertLayers(3, ic, NewAct(act, []int{4, 6, 6}))
	})
	if len(net.Growable()) != 3 {
		t.Fatalf("inserted conv should be growable, growable = %v", net.Growable())
	}
}
