package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
	"time"
)

// An NPI training run is a run directory like the others: killed with
// SIGKILL mid-run, `nadir resume` finishes it with the same model and
// summary as a run that was never interrupted.
func TestNPIResumeAfterSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := buildNadir(t)
	tmp := t.TempDir()
	args := func(out string) []string {
		return []string{"npi", "train", "--task", "bubblesort", "--traces", "100", "--epochs", "40", "--quiet", "--out", out}
	}
	ref := filepath.Join(tmp, "ref")
	if out, err := exec.Command(bin, args(ref)...).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	killed := filepath.Join(tmp, "killed")
	cmd := exec.Command(bin, args(killed)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(60 * time.Second)
wait:
	for {
		select {
		case <-done:
			t.Fatal("run finished before it could be killed; make it longer")
		case <-deadline:
			cmd.Process.Kill()
			t.Fatal("no checkpoint within 60s")
		case <-time.After(5 * time.Millisecond):
		}
		if b, err := os.ReadFile(filepath.Join(killed, "log.jsonl")); err == nil && bytes.Count(b, []byte("\n")) >= 3 {
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			break wait
		}
	}
	if _, err := os.Stat(filepath.Join(killed, "summary.json")); err == nil {
		t.Fatal("the killed run finished")
	}
	if out, err := exec.Command(bin, "resume", "--quiet", killed).CombinedOutput(); err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	strip := func(dir string) any {
		s := readSummary(t, dir).(map[string]any)
		delete(s, "training_seconds")
		return s
	}
	if a, b := strip(ref), strip(killed); !reflect.DeepEqual(a, b) {
		t.Fatalf("resumed summary differs:\n%v\n%v", a, b)
	}
	ma, _ := os.ReadFile(filepath.Join(ref, "model.npi"))
	mb, _ := os.ReadFile(filepath.Join(killed, "model.npi"))
	if !bytes.Equal(ma, mb) {
		t.Fatal("resumed model differs from the uninterrupted one")
	}
	la, _ := os.ReadFile(filepath.Join(ref, "log.jsonl"))
	lb, _ := os.ReadFile(filepath.Join(killed, "log.jsonl"))
	if bytes.Count(la, []byte("\n")) != bytes.Count(lb, []byte("\n")) {
		t.Fatal("event logs differ in length")
	}
}
