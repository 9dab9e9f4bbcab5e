package grow_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/nadir-ml/nadir/grow"
)

// splitEvents returns a run's logged splits per round, in order.
func splitEvents(t *testing.T, dir string) map[int][]struct{ Measured, Eps float64 } {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "log.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[int][]struct{ Measured, Eps float64 }{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev struct {
			Event    string  `json:"event"`
			Round    int     `json:"round"`
			Measured float64 `json:"measured"`
			Eps      float64 `json:"eps"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Event == "split" {
			out[ev.Round] = append(out[ev.Round], struct{ Measured, Eps float64 }{ev.Measured, ev.Eps})
		}
	}
	return out
}

// With RankMeasured every applied split was probed on the net and batches
// it is then measured on, so the first split of each round (applied to
// the unedited net) lowers the loss. At this large step (ε = 3‖θ‖) the λ
// ranking's first split raises it in some round, so the test tells the
// two apart; the run is deterministic.
func TestEngineRankMeasured(t *testing.T) {
	run := func(measured bool) map[int][]struct{ Measured, Eps float64 } {
		dir := filepath.Join(t.TempDir(), "run")
		runEngineWith(t, dir, "s2d", "", func(e *grow.Engine) {
			e.Cfg.RankMeasured = measured
			e.Cfg.EpsRel = 3
			e.Cfg.AllowPositive = false
			e.Cfg.MeasureBatches = e.Cfg.SplitBatches
		})
		return splitEvents(t, dir)
	}
	raised := false
	for _, s := range run(false) {
		raised = raised || s[0].Measured > 0
	}
	if !raised {
		t.Error("the λ ranking's first split lowers the loss in every round: the test tells nothing apart")
	}
	a, b := run(true), run(true)
	if len(a) != 3 {
		t.Fatalf("splits in %d rounds, want 3", len(a))
	}
	for r, s := range a {
		if s[0].Measured >= 0 {
			t.Errorf("round %d: the first split changed the loss by %g", r, s[0].Measured)
		}
		if !reflect.DeepEqual(s, b[r]) {
			t.Errorf("round %d: same seed, different splits:\n%v\n%v", r, s, b[r])
		}
	}
}
