package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nadir-ml/nadir/run"
)

func smallTrain(out string) []string {
	return []string{"train", "--model", "mlp:8", "--max-train", "600", "--epochs", "2", "--batch", "50",
		"--ckpt-steps", "4", "--quiet", "--out", out}
}

// A write that fails (a full disk, injected) ends the command with exit 1
// and leaves the last good checkpoint in place, from which the run resumes.
func TestWriteFailureExits1(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network")
	}
	dir := filepath.Join(t.TempDir(), "run")
	writes := 0
	restore := run.InjectFault(func(p string) error {
		if strings.HasSuffix(p, ".ckpt") {
			if writes++; writes == 3 {
				return errors.New("no space left on device")
			}
		}
		return nil
	})
	code := realMain(smallTrain(dir))
	restore()
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	ck, err := run.ReadCheckpoint(filepath.Join(dir, run.CkptDir, run.LastCkpt))
	if err != nil {
		t.Fatalf("last good checkpoint: %v", err)
	}
	if ck.LogSize < 0 {
		t.Fatal("bad checkpoint")
	}
	if code := realMain([]string{"resume", "--quiet", dir}); code != 0 {
		t.Fatalf("resume after the failure: exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(dir, run.SummaryFile)); err != nil {
		t.Fatal(err)
	}
}

// A second process refuses a run directory that another one holds, with
// one line and exit 1.
func TestRunDirInUse(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := buildNadir(t)
	dir := filepath.Join(t.TempDir(), "run")
	if out, err := exec.Command(bin, smallTrain(dir)...).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	d, _, err := run.Resume(dir) // this test process now holds the directory
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	cmd := exec.Command(bin, "resume", "--quiet", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("want exit 1, got %v", err)
	}
	msg := strings.TrimRight(stderr.String(), "\n")
	if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "in use") || !strings.Contains(msg, "pid") {
		t.Fatalf("want one line saying the directory is in use, got:\n%s", msg)
	}
}

// A damaged latest checkpoint (a flipped bit, a truncated file) is
// detected; resume warns, continues from the previous checkpoint and ends
// exactly where the undamaged run ended.
func TestResumeFromDamagedCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := buildNadir(t)
	tmp := t.TempDir()
	ref := filepath.Join(tmp, "ref")
	if out, err := exec.Command(bin, smallTrain(ref)...).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := readSummary(t, ref)
	for name, damage := range map[string]func([]byte) []byte{
		"bit flip":  func(b []byte) []byte { b[len(b)/2] ^= 0x10; return b },
		"truncated": func(b []byte) []byte { return b[:len(b)-100] },
	} {
		dir := filepath.Join(tmp, strings.ReplaceAll(name, " ", "-"))
		if err := os.CopyFS(dir, os.DirFS(ref)); err != nil {
			t.Fatal(err)
		}
		os.Remove(filepath.Join(dir, run.SummaryFile))
		last := filepath.Join(dir, run.CkptDir, run.LastCkpt)
		b, _ := os.ReadFile(last)
		os.WriteFile(last, damage(b), 0o644)
		cmd := exec.Command(bin, "resume", "--quiet", dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: resume: %v\n%s", name, err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "warning") || !strings.Contains(stderr.String(), run.PrevCkpt) {
			t.Errorf("%s: no warning about the fallback: %q", name, stderr.String())
		}
		if got := readSummary(t, dir); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: resumed summary differs:\n%v\n%v", name, got, want)
		}
	}
}
