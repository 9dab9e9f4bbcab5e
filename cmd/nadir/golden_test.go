package main

import (
	"bytes"
	"encoding/json"
	"errors"
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
		if name == "npi" {
			goldenNPI(t, bin, src)
			continue
		}
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

// goldenNPI: the NPI golden run verifies and evaluates, and resuming it
// (after its last epoch) rewrites the same summary and model.
func goldenNPI(t *testing.T, bin, src string) {
	t.Helper()
	// npi eval and verify write their results into the run directory:
	// they run on a copy, the golden directory stays as it is.
	dir := filepath.Join(t.TempDir(), "npi")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"npi", "verify", dir}, {"npi", "eval", dir, "--sizes", "3", "--n", "2"}} {
		// The golden model is barely trained: verification may fail, but
		// the model must load and run (exit 0 or a verdict, never exit 2).
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 2 {
				t.Fatalf("%v: %v\n%s", args, err, out)
			}
		}
	}
	os.Remove(filepath.Join(dir, "summary.json"))
	os.Remove(filepath.Join(dir, "model.npi"))
	if out, err := exec.Command(bin, "resume", "--quiet", dir).CombinedOutput(); err != nil {
		t.Fatalf("npi: resume: %v\n%s", err, out)
	}
	want, got := readSummary(t, src).(map[string]any), readSummary(t, dir).(map[string]any)
	delete(want, "training_seconds")
	delete(got, "training_seconds")
	if !closeJSON(got, want) {
		t.Errorf("npi: resumed summary differs:\n%v\n%v", got, want)
	}
	a, _ := os.ReadFile(filepath.Join(src, "model.npi"))
	b, _ := os.ReadFile(filepath.Join(dir, "model.npi"))
	if !bytes.Equal(a, b) {
		t.Error("npi: resumed model differs from the golden one")
	}
}
