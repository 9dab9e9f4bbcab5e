package sweep_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nadir-ml/nadir/dist"
	"github.com/nadir-ml/nadir/sweep"
)

func TestAggregateSkipsFailuresAndPlots(t *testing.T) {
	s := sweep.Spec{Methods: []string{"fast", "s2d"}, Seeds: []uint64{1, 2, 3}, Budgets: []string{"params=10", "params=20"}}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	points := s.Points()
	results := make([]dist.Result, len(points))
	for i, p := range points {
		results[i] = dist.Result{ID: string(rune('a' + i)), Status: dist.Done}
		if p.Method == "s2d" && p.Seed == 2 {
			results[i].Status, results[i].Error = dist.Failed, "diverged"
			continue
		}
		b := 10.0
		if p.Budget == "params=20" {
			b = 20
		}
		results[i].Summary, _ = json.Marshal(map[string]any{"test_accuracy": 0.5 + 0.1*float64(p.Seed), "params": b + float64(p.Seed), "macs": 3 * b})
	}
	rows, err := sweep.Aggregate(points, results)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("%d rows, want 4", len(rows))
	}
	r := rows[0] // fast, params=10: accuracies 0.6 0.7 0.8
	if r.N != 3 || math.Abs(r.MeanAccuracy-0.7) > 1e-12 || math.Abs(r.SDAccuracy-0.1) > 1e-12 || r.MeanParams != 12 || r.MeanMACs != 30 {
		t.Errorf("row %+v", r)
	}
	if rows[1].N != 2 || math.Abs(rows[1].MeanAccuracy-0.7) > 1e-12 { // s2d without seed 2: 0.6 0.8
		t.Errorf("row with a failure %+v", rows[1])
	}
	o := sweep.NewOutput(results, rows)
	if o.Trials != 12 || o.Done != 10 || o.Failed != 2 {
		t.Errorf("output counts %+v", o)
	}
	var md strings.Builder
	sweep.Markdown(&md, rows)
	if !strings.Contains(md.String(), "| s2d | params=20 | 2 | 0.7000 ± 0.1414 | 22 | 60 |") {
		t.Errorf("table:\n%s", md.String())
	}
	dir := t.TempDir()
	for _, ax := range []sweep.Axis{sweep.MACs, sweep.Params} {
		p := filepath.Join(dir, string(ax)+".png")
		if err := sweep.Plot(rows, ax, p); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(p); err != nil || st.Size() < 1000 {
			t.Errorf("%s: %v", p, err)
		}
	}
	for i := range results {
		results[i].Status = dist.Failed
	}
	rows, _ = sweep.Aggregate(points, results)
	if err := sweep.Plot(rows, sweep.MACs, filepath.Join(dir, "x.png")); err == nil {
		t.Error("plot of no finished trial: no error")
	}
}

func TestSpecCheck(t *testing.T) {
	for _, s := range []sweep.Spec{
		{Seeds: []uint64{1}},
		{Methods: []string{"fast"}},
		{Methods: []string{"fast", "fast"}, Seeds: []uint64{1}},
		{Methods: []string{"fast"}, Seeds: []uint64{1, 1}},
	} {
		if err := s.Check(); err == nil {
			t.Errorf("%+v: no error", s)
		}
	}
}
