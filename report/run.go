package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/nadir-ml/nadir/grow"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/nadir-ml/nadir/train"
)

// Run is a run directory read back: its configuration, its summary and the
// events of its log, typed.
type Run struct {
	// Dir is the run directory the run was loaded from.
	Dir string
	// Config is config.json: every flag of the run, resolved.
	Config train.RunConfig
	// Summary is summary.json.
	Summary Summary
	// Epochs, Eigen, Splits and Steps are the "epoch", "eigen", "split"
	// and "grow" events of log.jsonl, in log order.
	Epochs []Epoch
	Eigen  []Eigen
	Splits []Split
	Steps  []Step
}

// Summary is summary.json of a train or a grow run; the fields of the other
// command are zero.
type Summary struct {
	Command      string  `json:"command"` // "train" or "grow"
	Method       string  `json:"method,omitempty"`
	TestAccuracy float64 `json:"test_accuracy"`
	TestLoss     float64 `json:"test_loss"`
	Params       int     `json:"params"`
	MACs         int64   `json:"macs"`
	Seconds      float64 `json:"seconds"`
	// Widths are the final widths of the growable layers (grow runs).
	Widths []int `json:"widths,omitempty"`
	// Rounds is the growth table, round 0 being the seed network (grow runs).
	Rounds []Round `json:"rounds,omitempty"`
	// Confusion is the test confusion matrix, [true][predicted] (train runs).
	Confusion [][]int `json:"confusion,omitempty"`
}

// Round is one row of a grow run's table: the network after the round's
// growth step and fine-tuning (the engine's record, read back from
// summary.json).
type Round = grow.RoundRecord

// Epoch is an "epoch" event: metrics at the end of one training epoch.
// Validation fields are zero when the run holds out no validation split.
type Epoch struct {
	Epoch         int     `json:"epoch"`
	TrainLoss     float64 `json:"train_loss"`
	TrainAccuracy float64 `json:"train_accuracy"`
	ValLoss       float64 `json:"val_loss"`
	ValAccuracy   float64 `json:"val_accuracy"`
	TestLoss      float64 `json:"test_loss"`
	TestAccuracy  float64 `json:"test_accuracy"`
	LR            float64 `json:"lr"`
	Seconds       float64 `json:"seconds"`
	Params        int     `json:"params"`
}

// Eigen is an "eigen" event: the extreme eigenvalues of one neuron's
// splitting matrix in one round. Layer is the layer's index in the network.
type Eigen struct {
	Round     int     `json:"round"`
	Layer     int     `json:"layer"`
	Neuron    int     `json:"neuron"`
	LambdaMin float64 `json:"lambda_min"`
	LambdaMax float64 `json:"lambda_max"`
}

// Split is a "split" event: one neuron split (or one new neuron, for the
// baselines) with the loss change it was predicted to make and the one
// measured on the statistics batches.
type Split struct {
	Round     int     `json:"round"`
	Layer     int     `json:"layer"`
	Neuron    int     `json:"neuron"`
	Scheme    string  `json:"scheme"`
	LambdaMin float64 `json:"lambda_min"`
	LambdaMax float64 `json:"lambda_max"`
	Eps       float64 `json:"eps"`
	Added     int     `json:"added"`
	CostDelta float64 `json:"cost_delta"`
	Measured  float64 `json:"measured"`
	// Predicted is nil for baselines, which make no prediction.
	Predicted *float64 `json:"predicted,omitempty"`
}

// Step is a "grow" event: one round's growth step as a whole.
type Step struct {
	Round        int     `json:"round"`
	Candidates   int     `json:"candidates"`
	Splits       int     `json:"splits"`
	Added        int     `json:"added"`
	StatsSeconds float64 `json:"stats_seconds"`
	Seconds      float64 `json:"seconds"`
}

// Load reads the run directory dir: config.json, summary.json and
// log.jsonl. A missing or corrupt file is an error that names it; events of
// kinds the report does not plot are skipped.
func Load(dir string) (*Run, error) {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: no such run directory", dir)
		}
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	r := &Run{Dir: dir}
	cfgPath := filepath.Join(dir, "config.json")
	if err := readJSON(cfgPath, &r.Config); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: not a run directory (no config.json)", dir)
		}
		return nil, err
	}
	sumPath := filepath.Join(dir, "summary.json")
	if err := readJSON(sumPath, &r.Summary); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: missing; the run has not finished (`nadir resume %s` completes it)", sumPath, dir)
		}
		return nil, err
	}
	if r.Summary.Command != "train" && r.Summary.Command != "grow" {
		return nil, fmt.Errorf("%s: unknown command %q (want \"train\" or \"grow\")", sumPath, r.Summary.Command)
	}
	if err := r.readLog(filepath.Join(dir, "log.jsonl")); err != nil {
		return nil, err
	}
	return r, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// readLog sorts the log's events into the run's typed slices. Each event is
// decoded through JSON again so that a field of the wrong type is reported
// with the line it is on.
func (r *Run) readLog(path string) error {
	events, err := train.ReadEvents(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: missing", path)
		}
		return err
	}
	for i, e := range events {
		kind, _ := e["event"].(string)
		var dst any
		switch kind {
		case "epoch":
			r.Epochs = append(r.Epochs, Epoch{})
			dst = &r.Epochs[len(r.Epochs)-1]
		case "eigen":
			r.Eigen = append(r.Eigen, Eigen{})
			dst = &r.Eigen[len(r.Eigen)-1]
		case "split":
			r.Splits = append(r.Splits, Split{})
			dst = &r.Splits[len(r.Splits)-1]
		case "grow":
			r.Steps = append(r.Steps, Step{})
			dst = &r.Steps[len(r.Steps)-1]
		case "":
			return fmt.Errorf("%s: line %d: no \"event\" field", path, i+1)
		default:
			continue
		}
		b, err := json.Marshal(e)
		if err == nil {
			err = json.Unmarshal(b, dst)
		}
		if err != nil {
			return fmt.Errorf("%s: line %d (%s event): %v", path, i+1, kind, err)
		}
	}
	return nil
}

// Method names what made the run: the growth method of a grow run
// ("fast", "s2d", "scratch", ...) or "train".
func (r *Run) Method() string {
	if r.Summary.Command == "grow" && r.Summary.Method != "" {
		return r.Summary.Method
	}
	return r.Summary.Command
}

// Name is the run directory's base name.
func (r *Run) Name() string {
	if r.Dir == "" {
		return ""
	}
	return filepath.Base(filepath.Clean(r.Dir))
}

// labels names runs by method, adding the directory's name where two runs
// share a method, so that every legend entry is distinct.
func labels(runs []*Run) []string {
	count := map[string]int{}
	for _, r := range runs {
		count[r.Method()]++
	}
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.Method()
		if count[r.Method()] > 1 && r.Name() != "" {
			out[i] += " (" + r.Name() + ")"
		}
	}
	return out
}
