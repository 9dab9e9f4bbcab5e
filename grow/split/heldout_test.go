package split

import (
	"context"
	"math"
	"testing"
)

// With Env.Heldout a candidate's score is its scheme's gain on the
// held-out statistics, along the directions solved on Steps; λ_min itself
// is still reported. Held out on Steps itself, the gain is λ_min again
// (the Rayleigh quotient of its own eigenvector).
func TestHeldoutGain(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "cnn:c3s2,c4", "tanh", []int{2, 6, 6}, 3)
	m, err := New("s2d", Options{Solver: Dense, Exact: true})
	if err != nil {
		t.Fatal(err)
	}
	env := f.env()
	env.Steps = []int{0}
	eigs, err := Spectra(ctx, env, Options{Solver: Dense, Exact: true})
	if err != nil {
		t.Fatal(err)
	}
	held, _, err := CollectWith(ctx, f.net, f.b, []int{1, 2}, env.Layers, CollectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range [][]int{{1, 2}, {0}} {
		env := f.env()
		env.Steps, env.Heldout = []int{0}, h
		cands, err := m.Propose(ctx, env)
		if err != nil {
			t.Fatal(err)
		}
		k, differ := 0, 0
		for li, le := range eigs {
			for u, e := range le.Eigen {
				c := cands[k]
				k++
				want := e.LambdaMin
				if h[0] != 0 {
					want = held[li].Quad(u, e.VMin)
				}
				if c.Layer != le.Layer || c.Unit != u || c.LambdaMin != e.LambdaMin {
					t.Fatalf("candidate %d is layer %d unit %d λ_min %g, want %d %d %g", k, c.Layer, c.Unit, c.LambdaMin, le.Layer, u, e.LambdaMin)
				}
				if math.Abs(c.Score-want) > 1e-6*(1+math.Abs(want)) {
					t.Errorf("held out on %v: layer %d unit %d scored %g, want %g", h, le.Layer, u, c.Score, want)
				}
				if math.Abs(c.Score-e.LambdaMin) > 1e-3*(1+math.Abs(e.LambdaMin)) {
					differ++
				}
			}
		}
		if h[0] != 0 && differ == 0 {
			t.Error("held-out scores all equal λ_min: the test tells nothing apart")
		}
	}
}
