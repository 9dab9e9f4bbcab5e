package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/nadir-ml/nadir/train"
)

// TestFireflyResumeAfterSIGKILLInCandidates kills a Firefly run while its
// second growth step trains candidates (the checkpoint says a growth step
// is pending; the candidate phase is long) and checks that the resumed run
// ends exactly like an uninterrupted one.
func TestFireflyResumeAfterSIGKILLInCandidates(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := buildNadir(t)
	tmp := t.TempDir()
	args := func(out string) []string {
		return []string{"grow", "--method", "firefly", "--model", "mlp:8", "--max-train", "3000", "--rounds", "2",
			"--batch", "32", "--candidate-steps", "400", "--quiet", "--out", out}
	}
	ref := filepath.Join(tmp, "ref")
	if out, err := exec.Command(bin, args(ref)...).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	run := filepath.Join(tmp, "killed")
	killMidway(t, bin, args(run), run, func(c *train.Checkpoint) bool {
		var st struct {
			Round int
			Phase string
		}
		json.Unmarshal(c.Extra, &st)
		return st.Round >= 1 && st.Phase == "grow"
	})
	resumeEquals(t, bin, run, ref)
}

// TestFireflyBadFlags: bad Firefly and continual flags exit 2 with one
// line, before any data is loaded or training starts.
func TestFireflyBadFlags(t *testing.T) {
	tmp := t.TempDir()
	for _, args := range [][]string{
		{"grow", "--method", "firefly", "--candidates", "-1", "--out", tmp + "/a"},
		{"grow", "--method", "s2d", "--deeper", "--out", tmp + "/b"},
		{"grow", "--method", "firefly", "--candidate-steps", "0", "--out", tmp + "/c"},
		{"grow", "--method", "firefly", "--max-new-layers", "0", "--out", tmp + "/d"},
		{"continual", "--tasks", "split:x", "--out", tmp + "/e"},
		{"continual", "--hidden", "0", "--out", tmp + "/f"},
		{"continual", "--target", "2", "--out", tmp + "/g"},
		{"continual", "--frobnicate"},
	} {
		if code := realMain(args); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
