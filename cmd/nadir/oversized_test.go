package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestOversizedModels: models a user mistypes are sized from the grammar
// and refused at once with one line and exit 2, before anything is
// allocated or any run directory is made.
func TestOversizedModels(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := buildNadir(t)
	run := filepath.Join(t.TempDir(), "run")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--model", "mlp:1000000000"}, "training needs about 12.3 TiB"},
		{[]string{"train", "--model", "mlp:99999,99999,99999"}, "20079299215 parameters"},
		{[]string{"train", "--model", "cnn:c100000,p"}, "cnn:c100000,p: training needs about"},
		{[]string{"train", "--model", "cnn:c8k99"}, "kernel 99 larger than the 28x28 input"},
		{[]string{"grow", "--model", "mlp:4096,4096", "--max-memory", "100M"}, "more than the 100.0 MiB of --max-memory"},
		{[]string{"train", "--max-memory", "lots"}, `--max-memory: memory size "lots"`},
	} {
		cmd := exec.Command(bin, append(c.args, "--max-train", "100", "--quiet", "--out", run)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("%v: want exit 2, got %v", c.args, err)
		}
		msg := strings.TrimRight(stderr.String(), "\n")
		if strings.Contains(msg, "\n") || !strings.Contains(msg, c.want) {
			t.Errorf("%v: want one line with %q, got:\n%s", c.args, c.want, msg)
		}
	}
	if _, err := os.Stat(run); err == nil {
		t.Error("a refused model left a run directory behind")
	}
}
