package optim

import (
	"fmt"
	"math"
	"testing"

	"github.com/nadir-ml/nadir/nn"
)

func param(data, grad []float32) *nn.Param {
	p := nn.NewParam("w", 1, len(data))
	copy(p.Data, data)
	copy(p.Grad, grad)
	return p
}

func near(t *testing.T, what string, got float32, want float64) {
	t.Helper()
	if math.Abs(float64(got)-want) > 1e-6*math.Max(1, math.Abs(want)) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

// Reference values follow PyTorch's update rules, worked by hand.
func TestSGD(t *testing.T) {
	p := param([]float32{1, -2}, []float32{0.5, 0.25})
	o := &SGD{Momentum: 0.9, Nesterov: false, WeightDecay: 0.1}
	o.Step([]*nn.Param{p}, 0.1)
	// g = 0.5 + 0.1*1 = 0.6; buf = 0.6; w = 1 - 0.06
	near(t, "sgd step 1", p.Data[0], 0.94)
	o.Step([]*nn.Param{p}, 0.1)
	// g = 0.5 + 0.094 = 0.594; buf = 0.54 + 0.594 = 1.134; w = 0.94 - 0.1134
	near(t, "sgd step 2", p.Data[0], 0.94-0.1134)
	n := param([]float32{1}, []float32{0.5})
	(&SGD{Momentum: 0.9, Nesterov: true}).Step([]*nn.Param{n}, 0.1)
	// buf = 0.5; g = 0.5 + 0.9*0.5 = 0.95
	near(t, "nesterov", n.Data[0], 1-0.095)
}

func TestAdam(t *testing.T) {
	p := param([]float32{1}, []float32{0.5})
	o := &Adam{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	o.Step([]*nn.Param{p}, 0.01)
	// First Adam step moves by lr·sign(g) (bias-corrected m/√v = 1).
	near(t, "adam step 1", p.Data[0], 0.99)
	if o.T != 1 {
		t.Fatalf("step count %d", o.T)
	}
}

func TestRMSprop(t *testing.T) {
	p := param([]float32{1}, []float32{0.5})
	(&RMSprop{Alpha: 0.99, Eps: 1e-8}).Step([]*nn.Param{p}, 0.01)
	// sq = 0.01*0.25; step = 0.01 * 0.5/sqrt(0.0025) = 0.1
	near(t, "rmsprop", p.Data[0], 0.9)
}

func TestFrozenAndNoDecay(t *testing.T) {
	f := param([]float32{1}, []float32{1})
	f.Frozen = true
	b := param([]float32{1}, []float32{0})
	b.NoDecay = true
	(&SGD{WeightDecay: 0.5}).Step([]*nn.Param{f, b}, 0.1)
	if f.Data[0] != 1 || b.Data[0] != 1 {
		t.Fatalf("frozen or no-decay parameter moved: %v %v", f.Data[0], b.Data[0])
	}
}

// State follows surgery: after a unit is appended its state is zero and
// the existing units' state is untouched, so the next step treats them as
// if nothing happened.
func TestStateFollowsSurgery(t *testing.T) {
	p := nn.NewParam("W", 2, 2)
	copy(p.Data, []float32{1, 2, 3, 4})
	for i := range p.Grad {
		p.Grad[i] = 1
	}
	o := &Adam{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	o.Step([]*nn.Param{p}, 0.1)
	m := append([]float32(nil), p.Slots[0]...)
	p.AppendRows([][]float32{{5, 6}})
	if len(p.Slots[0]) != 6 || len(p.Slots[1]) != 6 || len(p.Grad) != 6 {
		t.Fatal("state not resized")
	}
	for i, v := range m {
		if p.Slots[0][i] != v {
			t.Fatal("existing state changed")
		}
	}
	if p.Slots[0][4] != 0 || p.Slots[1][5] != 0 {
		t.Fatal("new unit's state not zero")
	}
	p.RemoveRows([]int{0})
	if p.Slots[0][0] != m[2] {
		t.Fatal("state of the remaining unit lost")
	}
}

func TestSchedules(t *testing.T) {
	c := Cosine{Base: 1}
	near(t, "cosine start", float32(c.LR(0, 100)), 1)
	near(t, "cosine middle", float32(c.LR(50, 100)), 0.5)
	s := Step{Base: 1, Gamma: 0.1, Milestones: []float64{0.5, 0.75}}
	near(t, "step", float32(s.LR(80, 100)), 0.01)
	if _, err := NewSchedule("sawtooth", 1); err == nil {
		t.Fatal("unknown schedule accepted")
	}
	if _, err := New("lion", 0); err == nil {
		t.Fatal("unknown optimizer accepted")
	}
}

func ExampleCosine() {
	s := Cosine{Base: 0.1}
	for _, step := range []int{0, 25, 50, 100} {
		fmt.Printf("%.4f\n", s.LR(step, 100))
	}
	// Output:
	// 0.1000
	// 0.0854
	// 0.0500
	// 0.0000
}
