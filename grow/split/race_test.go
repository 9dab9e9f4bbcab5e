package split

import (
	"context"
	"math"
	"testing"

	"github.com/nadir-ml/nadir/tensor"
)

// TestBatchedLanczosSmall runs the batched matrix-free solver at the
// smallest size that takes that path, on several threads: short enough for
// CI's race-detector run, and checked against the dense solver.
func TestBatchedLanczosSmall(t *testing.T) {
	defer tensor.SetThreads(tensor.Threads())
	tensor.SetThreads(4)
	f := newFixture(t, "mlp:6", "softplus", []int{100}, 17)
	stats, _, err := Collect(context.Background(), f.net, f.b, f.steps, f.net.Growable())
	if err != nil {
		t.Fatal(err)
	}
	st := stats[0]
	if st.FormCheaper() {
		t.Fatal("fixture should take the matrix-free path")
	}
	dense, err := Solve(context.Background(), st, SolverOptions{Solver: "dense"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := Solve(context.Background(), st, SolverOptions{Solver: "lanczos", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var scale float64
	for _, e := range dense {
		scale = math.Max(scale, math.Max(math.Abs(e.LambdaMin), math.Abs(e.LambdaMax)))
	}
	for i, e := range dense {
		if math.Abs(a[i].LambdaMin-e.LambdaMin) > 1e-6*scale || math.Abs(a[i].LambdaMax-e.LambdaMax) > 1e-6*scale {
			t.Errorf("neuron %d: batched (%g, %g) vs dense (%g, %g)", i, a[i].LambdaMin, a[i].LambdaMax, e.LambdaMin, e.LambdaMax)
		}
	}
	// A cancelled solve stops with the context's error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Solve(ctx, st, SolverOptions{Solver: "lanczos", Seed: 1}); err == nil {
		t.Error("cancelled solve returned no error")
	}
}
