package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCoexploreBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"coexplore", "--boards", "zedboard,nosuch"},
		{"coexplore", "--spec-throughput", "-5"},
		{"coexplore", "--filters", ","},
		{"coexplore", "--space", "nosuch"},
		{"coexplore", "--mode", "greedy"},
		{"coexplore", "--acc-range", "0.9"},
		{"coexplore", "--kernels", "2,4"},
		{"coexplore", "--spec-throughput", "1e12", "--max-train", "100"},
	} {
		if code := realMain(args); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	f := filepath.Join(t.TempDir(), "empty.json")
	os.WriteFile(f, []byte(`{"depths":[],"kernels":[3],"filters":[8],"strides":[1]}`), 0o644)
	if code := realMain([]string{"coexplore", "--space", f}); code != 2 {
		t.Errorf("empty space: exit %d", code)
	}
}

func TestCoexploreJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("trains children on MNIST")
	}
	dir := filepath.Join(t.TempDir(), "run")
	code, out, errOut := runMain(t, "coexplore", "--out", dir, "--mode", "coexplore,hw-aware", "--episodes", "2",
		"--max-train", "300", "--depths", "1", "--filters", "2,4", "--quiet", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var sum struct {
		Modes map[string]map[string]any `json:"modes"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	for _, m := range []string{"coexplore", "hw-aware"} {
		for _, k := range []string{"children_trained", "best_accuracy", "best_throughput", "best_energy_efficiency", "seconds"} {
			if _, ok := sum.Modes[m][k]; !ok {
				t.Errorf("%s: no %s in %v", m, k, sum.Modes[m])
			}
		}
	}
	for _, f := range []string{"config.json", "log.jsonl", "ckpt/last.json", "summary.json", "pareto.png", "reward.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if code := realMain([]string{"coexplore", "--out", dir, "--quiet"}); code != 2 {
		t.Errorf("reusing a run directory: exit %d, want 2", code)
	}
}
