package run

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The golden run directories of ../testdata/runs were written by nadir at
// each run-directory format (train-v0, grow-v0: before package run; train,
// grow: format 1; npi: an NPI training run, whose config and summary have
// that producer's schema). A change to the format that stops old runs from being
// read fails here, in report's tests and in cmd/nadir's (resume, eval).
const goldenDir = "../testdata/runs"

var golden = map[string]map[string]int{ // kind → events
	"train":    {"epoch": 2, "summary": 1},
	"train-v0": {"epoch": 2, "summary": 1},
	"grow":     {"epoch": 2, "round": 2, "eigen": 4, "split": 1, "grow": 1},
	"grow-v0":  {"epoch": 2, "round": 2, "eigen": 4, "split": 1, "grow": 1},
}

// The NPI golden run: its log and checkpoints are this package's; its
// config is read by command, and Read names the producer instead of
// misreading it.
func TestGoldenNPIRun(t *testing.T) {
	dir := filepath.Join(goldenDir, "npi")
	if c, err := Command(dir); err != nil || c != "nadir npi train" {
		t.Fatalf("command %q, %v", c, err)
	}
	if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), "nadir npi train") {
		t.Fatalf("Read: %v", err)
	}
	recs, err := ReadLog(filepath.Join(dir, LogFile))
	if err != nil {
		t.Fatal(err)
	}
	ep := Events[NPIEpoch](recs)
	if len(ep) != len(recs) || len(ep) != 2 || ep[1].Epoch != 2 {
		t.Fatalf("events %+v", recs)
	}
	ck, err := ReadCheckpointOf(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(dir, LogFile)); ck.LogSize != st.Size() {
		t.Fatalf("checkpoint log size %d, log %d", ck.LogSize, st.Size())
	}
	checkFieldsKept(t, filepath.Join(dir, LogFile), recs)
}

func TestGoldenRuns(t *testing.T) {
	for name, want := range golden {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(goldenDir, name)
			r, err := Read(dir)
			if err != nil {
				t.Fatal(err)
			}
			if r.Summary == nil || r.Summary.Command != r.Config.Command || r.Summary.TestAccuracy <= 0 {
				t.Fatalf("summary %+v of config %+v", r.Summary, r.Config)
			}
			got := map[string]int{}
			for _, rec := range r.Records {
				if _, ok := rec.Event.(Unknown); ok {
					t.Errorf("line %d: kind %q not registered", rec.Line, rec.Event.Kind())
				}
				got[rec.Event.Kind()]++
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("events %v, want %v", got, want)
			}
			if r.Config.Command == "grow" {
				rounds := Events[Round](r.Records)
				if !reflect.DeepEqual(rounds, r.Summary.Rounds) {
					t.Errorf("round events %+v differ from the summary's %+v", rounds, r.Summary.Rounds)
				}
			}
			if _, err := ReadCheckpointOf(dir); err != nil {
				t.Error(err)
			}
			checkFieldsKept(t, filepath.Join(dir, LogFile), r.Records)
		})
	}
}

// checkFieldsKept: every field of every line is read into the event's
// struct and comes back with the same value when the event is encoded, so
// a renamed or retyped field cannot drop data of old runs silently.
func checkFieldsKept(t *testing.T, path string, recs []Record) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	for i, line := range lines {
		var raw map[string]any
		json.Unmarshal([]byte(line), &raw)
		enc, _ := json.Marshal(recs[i].Event)
		var back map[string]any
		json.Unmarshal(enc, &back)
		for k, v := range raw {
			switch k {
			case "event", "v", "time":
				continue
			}
			if !reflect.DeepEqual(back[k], v) {
				t.Errorf("%s line %d: field %q = %v is read back as %v", path, i+1, k, v, back[k])
			}
		}
	}
}
