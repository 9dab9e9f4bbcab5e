package npi

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

// Training continued from an epoch's checkpointed state ends with the same
// model and summary as training that never stopped; a cancelled context
// stops it.
func TestTrainResumeExact(t *testing.T) {
	task, _ := NewTask("toposort", true)
	cfg := TrainConfig{Model: DefaultModelConfig("toposort", true), Seed: 3, MaxEpochs: 5, Patience: 100}
	var states [][]byte
	var epochs []Epoch
	cfg.Checkpoint = func(e Epoch, st []byte) error {
		states = append(states, st)
		epochs = append(epochs, e)
		return nil
	}
	ref, refSum, err := TrainContext(context.Background(), task, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 5 || epochs[4].Epoch != 5 {
		t.Fatalf("%d checkpoints, last epoch %+v", len(states), epochs[len(epochs)-1])
	}
	cfg.Checkpoint = nil
	cfg.Resume = states[1] // after epoch 2
	got, sum, err := TrainContext(context.Background(), task, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ref.Params() {
		if !reflect.DeepEqual(p.Data, got.Params()[i].Data) {
			t.Fatalf("%s differs after resuming", p.Name)
		}
	}
	refSum.Seconds, sum.Seconds = 0, 0
	if *refSum != *sum {
		t.Fatalf("summary %+v, want %+v", sum, refSum)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cfg.Resume = nil
	if _, _, err := TrainContext(ctx, task, cfg); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: err = %v", err)
	}
}
