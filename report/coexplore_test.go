package report

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// coexploreGolden is a small co-exploration run (all three modes) made by
//
//	nadir coexplore --out testdata/coexplore/run --mode all --episodes 3 --children 2 --max-train 200 --depths 1,2 --filters 2,4 --quiet
//
// with its checkpoint and report removed.
const coexploreGolden = "../testdata/coexplore/run"

func TestCoexploreRun(t *testing.T) {
	r, err := Load(coexploreGolden)
	if err != nil {
		t.Fatal(err)
	}
	if r.Method() != "coexplore" || r.Coexplore == nil || strings.Join(r.Modes, ",") != "coexplore,hw-aware,accuracy-only" {
		t.Fatalf("method %q, modes %v", r.Method(), r.Modes)
	}
	if len(r.Episodes) != 3*3*2 {
		t.Errorf("%d episode events, want 18", len(r.Episodes))
	}
	// The rewards come from the events; the summary's final reward (the
	// last episode's mean here) must agree.
	for _, m := range r.Modes {
		xys := modeRewards(r.Episodes, m)
		if len(xys) != 3 {
			t.Fatalf("%s: %d episodes", m, len(xys))
		}
		if got, want := xys[2].Y, r.Coexplore.Modes[m].FinalReward; math.Abs(got-want) > 1e-12 {
			t.Errorf("%s: last episode's reward %v, summary says %v", m, got, want)
		}
	}
	// The best design of a mode with hardware is on its Pareto front.
	for _, m := range []string{"coexplore", "hw-aware"} {
		best := r.Coexplore.Modes[m].Best
		found := false
		for _, p := range paretoFront(modePoints(r.Episodes, m)) {
			found = found || (p.Accuracy == best.Accuracy && p.Throughput == best.Throughput)
		}
		if !found && best.SpecMet {
			t.Errorf("%s: best design %+v not on the front %+v", m, best, paretoFront(modePoints(r.Episodes, m)))
		}
	}
	if len(modePoints(r.Episodes, "accuracy-only")) != 0 {
		t.Error("accuracy-only children have a throughput")
	}
	figs, err := Figures(r)
	if err != nil || len(figs) != 2 || figs[0].Name != "reward.png" || figs[1].Name != "pareto.png" {
		t.Fatalf("figures %v, %v", figureNames(figs), err)
	}
	for _, f := range figs {
		checkPNG(t, f)
	}
	var md bytes.Buffer
	if err := Designs(&md, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| coexplore | [[1,4,2]] | 0.5075 |", "| coexplore | 1 | ultra96 (XCZU3EG) | 0–0 | ⟨4,1,14,14,1⟩ | 8/8/16 | 4 | 14 | 49 |",
		"| hw-aware | 1 | zedboard (XC7Z020) |", "| accuracy-only | 1 |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("designs lack %q:\n%s", want, md.String())
		}
	}
	dir := t.TempDir()
	if err := WriteHTML(dir, r); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"report.html", "reward.png", "pareto.png", DesignsFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	for _, want := range []string{"Best designs", "Pipeline stages", "⟨4,1,14,14,1⟩", "spec_throughput", "226757 images/s"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(dir, DesignsFile)); !bytes.Equal(got, md.Bytes()) {
		t.Error("designs.md differs from Designs")
	}
	// A co-exploration run is not compared with others.
	if err := Markdown(&md, r); err == nil {
		t.Error("Markdown accepted a co-exploration run")
	}
	other := loadRun(t, "g", growConfig, growSummary, growLog)
	if _, err := Figures(r, other); err == nil {
		t.Error("comparing a co-exploration run accepted")
	}
	if _, err := Figures(other, r); err == nil {
		t.Error("comparing with a co-exploration run accepted")
	}
}

func TestCoexploreNoData(t *testing.T) {
	r, err := Load(coexploreGolden)
	if err != nil {
		t.Fatal(err)
	}
	r.Episodes = nil
	if _, err := Rewards(r); !errors.Is(err, ErrNoData) {
		t.Errorf("rewards without episodes: %v", err)
	}
	if _, err := ParetoFronts(r); !errors.Is(err, ErrNoData) {
		t.Errorf("Pareto without episodes: %v", err)
	}
	plain := &Run{Dir: "x"}
	if _, err := Rewards(plain); !errors.Is(err, ErrNoData) {
		t.Errorf("rewards of a train run: %v", err)
	}
	if err := Designs(&bytes.Buffer{}, plain); err == nil {
		t.Error("designs of a train run")
	}
	nan := math.NaN()
	r, _ = Load(coexploreGolden)
	r.Episodes[0].Reward = nan
	if _, err := Rewards(r); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Errorf("NaN reward: %v", err)
	}
}

func TestParetoFront(t *testing.T) {
	ps := []accThr{{0.9, 10}, {0.8, 20}, {0.85, 5}, {0.9, 10}, {0.7, 30}}
	f := paretoFront(ps)
	if len(f) != 3 || f[0] != (accThr{0.9, 10}) || f[1] != (accThr{0.8, 20}) || f[2] != (accThr{0.7, 30}) {
		t.Errorf("front %+v", f)
	}
}
