package train

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"testing"
)

// cancelAt cancels a context once training has done a given number of
// steps of a given epoch, as a signal handler would.
type cancelAt struct {
	epoch, step int
	t           *Trainer
	cancel      context.CancelFunc
}

func (c *cancelAt) PhaseStart(string, int) {}
func (c *cancelAt) PhaseEnd()              {}
func (c *cancelAt) StepDone(done int, _ float64) {
	if c.t.Pos.Epoch == c.epoch && done == c.step {
		c.cancel()
	}
}

// A cancelled run checkpoints the step it stopped at, and resuming from
// that checkpoint finishes exactly like a run that never stopped.
func TestCancelCheckpointsAndResumesExactly(t *testing.T) {
	ref := newTrainer(t, 0.05)
	ref.BeginPhase(3)
	want, err := ref.RunPhase(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(t.TempDir(), "last.ckpt")
	a := newTrainer(t, 0.05)
	a.Save = func() error {
		ck, err := NewCheckpoint(a, nil)
		if err != nil {
			return err
		}
		return ck.Save(path)
	}
	a.BeginPhase(3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a.Hooks = []Hook{&cancelAt{epoch: 1, step: 5, t: a, cancel: cancel}}
	got, err := a.RunPhase(ctx)
	if !errors.Is(err, context.Canceled) || len(got) != 1 {
		t.Fatalf("want a cancellation after one epoch, got %d epochs, %v", len(got), err)
	}
	ck, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Pos.Epoch != 1 || ck.Pos.Step != 5 {
		t.Fatalf("checkpoint at epoch %d step %d, want epoch 1 step 5", ck.Pos.Epoch, ck.Pos.Step)
	}
	net, opt, err := ck.Restore()
	if err != nil {
		t.Fatal(err)
	}
	b := newTrainer(t, 0.05)
	b.Net, b.Opt, b.Pos = net, opt, ck.Pos
	rest, err := b.RunPhase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, rest...)
	for i := range want {
		want[i].Seconds, got[i].Seconds = 0, 0 // wall clock
		want[i].EvalSeconds, got[i].EvalSeconds = 0, 0
		if want[i] != got[i] {
			t.Fatalf("epoch %d differs after the interruption:\n%+v\n%+v", i+1, want[i], got[i])
		}
	}
}

// Divergence stops the run with the last checkpoint that holds finite
// weights, even when the weights overflow on a step whose loss was finite.
func TestDivergenceKeepsLastGoodCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "last.ckpt")
	tr := newTrainer(t, 0.05)
	tr.Cfg.CkptSteps = 2
	saves := 0
	tr.Save = func() error {
		saves++
		ck, err := NewCheckpoint(tr, nil)
		if err != nil {
			return err
		}
		return ck.Save(path)
	}
	// Poison one weight after step 6, as an overflowing update would: the
	// loss of step 6 was finite, the checkpoint due after it must not be
	// written.
	tr.Hooks = []Hook{hookFunc(func(done int) {
		if tr.Pos.Epoch == 0 && done == 6 {
			tr.Net.Params()[0].Data[0] = float32(math.Inf(1))
		}
	})}
	tr.BeginPhase(2)
	_, err := tr.RunPhase(context.Background())
	var d *DivergedError
	if !errors.As(err, &d) || !d.Weight {
		t.Fatalf("want DivergedError of a weight, got %v", err)
	}
	ck, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Pos.Epoch != 0 || ck.Pos.Step != 4 || saves != 2 {
		t.Fatalf("last checkpoint at epoch %d step %d after %d saves; want step 4 of epoch 0, 2 saves", ck.Pos.Epoch, ck.Pos.Step, saves)
	}
	net, _, err := ck.Restore()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range net.Params() {
		for _, v := range p.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatal("the kept checkpoint holds a non-finite weight")
			}
		}
	}
}

type hookFunc func(done int)

func (hookFunc) PhaseStart(string, int)         {}
func (hookFunc) PhaseEnd()                      {}
func (h hookFunc) StepDone(done int, _ float64) { h(done) }

func TestParseBytes(t *testing.T) {
	for s, want := range map[string]int64{"512": 512, "1K": 1024, "1.5G": 3 << 29, "8GiB": 8 << 30, " 2 m ": 2 << 20, "1T": 1 << 40} {
		if got, err := ParseBytes(s); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "0", "-1G", "lots", "1P", "NaN", "1e30G"} {
		if _, err := ParseBytes(s); err == nil {
			t.Errorf("ParseBytes(%q) accepted", s)
		}
	}
}
