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
	if len(stats) != 5 || stats[4].TestAcc < 0.95 {
		t.Fatalf("after 5 epochs: %+v", stats[len(stats)-1])
	}
	m := Evaluate(tr.Net, tr.Test, 7)
	total := 0
	for _, row := range m.Confusion {
		for _, v := range row {
			total += v
		}
	}
	if total != tr.Test.Len() || math.Abs(m.Accuracy-stats[4].TestAcc) > 1e-12 {
		t.Fatalf("evaluation inconsistent: %d examples, acc %v vs %v", total, m.Accuracy, stats[4].TestAcc)
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

func TestEventLogTruncatesOnResume(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.jsonl")
	l, err := OpenEventLog(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	l.Append("a", map[string]any{"x": 1})
	keep := l.Size()
	l.Append("b", nil)
	l.Close()
	l, err = OpenEventLog(path, keep)
	if err != nil {
		t.Fatal(err)
	}
	l.Append("c", nil)
	l.Close()
	ev, err := ReadEvents(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 2 || ev[0]["event"] != "a" || ev[1]["event"] != "c" {
		t.Fatalf("events after resume: %v", ev)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.json")
	if err := WriteJSONAtomic(p, map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSONAtomic(p, map[string]int{"a": 2}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != "{\n  \"a\": 2\n}\n" {
		t.Fatalf("content %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}

func ExampleEvaluate() {
	act, _ := nn.ParseActivation("relu")
	net, _ := nn.ParseModel("mlp:4", []int{4}, 3, act, rand.New(rand.NewPCG(1, 1)))
	m := Evaluate(net, blobs(30, 1), 8)
	fmt.Println(len(m.Confusion), m.Accuracy >= 0 && m.Accuracy <= 1)
	// Output: 3 true
}
