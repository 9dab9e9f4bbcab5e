package grow_test

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nadir-ml/nadir/grow"
)

// stepsHook records each training epoch's mini-batch count.
type stepsHook struct{ steps []int }

func (h *stepsHook) PhaseStart(name string, total int) {
	if strings.HasPrefix(name, "epoch") {
		h.steps = append(h.steps, total)
	}
}
func (h *stepsHook) StepDone(int, float64) {}
func (h *stepsHook) PhaseEnd()             {}

// With a GrowthFraction the epochs before the last growth step pass over
// that fraction of the training set and the epochs after it over all of
// it; Passes counts the schedule's passes over the data.
func TestGrowthFraction(t *testing.T) {
	h := &stepsHook{}
	e, hist := runEngineWith(t, filepath.Join(t.TempDir(), "f"), "s2d", "", func(e *grow.Engine) {
		e.Cfg.GrowthFraction = 0.5
		e.Cfg.FinalEpochs = 1
		e.Trainer.Hooks = append(e.Trainer.Hooks, h)
	})
	// 300 examples in batches of 32: 10 steps a pass, 5 for half of them.
	// Seed 2 epochs and rounds 1–2 on halves; round 3 and the final epoch on all.
	if want := []int{5, 5, 5, 5, 10, 10}; !reflect.DeepEqual(h.steps, want) {
		t.Fatalf("steps per epoch %v, want %v", h.steps, want)
	}
	if e.Trainer.Train != e.Data.Train {
		t.Fatal("the trainer does not hold the whole training set after the run")
	}
	if hist[len(hist)-1].Params <= hist[0].Params {
		t.Fatalf("nothing grew: %+v", hist)
	}
	if got := e.Cfg.Passes(); got != 4 {
		t.Fatalf("passes %v, want 4 (2+1+1 halves, then 1+1)", got)
	}
	// The same run without the fraction differs: the parts are really used.
	_, full := runEngineWith(t, filepath.Join(t.TempDir(), "a"), "s2d", "", func(e *grow.Engine) { e.Cfg.FinalEpochs = 1 })
	if full[1].TrainLoss == hist[1].TrainLoss {
		t.Fatal("the fraction changed nothing")
	}
	// And the same seed gives the same run.
	_, again := runEngineWith(t, filepath.Join(t.TempDir(), "g"), "s2d", "", func(e *grow.Engine) {
		e.Cfg.GrowthFraction, e.Cfg.FinalEpochs = 0.5, 1
	})
	for i := range hist {
		if hist[i].TestAccuracy != again[i].TestAccuracy || hist[i].TrainLoss != again[i].TrainLoss {
			t.Fatalf("round %d: same seed, different runs", i)
		}
	}
}

func TestPasses(t *testing.T) {
	for _, c := range []struct {
		cfg  grow.Config
		want float64
	}{
		{grow.Config{SeedEpochs: 1, Rounds: 3, EpochsPerRound: 1, FinalEpochs: 8}, 12},
		{grow.Config{SeedEpochs: 1, Rounds: 3, EpochsPerRound: 1, FinalEpochs: 10, GrowthFraction: 1.0 / 3}, 12},
		{grow.Config{SeedEpochs: 2, Rounds: 0, FinalEpochs: 1, GrowthFraction: 0.5}, 3},
		{grow.Config{SeedEpochs: 1, Rounds: 2, EpochsPerRound: 1, FinalEpochs: 1, GrowthFraction: 1}, 4},
	} {
		if got := c.cfg.Passes(); got < c.want-1e-12 || got > c.want+1e-12 {
			t.Errorf("%+v: %v passes, want %v", c.cfg, got, c.want)
		}
	}
}
