package npi

import (
	"math"
	"math/rand/v2"
	"testing"
)

func smallModel(t *testing.T, task Task, seed uint64) *Model {
	t.Helper()
	cfg := ModelConfig{Task: task.Name(), Recursive: task.Recursive(), Hidden: 5, Enc: 4, EncLayers: 2, ProgEmbed: 3, KeyDim: 3}
	m, err := NewModel(task, cfg, rand.New(rand.NewPCG(seed, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A few invocations of different lengths, with arguments and returns.
func sampleInvocations(task Task, n int) []*Invocation {
	invs, _ := Trace(task, task.RandomInput(rand.New(rand.NewPCG(7, 7)), 4))
	if len(invs) > n {
		invs = invs[len(invs)-n:]
	}
	return invs
}

// The batch loss gradient matches finite differences for every parameter
// tensor (a sample of entries each).
func TestModelGradient(t *testing.T) {
	task := newAddition(false)
	m := smallModel(t, task, 1)
	invs := sampleInvocations(task, 5)
	b := newBatchRunner(m)
	b.load(invs)
	lossAt := func() float64 {
		b.forward()
		l := b.lossBackward(0)
		return l
	}
	for _, p := range m.Params() {
		p.ZeroGrad()
	}
	b.forward()
	b.lossBackward(1)
	grads := map[string][]float32{}
	for _, p := range m.Params() {
		grads[p.Name] = append([]float32(nil), p.Grad...)
	}
	r := rand.New(rand.NewPCG(2, 2))
	for _, p := range m.Params() {
		for range 6 {
			i := r.IntN(len(p.Data))
			old := p.Data[i]
			const eps = 1e-2
			p.Data[i] = old + eps
			lp := lossAt()
			p.Data[i] = old - eps
			lm := lossAt()
			p.Data[i] = old
			num := (lp - lm) / (2 * eps)
			got := float64(grads[p.Name][i])
			if math.Abs(num-got) > 2e-3*math.Max(1, math.Abs(num)) {
				t.Errorf("%s[%d]: backprop %.6g, finite difference %.6g", p.Name, i, got, num)
			}
		}
	}
}

// Single-step inference agrees with the batched forward pass.
func TestPredictMatchesBatch(t *testing.T) {
	for _, task := range []Task{newBubbleSort(true), newAddition(true), newTopoSort(false)} {
		m := smallModel(t, task, 3)
		invs := sampleInvocations(task, 8)
		b := newBatchRunner(m)
		b.load(invs)
		b.forward()
		ws := m.NewWorkspace()
		H := m.Config.Hidden
		for n, inv := range invs {
			h, c := make([]float32, H), make([]float32, H)
			for s, st := range inv.Steps {
				got := m.Predict(ws, h, c, st.Obs, inv.Call.Prog, st.Prev)
				r := s*b.N + n
				if want := b.predicted(r); got != want {
					t.Fatalf("%s: invocation %d step %d: Predict %v, batch %v", variant(task), n, s, got, want)
				}
				for j := range H {
					if d := math.Abs(float64(h[j] - b.hs[r*H+j])); d > 1e-5 {
						t.Fatalf("%s: hidden state differs by %g", variant(task), d)
					}
				}
			}
		}
	}
}
