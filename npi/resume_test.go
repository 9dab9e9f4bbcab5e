package npi

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

// A training run cancelled after some epochs and resumed from its last
// checkpointed state ends with the parameters and summary of a run that
// never stopped.
func TestTrainResumeExact(t *testing.T) {
	task, _ := NewTask("bubblesort", true)
	mc := DefaultModelConfig("bubblesort", true)
	mc.Hidden, mc.Enc = 16, 16
	cfg := TrainConfig{Model: mc, Seed: 3, Traces: 30, MaxSize: 4, MaxEpochs: 6, Patience: 100}
	ref, refSum, err := Train(task, cfg)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := cfg
	a.Context = ctx
	a.Checkpoint = func(st *TrainState) error {
		if st.Epoch == 3 {
			cancel() // a signal during epoch 4
		}
		return SaveTrainState(dir, st)
	}
	if _, _, err := Train(task, a); !errors.Is(err, context.Canceled) {
		t.Fatalf("want the cancellation, got %v", err)
	}
	st, err := LoadTrainState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Epoch != 3 {
		t.Fatalf("state after epoch %d, want 3", st.Epoch)
	}
	b := cfg
	b.Resume = st
	m, sum, err := Train(task, b)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range m.Params() {
		if !reflect.DeepEqual(p.Data, ref.Params()[i].Data) {
			t.Fatalf("parameter %s differs after resuming", p.Name)
		}
	}
	sum.Seconds, refSum.Seconds = 0, 0
	if *sum != *refSum {
		t.Fatalf("summary differs:\n%+v\n%+v", *sum, *refSum)
	}
}
