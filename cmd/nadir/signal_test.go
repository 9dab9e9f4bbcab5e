package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nadir-ml/nadir/npi"
	"github.com/nadir-ml/nadir/run"
	"github.com/nadir-ml/nadir/train"
)

// signalMidway starts the command, waits until its checkpoint satisfies
// ready and a little longer (to land mid-epoch), sends sigs, and returns
// the exit status and stderr.
func signalMidway(t *testing.T, bin string, args []string, dir string, ready func(*train.Checkpoint) bool, sigs ...syscall.Signal) (int, string) {
	return signalWhen(t, bin, args, func() bool {
		ck, err := train.LoadCheckpoint(filepath.Join(dir, "ckpt", "last.ckpt"))
		return err == nil && ready(ck)
	}, sigs...)
}

// signalWhen is signalMidway with any readiness test.
func signalWhen(t *testing.T, bin string, args []string, ready func() bool, sigs ...syscall.Signal) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case <-done:
			t.Fatalf("run finished before it could be interrupted; make it longer\n%s", stderr.String())
		case <-deadline:
			cmd.Process.Kill()
			t.Fatal("not ready to interrupt within 60s")
		case <-time.After(5 * time.Millisecond):
		}
		if ready() {
			break
		}
	}
	time.Sleep(30 * time.Millisecond)
	for _, s := range sigs {
		cmd.Process.Signal(s)
	}
	err := <-done
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("want a non-zero exit, got %v\n%s", err, stderr.String())
	}
	return ee.ExitCode(), stderr.String()
}

// SIGINT and SIGTERM stop train and grow at the next step with a
// checkpoint, exit 130 and 143 with one line saying how to resume, and the
// resumed run equals an uninterrupted one; a second signal exits at once
// and leaves a run that resumes just as well.
func TestSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := buildNadir(t)
	tmp := t.TempDir()
	// Epochs (15 ms) and rounds (35 ms) are short next to loading the
	// data: many of them keep the run going well past the signal.
	trainArgs := func(out string) []string {
		return []string{"train", "--model", "mlp:32", "--max-train", "6000", "--epochs", "20", "--batch", "32",
			"--ckpt-steps", "0", "--quiet", "--out", out}
	}
	growArgs := func(out string) []string {
		return []string{"grow", "--method", "fast", "--model", "mlp:8", "--max-train", "6000", "--rounds", "8",
			"--batch", "32", "--ckpt-steps", "0", "--quiet", "--out", out}
	}
	run := func(args []string) {
		t.Helper()
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	trainRef, growRef := filepath.Join(tmp, "train-ref"), filepath.Join(tmp, "grow-ref")
	run(trainArgs(trainRef))
	run(growArgs(growRef))
	afterEpoch1 := func(c *train.Checkpoint) bool { return c.Pos.Epoch >= 1 }
	inRound1 := func(c *train.Checkpoint) bool {
		var st struct{ Round int }
		json.Unmarshal(c.Extra, &st)
		return st.Round >= 1
	}
	for _, c := range []struct {
		name  string
		args  func(string) []string
		ref   string
		ready func(*train.Checkpoint) bool
		sigs  []syscall.Signal
		code  int
	}{
		{"train-SIGINT", trainArgs, trainRef, afterEpoch1, []syscall.Signal{syscall.SIGINT}, 130},
		{"grow-SIGTERM", growArgs, growRef, inRound1, []syscall.Signal{syscall.SIGTERM}, 143},
		// Two SIGINTs sent together may merge into one; SIGINT and SIGTERM
		// never do: the second signal's status is the exit status (143
		// when SIGTERM is handled second).
		{"train-SIGINT-SIGTERM", trainArgs, trainRef, afterEpoch1, []syscall.Signal{syscall.SIGINT, syscall.SIGTERM}, 143},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(tmp, c.name)
			code, stderr := signalMidway(t, bin, c.args(dir), dir, c.ready, c.sigs...)
			want := c.code
			if len(c.sigs) > 1 {
				// Signals sent back to back reach the process in an order the
				// kernel does not promise (each may go to another thread): the
				// exit status must be that of the signal handled second.
				for _, s := range c.sigs {
					if strings.Contains(stderr, "second signal ("+s.String()+")") {
						want = 128 + int(s)
					}
				}
			}
			if code != want {
				t.Fatalf("exit status %d, want %d\n%s", code, want, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(c.sigs) == 1 && (len(lines) != 1 || !strings.HasSuffix(lines[0], "interrupted; resume with: nadir resume "+dir)) {
				t.Fatalf("stderr %q: want one line ending %q", stderr, "interrupted; resume with: nadir resume "+dir)
			}
			if len(c.sigs) > 1 && !strings.Contains(stderr, "second signal") {
				t.Fatalf("stderr %q: the second signal did not exit at once", stderr)
			}
			if ck, err := train.LoadCheckpoint(filepath.Join(dir, "ckpt", "last.ckpt")); err == nil {
				t.Logf("stopped with a checkpoint at epoch %d step %d", ck.Pos.Epoch, ck.Pos.Step)
			}
			if out, err := exec.Command(bin, "resume", "--quiet", dir).CombinedOutput(); err != nil {
				t.Fatalf("resume: %v\n%s", err, out)
			}
			if a, b := readSummary(t, c.ref), readSummary(t, dir); !reflect.DeepEqual(a, b) {
				t.Fatalf("resumed summary differs:\n%v\n%v", a, b)
			}
			if len(c.sigs) > 1 {
				return // an exit at once may leave a checkpoint's temporary file
			}
			// A graceful stop leaves no temporary file of a checkpoint write.
			entries, _ := os.ReadDir(filepath.Join(dir, "ckpt"))
			for _, e := range entries {
				if strings.Contains(e.Name(), ".tmp") {
					t.Errorf("temporary file %s left in ckpt/", e.Name())
				}
			}
		})
	}
}

// SIGTERM stops `nadir npi train` after its last epoch's state, with exit
// 143 and the resume line; `nadir resume` then trains the same model as a
// run that never stopped.
func TestSignalNPITrain(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := buildNadir(t)
	tmp := t.TempDir()
	args := func(out string) []string {
		return []string{"npi", "train", "--task", "bubblesort", "--hidden", "16", "--traces", "100", "--epochs", "60",
			"--quiet", "--out", out}
	}
	ref, dir := filepath.Join(tmp, "ref"), filepath.Join(tmp, "run")
	if out, err := exec.Command(bin, args(ref)...).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	code, stderr := signalWhen(t, bin, args(dir), func() bool {
		recs, err := run.ReadLog(filepath.Join(dir, run.LogFile))
		return err == nil && len(run.Events[run.NPIEpoch](recs)) >= 5
	}, syscall.SIGTERM)
	if want := "interrupted; resume with: nadir resume " + dir; code != 143 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, want) {
		t.Fatalf("exit %d, stderr %q; want 143 and one line with %q", code, stderr, want)
	}
	if _, err := os.Stat(filepath.Join(dir, npi.ModelFile)); err == nil {
		t.Fatal("an interrupted run wrote its final model")
	}
	if out, err := exec.Command(bin, "resume", "--quiet", dir).CombinedOutput(); err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	a, _ := os.ReadFile(filepath.Join(ref, npi.ModelFile))
	b, _ := os.ReadFile(filepath.Join(dir, npi.ModelFile))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatal("the resumed model differs from the uninterrupted run's")
	}
	if x, y := readSummary(t, ref), readSummary(t, dir); !reflect.DeepEqual(delete2(x, "training_seconds"), delete2(y, "training_seconds")) {
		t.Fatalf("summaries differ:\n%v\n%v", x, y)
	}
}

func delete2(v any, key string) any {
	if m, ok := v.(map[string]any); ok {
		delete(m, key)
	}
	return v
}

// SIGINT stops `nadir coexplore` after an episode's checkpoint (the
// episode in flight is dropped), with exit 130 and the resume line;
// `nadir resume` then finishes the search as a run that never stopped.
func TestSignalCoexplore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := buildNadir(t)
	tmp := t.TempDir()
	args := func(out string) []string {
		return []string{"coexplore", "--out", out, "--mode", "coexplore,hw-aware", "--episodes", "4", "--children", "2",
			"--max-train", "300", "--depths", "1", "--filters", "2,4", "--quiet"}
	}
	ref, dir := filepath.Join(tmp, "ref"), filepath.Join(tmp, "run")
	if out, err := exec.Command(bin, args(ref)...).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	code, stderr := signalWhen(t, bin, args(dir), func() bool {
		var ck struct {
			Modes []struct{ Episode int }
		}
		b, err := os.ReadFile(filepath.Join(dir, "ckpt", "last.json"))
		return err == nil && json.Unmarshal(b, &ck) == nil && len(ck.Modes) > 0 && ck.Modes[0].Episode >= 1
	}, syscall.SIGINT)
	if want := "interrupted; resume with: nadir resume " + dir; code != 130 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, want) {
		t.Fatalf("exit %d, stderr %q; want 130 and one line with %q", code, stderr, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "summary.json")); err == nil {
		t.Fatal("an interrupted search wrote its summary")
	}
	resumeEquals(t, bin, dir, ref)
}

// SIGTERM stops `nadir continual` inside a method after the first one
// finished, with exit 143 and one line giving the command that continues
// it; that command then gives the results of a comparison that never
// stopped.
func TestSignalContinual(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := buildNadir(t)
	tmp := t.TempDir()
	args := func(out string) []string {
		return []string{"continual", "--tasks", "split:2", "--max-train", "8000", "--hidden", "64", "--seed-width", "4",
			"--epochs", "3", "--rounds", "1", "--candidate-steps", "5", "--quiet", "--out", out}
	}
	ref, dir := filepath.Join(tmp, "ref"), filepath.Join(tmp, "run")
	if out, err := exec.Command(bin, args(ref)...).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	code, stderr := signalWhen(t, bin, args(dir), func() bool {
		var st run.ContinualState
		b, err := os.ReadFile(filepath.Join(dir, "state.json"))
		return err == nil && json.Unmarshal(b, &st) == nil && len(st.Methods) >= 1
	}, syscall.SIGTERM)
	want := "interrupted; continue with: nadir " + strings.Join(args(dir), " ")
	if code != 143 || strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(strings.TrimSpace(stderr), want) {
		t.Fatalf("exit %d, stderr %q; want 143 and one line ending %q", code, stderr, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "results.json")); err == nil {
		t.Fatal("an interrupted comparison wrote its results")
	}
	if out, err := exec.Command(bin, args(dir)...).CombinedOutput(); err != nil || !strings.Contains(string(out), "continuing "+dir) {
		t.Fatalf("continue: %v\n%s", err, out)
	}
	a, _ := os.ReadFile(filepath.Join(ref, "results.json"))
	b, _ := os.ReadFile(filepath.Join(dir, "results.json"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("continued results differ:\n%s\n%s", a, b)
	}
}

func TestContinueArgs(t *testing.T) {
	for _, c := range []struct {
		args      []string
		out, want string
	}{
		{[]string{"--tasks", "split:2"}, "", "--tasks split:2 --out runs/continual-1"},
		{[]string{"--out", "my runs/x", "--data", "idx:it's"}, "my runs/x", `--out 'my runs/x' --data 'idx:it'\''s'`},
	} {
		if got := continueArgs(c.args, c.out, "runs/continual-1"); got != c.want {
			t.Errorf("continueArgs(%q) = %s, want %s", c.args, got, c.want)
		}
	}
}
