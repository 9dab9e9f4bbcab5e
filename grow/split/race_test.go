package split

import (
	"context"
	"testing"

	"github.com/nadir-ml/nadir/tensor"
)

// TestBatchedLanczosSmall runs the batched matrix-free solver at the
// smallest size that takes that path, on several threads: short enough for
// CI's race-detector run, and checked against the dense solver.
func TestBatchedLanczosSmall(t *testing.T) {
	defer tensor.SetThreads(tensor.Threads())
	tensor.SetThreads(4)
	st, _ := batchedAgainstDense(t, "mlp:6", 100, 17)
	// A cancelled solve stops with the context's error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Solve(ctx, st, SolverOptions{Solver: "lanczos", Seed: 1}); err == nil {
		t.Error("cancelled solve returned no error")
	}
}
