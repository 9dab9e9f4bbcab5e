package report

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// Every golden run directory (each format nadir has written, see
// ../testdata/runs) loads, makes its figures and its table row.
func TestGoldenRuns(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/runs/*")
	if len(dirs) < 4 {
		t.Fatalf("golden runs: %v", dirs)
	}
	for _, dir := range dirs {
		r, err := Load(dir)
		if filepath.Base(dir) == "npi" {
			// An NPI training run: not the report's to plot, and it says so.
			if err == nil || !strings.Contains(err.Error(), "npi") {
				t.Errorf("%s: %v", dir, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		figs, err := Figures(r)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		want := 1 // training curves
		if r.Summary.Command == "grow" {
			want = 4 // accuracy-MACs, widths, eigenvalues, predicted-measured
			if len(r.Splits) == 0 || len(r.Eigen) == 0 || len(r.Steps) == 0 || len(r.Summary.Rounds) != 2 {
				t.Errorf("%s: %d splits, %d eigen, %d steps, %d rounds", dir, len(r.Splits), len(r.Eigen), len(r.Steps), len(r.Summary.Rounds))
			}
		}
		if len(figs) != want {
			t.Errorf("%s: %d figures, want %d", dir, len(figs), want)
		}
		var md bytes.Buffer
		if err := Markdown(&md, r); err != nil || !strings.Contains(md.String(), r.Config.Model) {
			t.Errorf("%s: markdown %q, %v", dir, md.String(), err)
		}
	}
}
