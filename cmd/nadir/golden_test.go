package main

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The golden run directories (../../testdata/runs, one per format nadir
// has written) still evaluate and resume: eval gives the summary's test
// accuracy, and resuming a finished run rewrites the same summary.
func TestGoldenRunsEvalResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := buildNadir(t)
	dirs, _ := filepath.Glob("../../testdata/runs/*")
	if len(dirs) < 4 {
		t.Fatalf("golden runs: %v", dirs)
	}
	for _, src := range dirs {
		name := filepath.Base(src)
		want := readSummary(t, src)
		out, err := exec.Command(bin, "eval", "--json", src).Output()
		if err != nil {
			t.Fatalf("%s: eval: %v", name, err)
		}
		var ev struct {
			TestAccuracy float64 `json:"test_accuracy"`
		}
		if err := json.Unmarshal(out, &ev); err != nil {
			t.Fatalf("%s: eval output %q: %v", name, out, err)
		}
		if acc := want.(map[string]any)["test_accuracy"].(float64); ev.TestAccuracy != acc {
			t.Errorf("%s: eval accuracy %v, summary %v", name, ev.TestAccuracy, acc)
		}
		dir := filepath.Join(t.TempDir(), name)
		if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
		os.Remove(filepath.Join(dir, "summary.json"))
		if out, err := exec.Command(bin, "resume", "--quiet", dir).CombinedOutput(); err != nil {
			t.Fatalf("%s: resume: %v\n%s", name, err, out)
		}
		if got := readSummary(t, dir); !closeJSON(got, want) {
			t.Errorf("%s: resumed summary differs:\n%v\n%v", name, got, want)
		}
	}
}

// closeJSON reports whether a holds every field of b with b's value,
// numbers to 1e-9 relative (the kernels of a -tags noasm build round
// differently from those that wrote the run). A newer format may add
// fields (summary epochs gained "params" and "stopped" in format 1).
func closeJSON(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return false
		}
		for k := range y {
			if !closeJSON(x[k], y[k]) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !closeJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	case float64:
		y, ok := b.(float64)
		return ok && math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(y))
	}
	return a == b
}
