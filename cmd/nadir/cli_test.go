package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nadir-ml/nadir/data"
)

// TestBadInput: each kind of bad input gives exactly one error line on
// stderr, exit code 2, and no panic trace.
func TestBadInput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := buildNadir(t)
	tmp := t.TempDir()
	// A truncated IDX file: a real MNIST test-image file cut short.
	mn, err := data.MNISTDir()
	if err != nil {
		t.Fatal(err)
	}
	idx := filepath.Join(tmp, "idx")
	os.Mkdir(idx, 0o755)
	for _, f := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		b, _ := os.ReadFile(filepath.Join(mn, f))
		os.WriteFile(filepath.Join(idx, f), b, 0o644)
	}
	var raw bytes.Buffer
	zw := gzip.NewWriter(&raw)
	zw.Write([]byte{0, 0, 8, 3, 0, 0, 0x27, 0x10, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3})
	zw.Close()
	os.WriteFile(filepath.Join(idx, "t10k-images-idx3-ubyte.gz"), raw.Bytes(), 0o644)
	csv := filepath.Join(tmp, "bad.csv")
	os.WriteFile(csv, []byte("a,b,label\n1,2,0\n3,oops,1\n"), 0o644)
	run := filepath.Join(tmp, "run")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"truncated idx", []string{"train", "--data", "idx:" + idx, "--out", run}, "truncated"},
		{"csv non-numeric", []string{"train", "--data", "csv:" + csv, "--out", run}, "oops"},
		{"bad model", []string{"train", "--model", "cnn:c8,zz", "--out", run}, "zz"},
		{"unknown flag", []string{"train", "--frobnicate", "--out", run}, "frobnicate"},
		{"unknown command", []string{"frobnicate"}, "frobnicate"},
		{"unknown method", []string{"grow", "--method", "magic", "--out", run}, "magic"},
		{"unknown solver", []string{"grow", "--solver", "magic", "--out", run}, "--solver \"magic\""},
		{"bad select", []string{"grow", "--select", "best", "--out", run}, "--select \"best\": unknown (want ratio or knapsack)"},
		{"negative epochs per round", []string{"grow", "--epochs-per-round", "-1", "--out", run}, "--epochs-per-round -1: must be >= 0"},
		{"impossible budget", []string{"grow", "--budget", "params=10", "--max-train", "100", "--out", run}, "impossible"},
		{"bad budget", []string{"grow", "--budget", "flops=10", "--out", run}, "budget"},
		{"nothing splittable", []string{"grow", "--model", "cnn:g", "--max-train", "100", "--out", run}, "splittable"},
		{"bad grow ratio", []string{"grow", "--grow-ratio", "lots", "--out", run}, "flag -grow-ratio: must be a number"},
		{"zero grow ratio", []string{"grow", "--grow-ratio", "0", "--out", run}, "(0, 10] or auto"},
		{"auto grow ratio without budget", []string{"grow", "--grow-ratio", "auto", "--out", run}, "needs a budget"},
		{"growth fraction above one", []string{"grow", "--growth-fraction", "2", "--out", run}, "growth-fraction"},
		{"layer floor above one", []string{"grow", "--layer-floor", "1.5", "--out", run}, "layer-floor"},
		{"negative eps-rel", []string{"grow", "--eps-rel", "-1", "--out", run}, "eps-rel"},
		{"slimming without target", []string{"grow", "--method", "prune", "--network-slimming", "--out", run}, "budget"},
		{"slimming of a growth method", []string{"grow", "--method", "s2d", "--network-slimming", "--out", run}, "network-slimming"},
		{"missing run", []string{"resume", filepath.Join(tmp, "nope")}, "nope"},
	}
	for _, c := range cases {
		cmd := exec.Command(bin, c.args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("%s: want exit 2, got %v", c.name, err)
		}
		msg := strings.TrimRight(stderr.String(), "\n")
		if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, c.want) || strings.Contains(msg, "goroutine") {
			t.Errorf("%s: want one error line mentioning %q, got:\n%s", c.name, c.want, msg)
		}
	}
	if _, err := os.Stat(filepath.Join(run, "config.json")); err == nil {
		t.Error("a failed command left a run directory behind")
	}
}
