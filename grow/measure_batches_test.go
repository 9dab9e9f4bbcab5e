package grow_test

import (
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nadir-ml/nadir/grow"
)

// splitLossHook records, during each growth step's surgery, the mean loss
// on the first m statistics batches before the first split and after each
// one: what the engine's `measured` must difference.
type splitLossHook struct {
	e      **grow.Engine
	m      int
	round  int
	on     bool
	losses map[int][]float64
}

func (h *splitLossHook) loss() float64 {
	e := *h.e
	b, steps := grow.StatsBatches(e.Data.Train, e.Trainer.Cfg.Batch, e.Cfg.SplitBatches, e.Trainer.Cfg.Seed, h.round)
	return grow.MeanLoss(e.Trainer.Net, b, steps[:h.m])
}

func (h *splitLossHook) PhaseStart(name string, _ int) {
	h.on = strings.HasSuffix(name, ": split")
	if h.on {
		h.round++
		h.losses[h.round] = []float64{h.loss()}
	}
}

func (h *splitLossHook) StepDone(int, float64) {
	if h.on {
		h.losses[h.round] = append(h.losses[h.round], h.loss())
	}
}

func (h *splitLossHook) PhaseEnd() { h.on = false }

// Each split's logged loss change is measured on the first MeasureBatches
// statistics batches: it equals the change of MeanLoss on those batches
// across the edit. The measurement is a diagnostic: the run is otherwise
// the same as with every batch measured (ExactGrowth).
func TestMeasureBatches(t *testing.T) {
	var e *grow.Engine
	h := &splitLossHook{e: &e, m: 1, losses: map[int][]float64{}}
	dir := filepath.Join(t.TempDir(), "one")
	e, hist := runEngineWith(t, dir, "s2d", "", func(eng *grow.Engine) {
		e = eng
		eng.Cfg.MeasureBatches = 1
		eng.Hooks = append(eng.Hooks, h)
	})
	if e.Cfg.MeasureBatches != 1 || e.Cfg.SplitBatches != 4 {
		t.Fatalf("config %+v", e.Cfg)
	}
	seen := map[int]int{}
	for round, evs := range splitEvents(t, dir) {
		l := h.losses[round]
		for k, ev := range evs {
			seen[round]++
			if k+1 >= len(l) {
				t.Fatalf("round %d: more splits logged than applied", round)
			}
			if want := l[k+1] - l[k]; math.Abs(ev.Measured-want) > 1e-6*math.Max(1e-3, math.Abs(l[k])) {
				t.Errorf("round %d split %d: measured %g, loss on the first batch changed by %g", round, k, ev.Measured, want)
			}
		}
	}
	if len(seen) == 0 {
		t.Fatal("no splits logged")
	}
	_, all := runEngineWith(t, filepath.Join(t.TempDir(), "all"), "s2d", "", func(eng *grow.Engine) { eng.Cfg.ExactGrowth = true })
	for i := range hist {
		hist[i].GrowSeconds, hist[i].TrainSeconds, hist[i].EpochSeconds = 0, 0, 0
		all[i].GrowSeconds, all[i].TrainSeconds, all[i].EpochSeconds = 0, 0, 0
	}
	if !reflect.DeepEqual(hist, all) {
		t.Errorf("measuring on fewer batches changed the run:\n%+v\n%+v", hist, all)
	}
}
