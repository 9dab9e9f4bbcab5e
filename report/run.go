package report

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/nadir-ml/nadir/run"
)

// Run is a run directory read back: its configuration, its summary and the
// events of its log, typed.
type Run struct {
	// Dir is the run directory the run was loaded from.
	Dir string
	// Config is config.json: every flag of the run, resolved.
	Config run.Config
	// Summary is summary.json.
	Summary Summary
	// Epochs, Eigen, Splits and Steps are the "epoch", "eigen", "split"
	// and "grow" events of log.jsonl, in log order.
	Epochs []Epoch
	Eigen  []Eigen
	Splits []Split
	Steps  []Step

	// Coexplore is summary.json of a co-exploration run (nadir coexplore),
	// whose Summary holds only the command; nil for other runs.
	Coexplore *run.CoexploreSummary
	// Episodes are a co-exploration run's "episode" events, one per child.
	Episodes []run.Episode
	// Modes are the modes of a co-exploration run's summary, in the order
	// the run searched them.
	Modes []string
	// rawConfig is a co-exploration run's config.json, which has a schema
	// of its own.
	rawConfig json.RawMessage
}

// The report reads the schemas of package run, which owns the format.
type (
	// Summary is summary.json of a train or a grow run.
	Summary = run.Summary
	// Round is one row of a grow run's table.
	Round = run.Round
	// Epoch is an "epoch" event.
	Epoch = run.Epoch
	// Eigen is an "eigen" event.
	Eigen = run.Eigen
	// Split is a "split" event.
	Split = run.Split
	// Step is a "grow" event: one round's growth step as a whole.
	Step = run.GrowStep
)

// Load reads the run directory dir: config.json, summary.json and
// log.jsonl. A missing or corrupt file is an error that names it; events of
// kinds the report does not plot are skipped.
func Load(dir string) (*Run, error) {
	rr, err := run.Read(dir)
	if err != nil {
		return nil, err
	}
	sumPath := filepath.Join(dir, run.SummaryFile)
	if rr.Summary == nil {
		return nil, fmt.Errorf("%s: missing; the run has not finished (`nadir resume %s`, or `nadir coexplore --resume %s` for a co-exploration run, completes it)", sumPath, dir, dir)
	}
	r := &Run{Dir: dir, Config: rr.Config, Summary: *rr.Summary}
	switch rr.Summary.Command {
	case "train", "grow":
		r.Epochs, r.Eigen = run.Events[Epoch](rr.Records), run.Events[Eigen](rr.Records)
		r.Splits, r.Steps = run.Events[Split](rr.Records), run.Events[Step](rr.Records)
	case "coexplore":
		if err := loadCoexplore(r, rr); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%s: unknown command %q (want \"train\", \"grow\" or \"coexplore\")", sumPath, rr.Summary.Command)
	}
	return r, nil
}

// Method names what made the run: the growth method of a grow run
// ("fast", "s2d", "scratch", ...), "train" or "coexplore".
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
