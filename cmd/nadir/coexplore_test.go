package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
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
	for _, f := range []string{"config.json", "log.jsonl", "ckpt/last.json", "summary.json", "pareto.png", "reward.png", "designs.md", "report.html"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if code := realMain([]string{"coexplore", "--out", dir, "--quiet"}); code != 2 {
		t.Errorf("reusing a run directory: exit %d, want 2", code)
	}
}

// coexploreSummary runs a tiny search and returns summary.json without the
// wall-clock fields.
func coexploreSummary(t *testing.T, dir string, extra ...string) map[string]any {
	t.Helper()
	args := append([]string{"coexplore", "--out", dir, "--mode", "coexplore,hw-aware", "--episodes", "2", "--children", "2",
		"--max-train", "200", "--depths", "1", "--filters", "2,4", "--quiet", "--json"}, extra...)
	code, out, errOut := runMain(t, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", extra, code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var sum map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	for _, m := range sum["modes"].(map[string]any) {
		delete(m.(map[string]any), "seconds")
	}
	return sum
}

// Children trained by JetStream workers (an embedded server with two
// local workers) give the search the local pool gives.
func TestCoexploreNATSEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("trains children on MNIST")
	}
	root := t.TempDir()
	local := coexploreSummary(t, filepath.Join(root, "local"), "--workers", "2")
	nats := coexploreSummary(t, filepath.Join(root, "nats"), "--nats", "embedded", "--workers", "2")
	if hw := local["modes"].(map[string]any)["hw-aware"].(map[string]any); hw["children_trained"].(float64) == 0 {
		t.Fatalf("nothing trained: %v", hw)
	}
	if !reflect.DeepEqual(local, nats) {
		a, _ := json.Marshal(local)
		b, _ := json.Marshal(nats)
		t.Errorf("summaries differ:\nlocal %s\nnats  %s", a, b)
	}
	ents, err := os.ReadDir(filepath.Join(root, "nats", "trials"))
	if err != nil || len(ents) == 0 {
		t.Errorf("no child run directories from the workers: %v", err)
	}
	if code := realMain([]string{"coexplore", "--nats", "embedded", "--workers", "0", "--quiet", "--out", filepath.Join(root, "x")}); code != 2 {
		t.Errorf("--nats embedded --workers 0: exit %d, want 2", code)
	}
}

// nadir report on a co-exploration run directory writes its report.
func TestReportCoexplore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	os.MkdirAll(dir, 0o755)
	for _, f := range []string{"config.json", "log.jsonl", "summary.json"} {
		b, err := os.ReadFile(filepath.Join("../../testdata/coexplore/run", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	code, out, errOut := runMain(t, "report", dir, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var res struct {
		HTML    string   `json:"html"`
		Plots   []string `json:"plots"`
		Designs string   `json:"designs"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Plots) != 2 || res.Designs != filepath.Join(dir, "designs.md") {
		t.Errorf("report output %+v", res)
	}
	b, _ := os.ReadFile(res.Designs)
	if !strings.Contains(string(b), "⟨") {
		t.Errorf("designs.md:\n%s", b)
	}
	if code := realMain([]string{"report", "--table", dir}); code != 2 {
		t.Errorf("--table of a co-exploration run: exit %d, want 2", code)
	}
}
