package npi

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseInput parses arbitrary --input text for every task: an error in
// one line, or an input whose String form parses back to the same input
// and from which the task's environment can be built.
func FuzzParseInput(f *testing.F) {
	for _, s := range []string{"123+4567", "0+0", "5,3,9,1", "-2, 7 ,7", "4:0>1,0>2,2>3", "3:0>1,1>0",
		"1000000000:", "2:0>1,0>1", "9999999999999999999", "+", ""} {
		f.Add(uint8(0), s)
	}
	f.Fuzz(func(t *testing.T, which uint8, s string) {
		task, err := NewTask(TaskNames[int(which)%len(TaskNames)], which&4 == 0)
		if err != nil {
			t.Fatal(err)
		}
		in, err := task.ParseInput(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of several lines: %q", err)
			}
			return
		}
		again, err := task.ParseInput(in.String())
		if err != nil {
			t.Fatalf("%q parsed, its String %q does not: %v", s, in.String(), err)
		}
		if again.String() != in.String() {
			t.Fatalf("%q → %q → %q", s, in.String(), again.String())
		}
		if len(s) < 64 {
			task.NewEnv(in)
		}
	})
}

// FuzzReadModel decodes arbitrary model files: an error, or a model that
// saves and loads back to the same bytes. A header whose configuration
// needs more parameters than the file holds is refused before the model is
// allocated.
func FuzzReadModel(f *testing.F) {
	for _, name := range TaskNames {
		task, _ := NewTask(name, true)
		cfg := DefaultModelConfig(name, true)
		cfg.Hidden, cfg.Enc, cfg.ProgEmbed, cfg.KeyDim = 4, 4, 2, 2
		m, err := NewModel(task, cfg, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			f.Fatal(err)
		}
		dir := f.TempDir()
		if err := Save(dir, m); err != nil {
			f.Fatal(err)
		}
		b, err := readFile(dir)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	huge := DefaultModelConfig("addition", true)
	huge.Hidden = 1_000_000_000
	hj, _ := json.Marshal(ckptHeader{Version: 1, Config: huge})
	f.Add(append(binary.LittleEndian.AppendUint32([]byte(ckptMagic), uint32(len(hj))), hj...))
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := readModel(bytes.NewReader(b))
		if err != nil {
			return
		}
		dir, err := tempDir(root)
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		if err := Save(dir, m); err != nil {
			t.Fatal(err)
		}
		b2, _ := readFile(dir)
		m2, err := readModel(bytes.NewReader(b2))
		if err != nil {
			t.Fatalf("saved model does not load: %v", err)
		}
		if err := Save(dir, m2); err != nil {
			t.Fatal(err)
		}
		if b3, _ := readFile(dir); !bytes.Equal(b2, b3) {
			t.Fatal("save/load is not a fixed point")
		}
	})
}

func readFile(dir string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, ModelFile)) }

func tempDir(root string) (string, error) { return os.MkdirTemp(root, "m") }

func TestReadModelRefusesConfigLargerThanFile(t *testing.T) {
	huge := DefaultModelConfig("addition", true)
	huge.Hidden = 1_000_000_000
	hj, _ := json.Marshal(ckptHeader{Version: 1, Config: huge})
	_, err := readModel(bytes.NewReader(append(binary.LittleEndian.AppendUint32([]byte(ckptMagic), uint32(len(hj))), hj...)))
	if err == nil || !strings.Contains(err.Error(), "parameters, the file holds 0") {
		t.Fatalf("got %v", err)
	}
}

// FuzzResumeState resumes training from arbitrary checkpoint states (what
// a run checkpoint carries behind its valid checksum): an error when the
// state does not decode or fit the configuration, never a panic.
func FuzzResumeState(f *testing.F) {
	task, _ := NewTask("bubblesort", true)
	mc := DefaultModelConfig("bubblesort", true)
	mc.Hidden, mc.Enc, mc.ProgEmbed, mc.KeyDim = 4, 4, 2, 2
	cfg := TrainConfig{Model: mc, Seed: 1, Traces: 5, MaxSize: 3, MaxEpochs: 2}
	var states [][]byte
	c := cfg
	c.Checkpoint = func(_ Epoch, state []byte) error {
		states = append(states, append([]byte(nil), state...))
		return nil
	}
	if _, _, err := Train(task, c); err != nil {
		f.Fatal(err)
	}
	for _, b := range states {
		f.Add(b)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, state []byte) {
		c := cfg
		c.Resume = state
		c.MaxEpochs = 3 // at most a few epochs of training
		Train(task, c)
	})
}
