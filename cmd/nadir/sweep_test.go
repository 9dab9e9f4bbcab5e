package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/nadir-ml/nadir/dist"
	"github.com/nadir-ml/nadir/sweep"
)

// noWallClock drops every "*seconds" field, the only ones that may differ
// between two runs of the same trial.
func noWallClock(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if strings.HasSuffix(k, "seconds") {
				delete(x, k)
			} else {
				x[k] = noWallClock(e)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = noWallClock(e)
		}
	}
	return v
}

func runSweep(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	ctx := context.WithValue(context.Background(), stdoutKey{}, &out)
	err := cmdSweep(ctx, append(args, "--quiet"))
	return out.String(), err
}

// TestSweepEmbeddedEqualsLocal: the same sweep through the embedded
// JetStream queue (2 workers) and through the local pool gives the same
// table and, per trial, the same summary to the bit (wall-clock fields
// aside); rerunning a finished sweep runs nothing.
func TestSweepEmbeddedEqualsLocal(t *testing.T) {
	tmp := t.TempDir()
	// A small CSV problem keeps the test fast: three noisy classes in 4-D.
	var csv strings.Builder
	csv.WriteString("a,b,c,d,label\n")
	for i := range 400 {
		k := i % 3
		fmt.Fprintf(&csv, "%g,%g,%g,%g,%d\n", float64(k)+0.7*math.Sin(float64(i)), math.Cos(float64(i*7)), float64(k*k)*0.3+0.5*math.Sin(float64(i*3)), float64(i%5), k)
	}
	data := filepath.Join(tmp, "three.csv")
	os.WriteFile(data, []byte(csv.String()), 0o644)
	common := []string{"--method", "fast,uniform-scratch", "--seed", "1,2", "--model", "mlp:4", "--scratch-model", "mlp:6",
		"--data", "csv:" + data, "--rounds", "2", "--split-batches", "2", "--batch", "16", "--json"}
	local, nats := filepath.Join(tmp, "local"), filepath.Join(tmp, "nats")
	outL, err := runSweep(t, append(common, "--out", local, "--workers", "2")...)
	if err != nil {
		t.Fatal(err)
	}
	outN, err := runSweep(t, append(common, "--out", nats, "--nats", "embedded", "--workers", "2")...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("local pool:\n%s", outL)
	tableOf := func(s string) string { return s[:strings.Index(s, "4 trials")] }
	if tableOf(outL) != tableOf(outN) {
		t.Errorf("tables differ:\nlocal:\n%s\nembedded:\n%s", outL, outN)
	}
	lines := strings.Split(strings.TrimSpace(outL), "\n")
	var o struct{ Trials, Done, Failed int }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &o); err != nil || o.Trials != 4 || o.Done != 4 {
		t.Fatalf("--json last line: %v %+v", err, o)
	}
	ids, _ := os.ReadDir(filepath.Join(local, "trials"))
	if len(ids) != 4 {
		t.Fatalf("%d trial directories, want 4", len(ids))
	}
	for _, e := range ids {
		var a, b any
		for dir, v := range map[string]*any{local: &a, nats: &b} {
			raw, err := os.ReadFile(filepath.Join(dir, "trials", e.Name(), "summary.json"))
			if err != nil {
				t.Fatal(err)
			}
			json.Unmarshal(raw, v)
		}
		if !reflect.DeepEqual(noWallClock(a), noWallClock(b)) {
			t.Errorf("trial %s: summaries differ:\n%v\n%v", e.Name(), a, b)
		}
	}
	// Resume: the finished sweep reruns no trial.
	before, _ := os.Stat(filepath.Join(local, "trials", ids[0].Name(), dist.ResultFile))
	if out, err := runSweep(t, append(common, "--out", local)...); err != nil || tableOf(out) != tableOf(outL) {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	after, _ := os.Stat(filepath.Join(local, "trials", ids[0].Name(), dist.ResultFile))
	if !after.ModTime().Equal(before.ModTime()) {
		t.Error("a finished trial ran again")
	}
	for _, f := range []string{"table.md", "summary.json", "sweep.json", "accuracy_vs_macs.png", "accuracy_vs_params.png"} {
		if _, err := os.Stat(filepath.Join(nats, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestSweepBadInput(t *testing.T) {
	tmp := t.TempDir()
	os.WriteFile(filepath.Join(tmp, "bad.json"), []byte(`{"methods": ["fast"], "seeds": [1], "args": ["--seed", "2"]}`), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--frobnicate", "1"}, "frobnicate"},
		{[]string{"--out", tmp, "--from", "x"}, "--from"},
		{[]string{"--method", "uniform-scratch"}, "--scratch-model"},
		{[]string{"--method", "magic"}, "magic"},
		{[]string{"--method", "scratch"}, "uniform-scratch"},
		{[]string{"--seed", "1,x"}, "--seed"},
		{[]string{"--seed", "1,1"}, "twice"},
		{[]string{"--lr", "-1"}, "--lr"},
		{[]string{"--nats", "embedded", "--workers", "0"}, "--workers"},
		{[]string{"--file", filepath.Join(tmp, "bad.json")}, "--seed: set by sweep"},
	} {
		_, err := runSweep(t, append(c.args, "--out", filepath.Join(tmp, "x"))...)
		var ee *exitError
		if err == nil || !strings.Contains(err.Error(), c.want) || (errors.As(err, &ee) && ee.code != 2) {
			t.Errorf("%v: error %v, want a bad-input error mentioning %q", c.args, err, c.want)
		}
	}
}

func TestWorkerBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "--nats URL is required"},
		{[]string{"--nats", "embedded"}, "embedded"},
		{[]string{"--nats", "nats://127.0.0.1:1", "extra"}, "extra"},
		{[]string{"--nats", "nats://127.0.0.1:1", "--grace", "-1s"}, "--grace"},
	} {
		err := cmdWorker(context.Background(), c.args)
		var ee *exitError
		if err == nil || !strings.Contains(err.Error(), c.want) || errors.As(err, &ee) {
			t.Errorf("%v: error %v, want a bad-input error mentioning %q", c.args, err, c.want)
		}
	}
	// No server there: a run-time failure (exit 1), one line.
	err := cmdWorker(context.Background(), []string{"--nats", "nats://127.0.0.1:1"})
	var ee *exitError
	if err == nil || strings.Contains(err.Error(), "\n") || !errors.As(err, &ee) || ee.code != 1 {
		t.Errorf("unreachable server: %v", err)
	}
}

// scratchSpec is a sweep of fast and uniform-scratch, seed 1, with the
// given budgets and flags.
func scratchSpec(budgets []string, args ...string) sweep.Spec {
	return sweep.Spec{Methods: []string{"fast", "uniform-scratch"}, Seeds: []uint64{1}, Budgets: budgets, Data: []string{"mnist"}, Args: args,
		Baselines: map[string]string{"uniform-scratch": "train"}}
}

// scratchTrials checks spec and returns its trials (scratch model mlp:6).
func scratchTrials(t *testing.T, spec sweep.Spec) []dist.Trial {
	t.Helper()
	if err := spec.Check(); err != nil {
		t.Fatal(err)
	}
	trials, err := sweepTrials(spec, "mlp:6")
	if err != nil {
		t.Fatal(err)
	}
	return trials
}

// TestSweepScratchEpochsArePasses: the uniform-scratch baseline trains as
// many epochs as a grow run makes passes over the data, so with
// --growth-fraction the early epochs count their fraction (rounded as
// grow.PlanBaseline rounds), not a whole epoch each.
func TestSweepScratchEpochsArePasses(t *testing.T) {
	// 1 seed epoch + 3 rounds of 1 + 8 final: 12 epochs, the 3 before the
	// last growth step passing over the fraction each.
	for _, c := range []struct {
		fraction string
		epochs   int
	}{{"0", 12}, {"1", 12}, {"0.333333333", 10}, {"0.5", 11}, {"0.25", 10}} {
		trials := scratchTrials(t, scratchSpec(nil, "--model", "mlp:4", "--epochs", "1", "--rounds", "3",
			"--epochs-per-round", "1", "--final-epochs", "8", "--growth-fraction", c.fraction))
		if len(trials) != 2 || trials[1].Command != "train" {
			t.Fatalf("trials %v, want grow then train", trials)
		}
		want := fmt.Sprintf("--epochs=%d", c.epochs)
		if !slices.Contains(trials[1].Args, want) {
			t.Errorf("--growth-fraction %s: uniform-scratch args %v, want %s", c.fraction, trials[1].Args, want)
		}
	}
}

// TestSweepScratchWithBudgetSchedule: a schedule that is valid only with a
// budget (--grow-ratio auto) serves uniform-scratch too, although the
// baseline has no budget of its own.
func TestSweepScratchWithBudgetSchedule(t *testing.T) {
	spec := scratchSpec([]string{"macs=20000", "macs=40000"}, "--model", "mlp:4", "--rounds", "2", "--grow-ratio", "auto")
	trials := scratchTrials(t, spec)
	i := slices.IndexFunc(trials, func(t dist.Trial) bool { return t.Command == "train" })
	if len(trials) != 3 || i < 0 {
		t.Fatalf("trials %v, want two grow runs and one train", trials)
	}
	for _, a := range trials[i].Args {
		if strings.HasPrefix(a, "--budget") || strings.HasPrefix(a, "--grow-ratio") {
			t.Errorf("uniform-scratch args %v: %s is not a train flag", trials[i].Args, a)
		}
	}
	// Without a budget the schedule is still refused.
	spec.Budgets = []string{""}
	if _, err := sweepTrials(spec, "mlp:6"); err == nil || !strings.Contains(err.Error(), "budget") {
		t.Errorf("--grow-ratio auto without a budget: error %v", err)
	}
}
