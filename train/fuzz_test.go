package train

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"encoding/json"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// frameCheckpoint adds the magic and a correct checksum to a checkpoint
// body, so that the fuzzer's mutations reach the decoders behind them.
func frameCheckpoint(body []byte) []byte {
	out := []byte(ckptMagic)
	out = binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(body))
	return append(out, body...)
}

// checkpointBody is the gob body of a real checkpoint, for the seeds.
func checkpointBody(t testing.TB, tr *Trainer, extra []byte) []byte {
	ck, err := NewCheckpoint(tr, extra)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(ck); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fuzzDir makes a fresh run directory under root for one fuzz input.
func fuzzDir(t *testing.T, root string) string {
	dir, err := os.MkdirTemp(root, "run")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "ckpt"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// FuzzLoadCheckpoint decodes arbitrary checkpoint bodies behind a valid
// checksum and restores what decodes: errors, never a panic, a hang or an
// allocation the file does not pay for.
func FuzzLoadCheckpoint(f *testing.F) {
	tr := newTrainer(f, 0.05)
	f.Add(checkpointBody(f, tr, nil))
	tr.Pos = Position{Epoch: 2, Step: 7, PhaseEpochs: 3, LossSum: 1.5, Seen: 20}
	f.Add(checkpointBody(f, tr, []byte(`{"round":1,"phase":"train"}`)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		ck, err := decodeCheckpoint(frameCheckpoint(body), "c.ckpt")
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of several lines: %q", err)
			}
			return
		}
		if ck.Pos.Epoch < 0 || ck.Pos.Step < 0 || ck.LogSize < 0 {
			t.Fatalf("negative position accepted: %+v, log size %d", ck.Pos, ck.LogSize)
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
		Train: Config{Batch: 16, LR: 0.05, Schedule: "cosine", Optimizer: "sgd"}})
	log := []byte(`{"event":"epoch","epoch":1,"train_loss":0.5}` + "\n" + `{"event":"summary"}` + "\n")
	f.Add(cfg, log, int64(len(log)))
	f.Add([]byte(`{"command":"grow","grow":{"method":"fast"}}`), []byte("{}\n{"), int64(3))
	f.Add([]byte(`{"command":1}`), []byte{}, int64(-1))
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, cfg, log []byte, logSize int64) {
		dir := fuzzDir(t, root)
		tr.Log = nil
		ck, err := NewCheckpoint(tr, nil)
		if err != nil {
			t.Fatal(err)
		}
		ck.LogSize = logSize
		for name, b := range map[string][]byte{"config.json": cfg, "log.jsonl": log} {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := ck.Save(filepath.Join(dir, "ckpt", "last.ckpt")); err != nil {
			t.Fatal(err)
		}
		s, ck2, err := OpenSession(dir)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of several lines: %q", err)
			}
			return
		}
		defer s.Log.Close()
		if ck2.LogSize != logSize || s.Log.Size() != logSize {
			t.Fatalf("log size %d, checkpoint %d, fuzzed %d", s.Log.Size(), ck2.LogSize, logSize)
		}
		if _, err := ReadEvents(filepath.Join(dir, "log.jsonl")); err != nil && !strings.Contains(err.Error(), "line") {
			t.Fatalf("unexpected read error %v", err)
		}
		_ = s.Log.Append("probe", map[string]any{"x": 1})
	})
}

// FuzzReadEvents reads arbitrary log.jsonl contents: an error naming the
// line, or one map per complete line with its fields.
func FuzzReadEvents(f *testing.F) {
	f.Add([]byte(`{"event":"epoch","epoch":1}` + "\n"))
	f.Add([]byte("{}\n{\"a\":[1,2,{\"b\":null}]}\n{\"trailing\""))
	f.Add([]byte("\n\n"))
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(fuzzDir(t, root), "log.jsonl")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		ev, err := ReadEvents(path)
		if err != nil {
			if !strings.Contains(err.Error(), ": line ") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q does not name the line in one line", err)
			}
			return
		}
		if lines := bytes.Count(b, []byte("\n")); len(ev) != lines {
			t.Fatalf("%d events from %d complete lines", len(ev), lines)
		}
	})
}
