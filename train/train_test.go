package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
	"github.com/nadir-ml/nadir/run"
)

// blobs is a small separable problem: class c's points sit around c·e_c.
func blobs(n int, seed uint64) *data.Dataset {
	r := rand.New(rand.NewPCG(seed, 0))
	d := &data.Dataset{Name: "blobs", Shape: []int{4}, Classes: 3}
	for i := 0; i < n; i++ {
		c := i % 3
		for j := 0; j < 4; j++ {
			v := r.NormFloat64() * 0.3
			if j == c {
				v += 2
			}
			d.X = append(d.X, float32(v))
		}
		d.Y = append(d.Y, c)
	}
	return d
}

func newTrainer(t testing.TB, lr float64) *Trainer {
	t.Helper()
	act, _ := nn.ParseActivation("relu")
	net, err := nn.ParseModel("mlp:8", []int{4}, 3, act, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	opt, _ := optim.New("sgd", 0)
	tr := &Trainer{Net: net, Opt: opt, Sched: optim.Constant{Base: lr}, Cfg: Config{Batch: 16, Seed: 3},
		Train: blobs(240, 1), Test: blobs(60, 2)}
	return tr
}

func TestTrainerLearns(t *testing.T) {
	tr := newTrainer(t, 0.05)
	tr.BeginPhase(5)
	stats, err := tr.RunPhase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 5 || stats[4].TestAccuracy < 0.95 {
		t.Fatalf("after 5 epochs: %+v", stats[len(stats)-1])
	}
	m := Evaluate(tr.Net, tr.Test, 7)
	total := 0
	for _, row := range m.Confusion {
		for _, v := range row {
			total += v
		}
	}
	if total != tr.Test.Len() || math.Abs(m.Accuracy-stats[4].TestAccuracy) > 1e-12 {
		t.Fatalf("evaluation inconsistent: %d examples, acc %v vs %v", total, m.Accuracy, stats[4].TestAccuracy)
	}
}

func TestDivergenceGuard(t *testing.T) {
	tr := newTrainer(t, 1e30)
	tr.BeginPhase(3)
	_, err := tr.RunPhase(context.Background())
	var d *DivergedError
	if !errors.As(err, &d) {
		t.Fatalf("want DivergedError, got %v", err)
	}
}

// Same seed, same result; a trainer rebuilt from a checkpoint taken
// mid-epoch finishes exactly like one that never stopped.
func TestCheckpointResumeBitExact(t *testing.T) {
	dir := t.TempDir()
	ref := newTrainer(t, 0.05)
	ref.BeginPhase(2)
	if _, err := ref.RunPhase(context.Background()); err != nil {
		t.Fatal(err)
	}
	a := newTrainer(t, 0.05)
	a.Cfg.CkptSteps = 4
	a.BeginPhase(2)
	path := filepath.Join(dir, "c.ckpt")
	saved := 0
	a.Save = func() error {
		saved++
		ck, err := NewCheckpoint(a, []byte("extra"))
		if err != nil {
			return err
		}
		if saved == 3 { // mid-epoch
			if err := ck.Save(path); err != nil {
				return err
			}
			return errStop
		}
		return nil
	}
	if _, err := a.RunPhase(context.Background()); !errors.Is(err, errStop) {
		t.Fatalf("want the simulated crash, got %v", err)
	}
	ck, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Pos.Step == 0 || string(ck.Extra) != "extra" {
		t.Fatalf("checkpoint position %+v", ck.Pos)
	}
	net, opt, err := ck.Restore()
	if err != nil {
		t.Fatal(err)
	}
	b := newTrainer(t, 0.05)
	b.Net, b.Opt, b.Pos = net, opt, ck.Pos
	if _, err := b.RunPhase(context.Background()); err != nil {
		t.Fatal(err)
	}
	pa, pb := ref.Net.Params(), b.Net.Params()
	for i := range pa {
		for j := range pa[i].Data {
			if pa[i].Data[j] != pb[i].Data[j] {
				t.Fatalf("param %d[%d]: %v vs %v", i, j, pa[i].Data[j], pb[i].Data[j])
			}
		}
	}
}

var errStop = errors.New("simulated crash")

func TestCorruptCheckpoint(t *testing.T) {
	dir := t.TempDir()
	tr := newTrainer(t, 0.05)
	ck, err := NewCheckpoint(tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "c.ckpt")
	if err := ck.Save(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	b[len(b)-3] ^= 0xff
	os.WriteFile(path, b, 0o644)
	if _, err := LoadCheckpoint(path); err == nil {
		t.Fatal("corrupt checkpoint accepted")
	}
	os.WriteFile(path, []byte("hello"), 0o644)
	if _, err := LoadCheckpoint(path); err == nil {
		t.Fatal("non-checkpoint accepted")
	}
}

// A session falls back to the previous checkpoint when the latest is
// damaged, and the log loses the events written after it.
func TestSessionFallsBack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	s, err := CreateSession(dir, RunConfig{Command: "train"})
	if err != nil {
		t.Fatal(err)
	}
	tr := newTrainer(t, 0.05)
	tr.Log = s.Log
	tr.BeginPhase(2)
	tr.Save = func() error { return s.SaveCheckpoint(tr, nil, "") }
	if _, err := tr.RunPhase(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	last := filepath.Join(dir, "ckpt", "last.ckpt")
	b, _ := os.ReadFile(last)
	os.WriteFile(last, b[:len(b)/2], 0o644)
	s, ck, err := OpenSession(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ck.Pos.Epoch != 1 || ck.Warning == "" {
		t.Fatalf("resumed at epoch %d with warning %q, want epoch 1 and a warning", ck.Pos.Epoch, ck.Warning)
	}
	recs, err := run.ReadLog(filepath.Join(dir, run.LogFile))
	if err != nil {
		t.Fatal(err)
	}
	if ep := run.Events[run.Epoch](recs); len(ep) != 1 || ep[0].Epoch != 1 {
		t.Fatalf("epochs in the log after falling back: %+v", ep)
	}
}

func ExampleEvaluate() {
	act, _ := nn.ParseActivation("relu")
	net, _ := nn.ParseModel("mlp:4", []int{4}, 3, act, rand.New(rand.NewPCG(1, 1)))
	m := Evaluate(net, blobs(30, 1), 8)
	fmt.Println(len(m.Confusion), m.Accuracy >= 0 && m.Accuracy <= 1)
	// Output: 3 true
}
