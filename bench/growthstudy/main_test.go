package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nadir-ml/nadir/dist"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/sweep"
)

func TestUniformWidth(t *testing.T) {
	tmpl := "cnn:c{w},p,c{w},g"
	model, macs, err := uniformWidth(tmpl, []int{1, 28, 28}, 10, 200000)
	if err != nil {
		t.Fatal(err)
	}
	if macs > 200000 {
		t.Fatalf("%s costs %d MACs, over the budget", model, macs)
	}
	// One channel wider must not fit.
	var w int
	if _, err := fmtSscan(model, &w); err != nil {
		t.Fatal(err)
	}
	relu, _ := nn.ParseActivation("relu")
	wider, err := nn.ParseModel(strings.ReplaceAll(tmpl, "{w}", itoa(w+1)), []int{1, 28, 28}, 10, relu, nil)
	if err != nil {
		t.Fatal(err)
	}
	if wider.MACs() <= 200000 {
		t.Fatalf("width %d chosen, but %d also fits (%d MACs)", w, w+1, wider.MACs())
	}
	if _, _, err := uniformWidth("cnn:c8,g", []int{1, 28, 28}, 10, 1e6); err == nil {
		t.Fatal("template without {w} accepted")
	}
	if _, _, err := uniformWidth(tmpl, []int{1, 28, 28}, 10, 10); err == nil {
		t.Fatal("impossible budget accepted")
	}
}

func TestTableAggregates(t *testing.T) {
	dir := t.TempDir()
	var manifest strings.Builder
	for i, acc := range []string{"0.80", "0.90", "0.70"} {
		run := filepath.Join(dir, "r"+itoa(i))
		os.MkdirAll(run, 0o755)
		os.WriteFile(filepath.Join(run, "summary.json"), []byte(`{"test_accuracy":`+acc+`,"macs":1000}`), 0o644)
		method := "s2d"
		if i == 2 {
			method = "uniform-scratch"
		}
		manifest.WriteString("vgg\t5000\t" + method + "\t" + itoa(i) + "\t" + run + "\n")
	}
	// An unfinished run is skipped, not counted.
	manifest.WriteString("vgg\t5000\ts2d\t9\t" + filepath.Join(dir, "missing") + "\n")
	mf := filepath.Join(dir, "manifest.tsv")
	os.WriteFile(mf, []byte(manifest.String()), 0o644)
	rows, err := aggregate(mf)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Method != "s2d" || rows[0].N != 2 || math.Abs(rows[0].MeanAccuracy-0.85) > 1e-12 ||
		math.Abs(rows[0].SDAccuracy-math.Sqrt(0.005)) > 1e-12 || rows[1].N != 1 || rows[1].SDAccuracy != 0 {
		t.Fatalf("rows %+v", rows)
	}
	md := markdown(rows)
	if !strings.Contains(md, "85.00 ± 7.07") || !strings.Contains(md, "70.00 ± 0.00") {
		t.Fatalf("markdown:\n%s", md)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// fmtSscan reads the width of a "cnn:cW,..." model string.
func fmtSscan(model string, w *int) (int, error) {
	return fmt.Sscanf(model, "cnn:c%d", w)
}

// TestSweepManifest: the manifest of a sweep names each trial's run
// directory under trials/ID, in sweep.json's order, and the table reads
// them; an index whose IDs do not match their trials is refused.
func TestSweepManifest(t *testing.T) {
	dir := t.TempDir()
	// sweep.json as nadir sweep writes it (cmd/nadir writeSweepIndex).
	type entry struct {
		sweep.Point
		ID    string     `json:"id"`
		Trial dist.Trial `json:"trial"`
	}
	var idx struct {
		Trials []entry `json:"trials"`
	}
	for i, p := range []sweep.Point{{Method: "s2d", Budget: "macs=5000", Seed: 1}, {Method: "s2d", Budget: "macs=5000", Seed: 2},
		{Method: "uniform-scratch", Seed: 1}} {
		tr := dist.Trial{Command: "grow", Args: []string{"--method=" + p.Method}, Seed: p.Seed}
		idx.Trials = append(idx.Trials, entry{p, tr.ID(), tr})
		run := filepath.Join(dir, "trials", tr.ID())
		os.MkdirAll(run, 0o755)
		os.WriteFile(filepath.Join(run, "summary.json"), []byte(`{"test_accuracy":0.`+itoa(7+i)+`,"macs":4000}`), 0o644)
	}
	raw, _ := json.Marshal(idx)
	os.WriteFile(filepath.Join(dir, "sweep.json"), raw, 0o644)
	var out strings.Builder
	if err := sweepManifest(&out, dir, "vgg", "5000"); err != nil {
		t.Fatal(err)
	}
	want := ""
	for _, e := range idx.Trials {
		want += fmt.Sprintf("vgg\t5000\t%s\t%d\t%s\n", e.Method, e.Seed, filepath.Join(dir, "trials", e.ID))
	}
	if out.String() != want {
		t.Fatalf("manifest:\n%s\nwant:\n%s", out.String(), want)
	}
	mf := filepath.Join(dir, "manifest.tsv")
	os.WriteFile(mf, []byte(out.String()), 0o644)
	rows, err := aggregate(mf)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].N != 2 || math.Abs(rows[0].MeanAccuracy-0.75) > 1e-12 || rows[1].Method != "uniform-scratch" {
		t.Fatalf("rows %+v", rows)
	}

	for _, c := range []struct{ dir, budget string }{{dir, "macs=5000"}, {filepath.Join(dir, "none"), "5000"}} {
		if err := sweepManifest(io.Discard, c.dir, "vgg", c.budget); err == nil {
			t.Errorf("manifest of %s at budget %q: no error", c.dir, c.budget)
		}
	}
	idx.Trials[1].ID = idx.Trials[0].ID
	raw, _ = json.Marshal(idx)
	os.WriteFile(filepath.Join(dir, "sweep.json"), raw, 0o644)
	if err := sweepManifest(io.Discard, dir, "vgg", "5000"); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("mismatched ID: error %v", err)
	}
}

// TestPairedMarkdown: differences are taken seed by seed over the seeds both
// runs have, in points, with the count of seeds at or above the reference;
// a method without a common seed gets a dash, and references get no column.
func TestPairedMarkdown(t *testing.T) {
	row := func(method string, acc map[int]float64) Row {
		return Row{Net: "vgg", Method: method, BudgetMACs: 5000, bySeed: acc}
	}
	rows := []Row{
		row("s2d", map[int]float64{1: 0.91, 2: 0.92, 3: 0.90}),
		row("fast", map[int]float64{7: 0.95}),
		row("random-split", map[int]float64{1: 0.90, 2: 0.925, 3: 0.90, 4: 0.99}),
	}
	md := pairedMarkdown(rows)
	// s2d − random-split: +1, −0.5, 0 points: mean 0.1667, sd 0.7638, 2 of 3.
	want := "| 5000 | random-split | +0.17 ± 0.76 (2 of 3) | — |"
	if !strings.Contains(md, want) || strings.Contains(md, "uniform-scratch") || strings.Contains(md, "| random-split | random-split") {
		t.Fatalf("paired markdown:\n%s\nwant line %q", md, want)
	}
	if got := pairedMarkdown(rows[2:]); got != "" {
		t.Fatalf("references alone gave %q", got)
	}
}
