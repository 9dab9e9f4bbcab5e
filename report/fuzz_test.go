package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad reads run directories of arbitrary config.json, summary.json
// and log.jsonl: an error in one line that names the file, or a run.
func FuzzLoad(f *testing.F) {
	cfg := `{"command":"grow","data":"mnist","model":"mlp:16","epochs":1,"train":{"batch":64,"lr":0.05},"grow":{"method":"fast"}}`
	sum := `{"command":"grow","method":"fast","test_accuracy":0.9,"params":100,"rounds":[{"round":0,"widths":[16]}]}`
	log := `{"event":"epoch","epoch":1,"train_loss":0.5}` + "\n" + `{"event":"split","round":1,"layer":0,"neuron":3,"predicted":-0.1}` + "\n" +
		`{"event":"eigen","round":1,"layer":0,"neuron":3,"lambda_min":-1}` + "\n" + `{"event":"grow","round":1,"splits":2}` + "\n"
	f.Add(cfg, sum, log)
	f.Add(`{"command":"train"}`, `{"command":"train","confusion":[[1,0],[0,1]]}`, `{"event":"epoch","epoch":"one"}`+"\n")
	f.Add(`{}`, `{"command":"x"}`, "")
	f.Add(`{"train":1}`, `[]`, "{\"event\":\"\"}\n")
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, cfg, sum, log string) {
		dir, err := os.MkdirTemp(root, "run")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		for name, s := range map[string]string{"config.json": cfg, "summary.json": sum, "log.jsonl": log} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		r, err := Load(dir)
		if err != nil {
			if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), dir) {
				t.Fatalf("error %q is not one line naming the run", err)
			}
			return
		}
		if r.Method() == "" || (r.Summary.Command != "train" && r.Summary.Command != "grow") {
			t.Fatalf("run of command %q, method %q", r.Summary.Command, r.Method())
		}
	})
}
