package train

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nadir-ml/nadir/run"
)

// checkpointState is the trainer state of a real checkpoint, for the seeds.
func checkpointState(t testing.TB, tr *Trainer, extra []byte) []byte {
	ck, err := NewCheckpoint(tr, extra)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ck.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fuzzDir makes a fresh run directory under root for one fuzz input.
func fuzzDir(t *testing.T, root string) string {
	dir, err := os.MkdirTemp(root, "run")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, run.CkptDir), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// FuzzLoadCheckpoint decodes arbitrary trainer states (what a run
// checkpoint carries behind its valid checksum) and restores what decodes:
// errors, never a panic, a hang or an allocation the file does not pay for.
func FuzzLoadCheckpoint(f *testing.F) {
	tr := newTrainer(f, 0.05)
	f.Add(checkpointState(f, tr, nil))
	tr.Pos = Position{Epoch: 2, Step: 7, PhaseEpochs: 3, LossSum: 1.5, Seen: 20}
	f.Add(checkpointState(f, tr, []byte(`{"round":1,"phase":"train"}`)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, state []byte) {
		ck, err := decodeCheckpoint(&run.Checkpoint{State: state})
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of several lines: %q", err)
			}
			return
		}
		if ck.Pos.Epoch < 0 || ck.Pos.Step < 0 {
			t.Fatalf("negative position accepted: %+v", ck.Pos)
		}
		net, opt, err := ck.Restore()
		if err != nil {
			return
		}
		if net == nil || opt == nil {
			t.Fatal("restore without a network or optimiser")
		}
	})
}

// FuzzOpenSession reopens run directories of arbitrary config.json and
// log.jsonl around a real checkpoint, whose recorded log size is fuzzed.
func FuzzOpenSession(f *testing.F) {
	tr := newTrainer(f, 0.05)
	cfg, _ := json.Marshal(RunConfig{Command: "train", Data: "mnist", Model: "mlp:8", Act: "relu", Epochs: 2,
		Train: run.TrainConfig{Batch: 16, LR: 0.05, Schedule: "cosine", Optimizer: "sgd"}})
	log := []byte(`{"event":"epoch","epoch":1,"train_loss":0.5}` + "\n" + `{"event":"summary"}` + "\n")
	f.Add(cfg, log, int64(len(log)))
	f.Add([]byte(`{"command":"grow","grow":{"method":"fast"}}`), []byte("{}\n{"), int64(3))
	f.Add([]byte(`{"command":1}`), []byte{}, int64(-1))
	root := f.TempDir()
	state := checkpointState(f, tr, nil)
	f.Fuzz(func(t *testing.T, cfg, log []byte, logSize int64) {
		dir := fuzzDir(t, root)
		for name, b := range map[string][]byte{run.ConfigFile: cfg, run.LogFile: log} {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		ck := run.EncodeCheckpoint(&run.Checkpoint{LogSize: logSize, State: state})
		if err := os.WriteFile(filepath.Join(dir, run.CkptDir, run.LastCkpt), ck, 0o644); err != nil {
			t.Fatal(err)
		}
		s, _, err := OpenSession(dir)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of several lines: %q", err)
			}
			return
		}
		defer s.Close()
		if s.Log.Size() != logSize {
			t.Fatalf("log size %d, fuzzed %d", s.Log.Size(), logSize)
		}
		if _, err := run.ReadLog(filepath.Join(dir, run.LogFile)); err != nil && !strings.Contains(err.Error(), "line") {
			t.Fatalf("unexpected read error %v", err)
		}
	})
}
