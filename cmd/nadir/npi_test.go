package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// train → verify → eval → run on the fastest task, through the command.
func TestNPICommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "topo")
	var out, errb bytes.Buffer
	if err := npiMain([]string{"train", "--task", "toposort", "--out", dir, "--quiet"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"model.npi", "config.json", "summary.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("train did not write %s", f)
		}
	}

	out.Reset()
	if err := npiMain([]string{"verify", dir, "--json"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	var v struct {
		Verified bool   `json:"verified"`
		Cases    int    `json:"cases"`
		Failed   string `json:"failed"`
	}
	if err := json.Unmarshal([]byte(lastLine(out.String())), &v); err != nil || !v.Verified || v.Cases == 0 || v.Failed != "" {
		t.Errorf("verify --json: %q (%v)", out.String(), err)
	}

	out.Reset()
	if err := npiMain([]string{"eval", dir, "--sizes", "5,12", "--n", "3", "--json"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	var e struct {
		Accuracy map[string]float64 `json:"accuracy"`
	}
	if err := json.Unmarshal([]byte(lastLine(out.String())), &e); err != nil {
		t.Fatalf("eval --json: %q (%v)", out.String(), err)
	}
	if len(e.Accuracy) != 2 || e.Accuracy["5"] != 1 || e.Accuracy["12"] != 1 {
		t.Errorf("eval accuracy %v", e.Accuracy)
	}

	out.Reset()
	if err := npiMain([]string{"run", dir, "--input", "4:0>1,0>2,2>3"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !strings.Contains(s, "\n  TRAVERSE(START)\n") || !strings.Contains(s, "\n        TRAVERSE(CHILD)\n") {
		t.Errorf("run does not print an indented call tree:\n%s", s)
	}
	if l := lastLine(s); !strings.HasPrefix(l, "result: 0,2,3,1 (correct") {
		t.Errorf("run result line %q", l)
	}

	// User errors: one line, naming what is wrong.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", dir, "--input", "4:0>1,1>0"}, "cycle"},
		{[]string{"run", dir, "--input", "banana"}, "--input"},
		{[]string{"run", dir}, "--input is required"},
		{[]string{"train", "--task", "heapsort", "--out", dir}, "heapsort"},
		{[]string{"train", "--task", "addition"}, "--out"},
		{[]string{"eval", dir, "--sizes", "5,x"}, "--sizes"},
		{[]string{"eval", filepath.Join(dir, "nope")}, "nope"},
		{[]string{"verify"}, "run directory"},
		{[]string{"frobnicate"}, "frobnicate"},
		{[]string{"train", "--frobnicate"}, "frobnicate"},
	} {
		err := npiMain(c.args, &out, &errb)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: want one-line error mentioning %q, got %v", c.args, c.want, err)
		}
	}
}

// The nadir command dispatches npi and exits with 2 on a user error.
func TestNPIExitCode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "x")
	if code := realMain([]string{"npi", "train", "--task", "heapsort", "--out", dir}); code != 2 {
		t.Errorf("unknown task: exit %d, want 2", code)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("a rejected train left a run directory")
	}
}
