package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// growConfig, growSummary and growLog make a small grow run by hand: three
// rounds of a network with two growable layers (network layers 1 and 3),
// eigen events for every neuron of round 1, three predicted splits and a
// baseline split without a prediction.
const growConfig = `{"command":"grow","data":"mnist","model":"mlp:8,6","act":"tanh","epochs":1,
 "train":{"batch":64,"lr":0.05,"seed":1},
 "grow":{"method":"fast","rounds":2,"epochs_per_round":1,"eps":0.01}}`

const growSummary = `{"command":"grow","method":"fast","rounds":[
 {"round":0,"widths":[8,6],"params":6500,"macs":6400,"train_loss":0.5,"test_loss":0.45,"test_accuracy":0.85,"train_seconds":0.2},
 {"round":1,"widths":[10,7],"params":8100,"macs":8000,"train_loss":0.4,"test_loss":0.38,"test_accuracy":0.88,"splits":3,"added":3,"grow_seconds":0.1,"train_seconds":0.2},
 {"round":2,"widths":[12,9],"params":9800,"macs":9700,"train_loss":0.33,"test_loss":0.31,"test_accuracy":0.9025,"splits":4,"added":4,"grow_seconds":0.15,"train_seconds":0.25}],
 "test_accuracy":0.9025,"test_loss":0.31,"params":9800,"macs":9700,"widths":[12,9],"seconds":1.5}`

var growLog = []string{
	`{"event":"epoch","epoch":1,"train_loss":0.5,"train_accuracy":0.8,"test_loss":0.45,"test_accuracy":0.85,"lr":0.05,"seconds":0.2,"params":6500}`,
	`{"event":"round","round":0,"widths":[8,6],"params":6500}`,
	`{"event":"eigen","round":1,"layer":1,"neuron":0,"lambda_min":-0.3,"lambda_max":0.2}`,
	`{"event":"eigen","round":1,"layer":1,"neuron":1,"lambda_min":-0.1,"lambda_max":0.4}`,
	`{"event":"eigen","round":1,"layer":3,"neuron":0,"lambda_min":-0.05,"lambda_max":0.1}`,
	`{"event":"eigen","round":2,"layer":1,"neuron":0,"lambda_min":-0.2,"lambda_max":0.3}`,
	`{"event":"eigen","round":2,"layer":3,"neuron":2,"lambda_min":0.01,"lambda_max":0.05}`,
	`{"event":"split","round":1,"layer":1,"neuron":0,"scheme":"s2d","lambda_min":-0.3,"lambda_max":0.2,"eps":0.01,"added":1,"cost_delta":20,"measured":-1.4e-5,"predicted":-1.5e-5}`,
	`{"event":"split","round":1,"layer":3,"neuron":0,"scheme":"s2d","lambda_min":-0.05,"lambda_max":0.1,"eps":0.01,"added":1,"cost_delta":12,"measured":-3e-6,"predicted":-2.5e-6}`,
	`{"event":"split","round":2,"layer":1,"neuron":0,"scheme":"s2d","lambda_min":-0.2,"lambda_max":0.3,"eps":0.01,"added":1,"cost_delta":20,"measured":-9e-6,"predicted":-1e-5}`,
	`{"event":"split","round":2,"layer":1,"neuron":5,"scheme":"random-split","lambda_min":0,"lambda_max":0,"eps":0.01,"added":1,"cost_delta":20,"measured":2e-7}`,
	`{"event":"grow","round":1,"candidates":14,"splits":3,"added":3,"stats_seconds":0.08,"seconds":0.1}`,
	`{"event":"epoch","epoch":2,"train_loss":0.4,"train_accuracy":0.86,"test_loss":0.38,"test_accuracy":0.88,"lr":0.03,"seconds":0.2,"params":8100}`,
	`{"event":"grow","round":2,"candidates":17,"splits":4,"added":4,"stats_seconds":0.1,"seconds":0.15}`,
	`{"event":"epoch","epoch":3,"train_loss":0.33,"train_accuracy":0.9,"test_loss":0.31,"test_accuracy":0.9025,"lr":0.01,"seconds":0.25,"params":9800}`,
}

const trainConfig = `{"command":"train","data":"mnist","model":"mlp:32","act":"relu","epochs":3,"val_frac":0.1,"train":{"batch":64,"lr":0.05,"seed":2}}`

const trainSummary = `{"command":"train","test_accuracy":0.93,"test_loss":0.24,"params":25450,"macs":25408,"seconds":3.2,
 "epochs":[],"confusion":[[5,1],[0,6]]}`

var trainLog = []string{
	`{"event":"epoch","epoch":1,"train_loss":0.6,"train_accuracy":0.82,"val_loss":0.4,"val_accuracy":0.88,"test_loss":0.38,"test_accuracy":0.89,"lr":0.04,"seconds":1}`,
	`{"event":"epoch","epoch":2,"train_loss":0.3,"train_accuracy":0.91,"val_loss":0.3,"val_accuracy":0.91,"test_loss":0.28,"test_accuracy":0.92,"lr":0.02,"seconds":1}`,
	`{"event":"epoch","epoch":3,"train_loss":0.22,"train_accuracy":0.94,"val_loss":0.26,"val_accuracy":0.92,"test_loss":0.24,"test_accuracy":0.93,"lr":0.0,"seconds":1}`,
	`{"event":"summary","test_accuracy":0.93,"test_loss":0.24}`,
}

// writeRun makes a run directory under t.TempDir(); an empty part is not
// written.
func writeRun(t *testing.T, name, config, summary string, log []string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(filepath.Join(dir, "ckpt"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(file, s string) {
		if s == "" {
			return
		}
		if err := os.WriteFile(filepath.Join(dir, file), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("config.json", config)
	write("summary.json", summary)
	if log != nil {
		write("log.jsonl", strings.Join(log, "\n")+"\n")
	}
	return dir
}

func loadRun(t *testing.T, name, config, summary string, log []string) *Run {
	t.Helper()
	r, err := Load(writeRun(t, name, config, summary, log))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLoadGrow(t *testing.T) {
	r := loadRun(t, "g1", growConfig, growSummary, growLog)
	if r.Method() != "fast" || r.Name() != "g1" {
		t.Errorf("Method, Name = %q, %q; want fast, g1", r.Method(), r.Name())
	}
	if r.Config.Model != "mlp:8,6" || r.Config.Act != "tanh" || r.Config.Train.Seed != 1 {
		t.Errorf("config: model %q act %q seed %d", r.Config.Model, r.Config.Act, r.Config.Train.Seed)
	}
	if got := len(r.Summary.Rounds); got != 3 {
		t.Fatalf("%d rounds, want 3", got)
	}
	if rd := r.Summary.Rounds[2]; rd.MACs != 9700 || rd.TestAccuracy != 0.9025 || rd.Widths[1] != 9 || rd.Splits != 4 {
		t.Errorf("round 2 = %+v", rd)
	}
	if len(r.Epochs) != 3 || len(r.Eigen) != 5 || len(r.Splits) != 4 || len(r.Steps) != 2 {
		t.Errorf("events: %d epochs, %d eigen, %d splits, %d steps; want 3, 5, 4, 2",
			len(r.Epochs), len(r.Eigen), len(r.Splits), len(r.Steps))
	}
	if s := r.Splits[0]; s.Predicted == nil || *s.Predicted != -1.5e-5 || s.Measured != -1.4e-5 || s.Scheme != "s2d" {
		t.Errorf("split 0 = %+v", s)
	}
	if s := r.Splits[3]; s.Predicted != nil || s.Scheme != "random-split" {
		t.Errorf("baseline split has a prediction: %+v", s)
	}
	if e := r.Eigen[2]; e.Layer != 3 || e.LambdaMin != -0.05 {
		t.Errorf("eigen 2 = %+v", e)
	}
	if st := r.Steps[1]; st.Round != 2 || st.Candidates != 17 || st.StatsSeconds != 0.1 {
		t.Errorf("step 1 = %+v", st)
	}
}

func TestLoadTrain(t *testing.T) {
	r := loadRun(t, "t1", trainConfig, trainSummary, trainLog)
	if r.Method() != "train" || r.Summary.MACs != 25408 || len(r.Summary.Confusion) != 2 {
		t.Errorf("summary = %+v", r.Summary)
	}
	if len(r.Epochs) != 3 || r.Epochs[1].ValAccuracy != 0.91 {
		t.Errorf("epochs = %+v", r.Epochs)
	}
}

func TestLoadErrors(t *testing.T) {
	badLine := append(append([]string(nil), growLog[:2]...), `{"event":"eigen","round":1,`)
	badType := append(append([]string(nil), growLog[:2]...), `{"event":"split","round":"one"}`)
	noEvent := append(append([]string(nil), growLog[:2]...), `{"round":1}`)
	for _, tc := range []struct {
		name                 string
		config, summary      string
		log                  []string
		want                 []string // substrings of the error
		removeDir, fileAtDir bool
	}{
		{name: "no dir", removeDir: true, want: []string{"no such run directory"}},
		{name: "no config", summary: growSummary, log: growLog, want: []string{"not a run directory", "config.json"}},
		{name: "corrupt config", config: `{"command":`, summary: growSummary, log: growLog, want: []string{"config.json"}},
		{name: "no summary", config: growConfig, log: growLog, want: []string{"summary.json", "not finished"}},
		{name: "corrupt summary", config: growConfig, summary: `{"command":"grow","rounds":[{"round":"x"}]}`, log: growLog, want: []string{"summary.json"}},
		{name: "unknown command", config: growConfig, summary: `{"command":"export"}`, log: growLog, want: []string{"summary.json", "export"}},
		{name: "no log", config: growConfig, summary: growSummary, want: []string{"log.jsonl", "missing"}},
		{name: "torn line", config: growConfig, summary: growSummary, log: badLine, want: []string{"log.jsonl", "line 3"}},
		{name: "wrong type", config: growConfig, summary: growSummary, log: badType, want: []string{"log.jsonl", "line 3", "split"}},
		{name: "no event field", config: growConfig, summary: growSummary, log: noEvent, want: []string{"log.jsonl", "line 3", "event"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeRun(t, "run", tc.config, tc.summary, tc.log)
			if tc.removeDir {
				os.RemoveAll(dir)
			}
			_, err := Load(dir)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLabels(t *testing.T) {
	runs := []*Run{
		{Dir: "/x/a", Summary: Summary{Command: "grow", Method: "fast"}},
		{Dir: "/x/b/", Summary: Summary{Command: "grow", Method: "fast"}},
		{Dir: "/x/c", Summary: Summary{Command: "grow", Method: "s2d"}},
		{Dir: "/x/d", Summary: Summary{Command: "train"}},
	}
	got := strings.Join(labels(runs), ";")
	if want := "fast (a);fast (b);s2d;train"; got != want {
		t.Errorf("labels = %q, want %q", got, want)
	}
}
