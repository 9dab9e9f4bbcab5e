package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nadir-ml/nadir/run"
	"github.com/nadir-ml/nadir/train"
)

// buildNadir compiles the command once per test binary (into binDir,
// which TestMain removes).
func buildNadir(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		bin := filepath.Join(binDir, "nadir")
		out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		builtBin = bin
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

var (
	buildOnce        sync.Once
	binDir, builtBin string
	buildErr         error
)

func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "nadir-cmd-test"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

// stripTimes removes wall-clock fields, which legitimately differ.
func stripTimes(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			switch k {
			case "seconds", "grow_seconds", "train_seconds", "epoch_seconds", "eval_seconds", "time":
				continue
			}
			out[k] = stripTimes(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = stripTimes(e)
		}
		return out
	}
	return v
}

func readSummary(t *testing.T, dir string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return stripTimes(v)
}

// killMidway starts the command, waits until its checkpoint shows a
// position satisfying ready, and kills it with SIGKILL.
func killMidway(t *testing.T, bin string, args []string, dir string, ready func(*train.Checkpoint) bool) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case <-done:
			t.Fatal("run finished before it could be killed; make it longer")
		case <-deadline:
			cmd.Process.Kill()
			t.Fatal("no mid-run checkpoint within 60s")
		case <-time.After(5 * time.Millisecond):
		}
		ck, err := train.LoadCheckpoint(filepath.Join(dir, "ckpt", "last.ckpt"))
		if err == nil && ready(ck) {
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			return
		}
	}
}

func TestResumeAfterSIGKILLTrain(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := buildNadir(t)
	tmp := t.TempDir()
	args := func(out string) []string {
		return []string{"train", "--model", "mlp:32", "--max-train", "6000", "--epochs", "3", "--batch", "32",
			"--ckpt-steps", "10", "--augment", "0", "--quiet", "--out", out}
	}
	ref := filepath.Join(tmp, "ref")
	if out, err := exec.Command(bin, args(ref)...).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	killed := filepath.Join(tmp, "killed")
	killMidway(t, bin, args(killed), killed, func(c *train.Checkpoint) bool { return c.Pos.Epoch >= 1 && c.Pos.Step > 0 })
	resumeEquals(t, bin, killed, ref)
}

func TestResumeAfterSIGKILLGrow(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := buildNadir(t)
	base := []string{"grow", "--method", "fast", "--model", "mlp:8", "--max-train", "6000", "--rounds", "3",
		"--batch", "32", "--ckpt-steps", "10", "--quiet"}
	// The second run exercises the state the growth options add: lineages
	// in the checkpoint, the run-long schedule, the optimiser reset,
	// balanced splits and the restart after growth (read back from
	// config.json on resume); the third the budget's round targets; the
	// fourth the part of the data a growth round trains on.
	extra := [][]string{nil, {"--eps-rel", "0.1", "--lineage-cap", "1", "--lr-span", "run", "--reset-optim", "--split-param", "balanced", "--reinit"},
		{"--grow-ratio", "auto", "--budget", "macs=20000"}, {"--growth-fraction", "0.5", "--reinit"}}
	for _, x := range extra {
		args := func(out string) []string {
			return append(append(append([]string(nil), base...), x...), "--out", out)
		}
		// Kill inside round 2's fine-tuning, mid-epoch.
		resumeMatches(t, bin, args, func(c *train.Checkpoint) bool {
			var st struct{ Round int }
			json.Unmarshal(c.Extra, &st)
			return st.Round >= 2 && c.Pos.Step > 0
		})
	}
}

// Network slimming killed while the wide network trains under the L1
// penalty: the resumed run re-attaches the penalty and ends identical.
func TestResumeAfterSIGKILLSlimming(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := buildNadir(t)
	args := func(out string) []string {
		return []string{"grow", "--method", "prune", "--network-slimming", "--slim-lambda", "1e-3", "--model", "cnn:c8,p,c8,p",
			"--budget", "macs=100000", "--max-train", "2000", "--epochs", "2", "--batch", "32", "--ckpt-steps", "5", "--quiet", "--out", out}
	}
	resumeMatches(t, bin, args, func(c *train.Checkpoint) bool { return c.Pos.Epoch == 0 && c.Pos.Step > 0 })
}

// resumeMatches runs args to the end, then again killed where ready says,
// resumes it, and compares the summaries and event counts.
func resumeMatches(t *testing.T, bin string, args func(string) []string, ready func(*train.Checkpoint) bool) {
	t.Helper()
	tmp := t.TempDir()
	ref := filepath.Join(tmp, "ref")
	if out, err := exec.Command(bin, args(ref)...).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	killed := filepath.Join(tmp, "killed")
	killMidway(t, bin, args(killed), killed, ready)
	resumeEquals(t, bin, killed, ref)
	evA, _ := run.ReadLog(filepath.Join(ref, "log.jsonl"))
	evB, _ := run.ReadLog(filepath.Join(killed, "log.jsonl"))
	if len(evA) != len(evB) {
		t.Fatalf("event logs differ in length: %d vs %d", len(evA), len(evB))
	}
}

// resumeEquals runs `nadir resume` on the interrupted run dir and requires
// its summary to equal the uninterrupted run ref's (wall-clock fields aside).
func resumeEquals(t *testing.T, bin, dir, ref string) {
	t.Helper()
	if out, err := exec.Command(bin, "resume", "--quiet", dir).CombinedOutput(); err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	if a, b := readSummary(t, ref), readSummary(t, dir); !reflect.DeepEqual(a, b) {
		t.Fatalf("resumed summary differs:\n%v\n%v", a, b)
	}
}
