package grow

import (
	"encoding/json"
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/option"
	"github.com/nadir-ml/nadir/run"
	"github.com/nadir-ml/nadir/train"
)

// Baseline is the start of a scratch or prune run matched to a grown run.
type Baseline struct {
	// Spec is the network to build: the grown run's final architecture
	// (scratch), or that architecture twice as wide (prune).
	Spec nn.NetSpec
	// PruneWidths are the grown run's final widths, what prune cuts to.
	PruneWidths []int
}

// PlanBaseline matches c (Method scratch or prune) to the grown run in the
// run directory c.From: it sets c's epochs so the baseline trains as long
// as the grown run did — scratch all at once; prune half before pruning
// and half after, as one round — and returns the network to start from.
func PlanBaseline(c *Config) (*Baseline, error) {
	if c.Method != MethodScratch && c.Method != MethodPrune {
		return nil, option.Errorf("grow.method", c.Method, "not a baseline (want %s or %s)", MethodScratch, MethodPrune)
	}
	from := func(format string, args ...any) error { return option.Errorf("grow.from", c.From, format, args...) }
	rc, err := run.ReadConfig(c.From)
	if err != nil {
		return nil, from("%v", err)
	}
	var g Config
	if rc.Command != "grow" || json.Unmarshal(rc.Grow, &g) != nil {
		return nil, from("not a growth run")
	}
	if err := run.ReadSummary(c.From, new(run.Summary)); errors.Is(err, fs.ErrNotExist) {
		return nil, from("the run has not finished (no %s)", run.SummaryFile)
	} else if err != nil {
		return nil, from("%v", err)
	}
	ck, err := train.LoadRunCheckpoint(c.From)
	if err != nil {
		return nil, from("%v", err)
	}
	net, _, err := ck.Restore()
	if err != nil {
		return nil, from("%s: %v", filepath.Join(c.From, run.CkptDir), err)
	}
	b := &Baseline{Spec: net.Spec(), PruneWidths: Widths(net)}
	total := g.SeedEpochs + g.Rounds*g.EpochsPerRound + g.FinalEpochs
	c.SeedEpochs, c.Rounds, c.FinalEpochs = total, 0, 0
	if c.Method == MethodPrune {
		c.SeedEpochs, c.EpochsPerRound, c.Rounds = total/2, total-total/2, 1
		if b.Spec, err = Widened(b.Spec, 2); err != nil {
			return nil, from("%v", err)
		}
	}
	return b, nil
}

// Widened multiplies every growable layer's width of spec by f.
func Widened(spec nn.NetSpec, f int) (nn.NetSpec, error) {
	net, err := nn.Build(spec, nil)
	if err != nil {
		return spec, err
	}
	for _, li := range net.Growable() {
		n := net.Layers[li].(nn.Producer).Units()
		if err := net.AddUnits(li, make([]nn.NewUnit, (f-1)*n)); err != nil {
			return spec, err
		}
	}
	return net.Spec(), nil
}
