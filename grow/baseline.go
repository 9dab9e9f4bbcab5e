package grow

import (
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"path/filepath"

	"github.com/nadir-ml/nadir/cost"
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
	// Final is the grown run's final architecture.
	Final nn.NetSpec
	// PruneWidths are the grown run's final widths, what prune cuts to.
	PruneWidths []int
}

// PlanBaseline matches c (Method scratch or prune) to the grown run in the
// run directory c.From: it sets c's epochs so the baseline trains as long
// as the grown run did — scratch all at once; prune half before pruning
// and half after, as one round — and returns the network to start from.
// Network slimming without a grown run (c.From empty) prunes the run's own
// model to c.Budget: PlanBaseline then splits c's epochs the same way and
// returns nil (build the configured model).
func PlanBaseline(c *Config) (*Baseline, error) {
	if c.Method != MethodScratch && c.Method != MethodPrune {
		return nil, option.Errorf("grow.method", c.Method, "not a baseline (want %s or %s)", MethodScratch, MethodPrune)
	}
	if c.Method == MethodPrune && c.From == "" && c.NetworkSlimming {
		total := c.SeedEpochs
		c.SeedEpochs, c.EpochsPerRound, c.Rounds, c.FinalEpochs = total/2, total-total/2, 1, 0
		return nil, nil
	}
	final, g, err := grownRun(c.From)
	if err != nil {
		return nil, err
	}
	net, err := nn.Build(final, nil)
	if err != nil {
		return nil, option.Errorf("grow.from", c.From, "%v", err)
	}
	b := &Baseline{Spec: final, Final: final, PruneWidths: Widths(net)}
	total := int(math.Round(g.Passes()))
	c.SeedEpochs, c.Rounds, c.FinalEpochs = total, 0, 0
	if c.Method == MethodPrune {
		c.SeedEpochs, c.EpochsPerRound, c.Rounds = total/2, total-total/2, 1
		if b.Spec, err = Widened(final, 2); err != nil {
			return nil, option.Errorf("grow.from", c.From, "%v", err)
		}
	}
	return b, nil
}

// grownRun reads the final architecture and the growth configuration of
// the finished grow run in dir.
func grownRun(dir string) (nn.NetSpec, Config, error) {
	var g Config
	from := func(format string, args ...any) error { return option.Errorf("grow.from", dir, format, args...) }
	rc, err := run.ReadConfig(dir)
	if err != nil {
		return nn.NetSpec{}, g, from("%v", err)
	}
	if rc.Command != "grow" || json.Unmarshal(rc.Grow, &g) != nil {
		return nn.NetSpec{}, g, from("not a growth run")
	}
	if err := run.ReadSummary(dir, new(run.Summary)); errors.Is(err, fs.ErrNotExist) {
		return nn.NetSpec{}, g, from("the run has not finished (no %s)", run.SummaryFile)
	} else if err != nil {
		return nn.NetSpec{}, g, from("%v", err)
	}
	ck, err := train.LoadRunCheckpoint(dir)
	if err != nil {
		return nn.NetSpec{}, g, from("%v", err)
	}
	net, _, err := ck.Restore()
	if err != nil {
		return nn.NetSpec{}, g, from("%s: %v", filepath.Join(dir, run.CkptDir), err)
	}
	return net.Spec(), g, nil
}

// preparePrune sets up the prune baseline's growth step when the engine
// was not given one: magnitude pruning to the grown run's widths, or
// network slimming (an L1 penalty on the BatchNorm scales while the wide
// network trains in round 0, then a global |γ| prune down to Cfg.Budget or
// to the grown run's MACs).
func (e *Engine) preparePrune() error {
	c := &e.Cfg
	if c.Method != MethodPrune || e.Prune != nil || (e.PruneWidths != nil && !c.NetworkSlimming) {
		return nil
	}
	var final nn.NetSpec
	if c.From != "" {
		var err error
		if final, _, err = grownRun(c.From); err != nil {
			return err
		}
	}
	if !c.NetworkSlimming {
		net, err := nn.Build(final, nil)
		if err != nil {
			return option.Errorf("grow.from", c.From, "%v", err)
		}
		e.PruneWidths = Widths(net)
		return nil
	}
	var target cost.Budget
	if c.Budget != "" {
		b, err := cost.ParseBudget(c.Budget)
		if err != nil {
			return option.Within("grow", err)
		}
		target = b
	} else {
		net, err := nn.Build(final, nil)
		if err != nil {
			return option.Errorf("grow.from", c.From, "%v", err)
		}
		target = cost.Budget{Kind: "macs", Value: float64(net.MACs())}
	}
	m, err := cost.New(target.Kind, cost.Options{LatencyCache: filepath.Join(e.Session.Dir, "latency.json")})
	if err != nil {
		return err
	}
	e.Trainer.Opt = &SparseBN{Optimizer: e.Trainer.Opt, Net: e.Trainer.Net, Lambda: c.SlimLambda,
		Active: func() bool { return e.State.Round == 0 }}
	e.Prune = func(net *nn.Net) error {
		_, err := SlimTo(net, m, target.Value)
		return err
	}
	return nil
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
