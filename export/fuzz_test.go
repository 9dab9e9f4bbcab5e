package export

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/nadir-ml/nadir/nn"
)

// The readers take files from anywhere, so they must fail with an error,
// never panic or allocate without bound, whatever the bytes. The seed
// corpora in testdata/fuzz hold tiny valid exports (regenerate them with
// NADIR_FUZZ_SEEDS=1 go test -run TestWriteFuzzSeeds ./export).

func tinyNets(t testing.TB) map[string]*nn.Net {
	r := rand.New(rand.NewPCG(9, 9))
	a, _ := nn.ParseActivation("softplus:2")
	mlp, err := nn.ParseModel("mlp:3", []int{4}, 2, a, r)
	if err != nil {
		t.Fatal(err)
	}
	cnn, err := nn.ParseModel("cnn:c2,d2,p,g", []int{1, 4, 4}, 2, a, r)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*nn.Net{"mlp": mlp, "cnn": cnn}
}

func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("NADIR_FUZZ_SEEDS") == "" {
		t.Skip("set NADIR_FUZZ_SEEDS=1 to rewrite testdata/fuzz")
	}
	for name, n := range tinyNets(t) {
		o, err := WriteONNX(n, ONNXOptions{Info: Info{Pre: &Preprocess{Scale: 1, Mean: []float32{0}, Std: []float32{1}}}})
		if err != nil {
			t.Fatal(err)
		}
		s, _, err := NetSafetensors(n, Info{})
		if err != nil {
			t.Fatal(err)
		}
		for fz, b := range map[string][]byte{"FuzzReadONNX": o, "FuzzReadSafetensors": s} {
			dir := filepath.Join("testdata", "fuzz", fz)
			os.MkdirAll(dir, 0o755)
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func FuzzReadONNX(f *testing.F) {
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		net, info, err := ReadONNX(b)
		if err != nil {
			return
		}
		// What reads back writes back to the same bytes' meaning.
		out, err := WriteONNX(net, ONNXOptions{Info: info})
		if err != nil {
			t.Fatalf("accepted file does not re-export: %v", err)
		}
		if _, _, err := ReadONNX(out); err != nil {
			t.Fatalf("re-export does not read back: %v", err)
		}
	})
}

func FuzzReadSafetensors(f *testing.F) {
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, meta, err := ReadSafetensors(b)
		if err != nil {
			return
		}
		out, err := WriteSafetensors(ts, meta)
		if err != nil {
			t.Fatalf("accepted file does not re-encode: %v", err)
		}
		ts2, _, err := ReadSafetensors(out)
		if err != nil || len(ts2) != len(ts) {
			t.Fatalf("re-encoded file does not read back: %v", err)
		}
		for i := range ts {
			if !bytes.Equal(ts[i].Data, ts2[i].Data) {
				t.Fatalf("tensor %s changed", ts[i].Name)
			}
		}
		ReadNetSafetensors(b)
	})
}

// The seeds must be files the readers accept, or fuzzing would start
// from the error paths only.
func TestFuzzSeedsAreValid(t *testing.T) {
	for _, fz := range []string{"FuzzReadONNX", "FuzzReadSafetensors"} {
		files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", fz, "*"))
		if len(files) == 0 {
			t.Fatalf("%s: no seed corpus", fz)
		}
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, lit, _ := bytes.Cut(bytes.TrimSpace(raw), []byte("\n[]byte("))
			s, err := strconv.Unquote(string(bytes.TrimSuffix(lit, []byte(")"))))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if fz == "FuzzReadONNX" {
				_, _, err = ReadONNX([]byte(s))
			} else {
				_, _, err = ReadNetSafetensors([]byte(s))
			}
			if err != nil {
				t.Errorf("%s: seed not accepted: %v", f, err)
			}
		}
	}
}
