package grow

import (
	"math"
	"strconv"
	"sync"

	"github.com/nadir-ml/nadir/cost"
	"github.com/nadir-ml/nadir/option"
)

// Selection is the rule that picks a round's candidates.
type Selection string

const (
	// Ratio is the S2D rule: the best candidates up to a fraction
	// (GrowRatio) of the current units.
	Ratio Selection = "ratio"
	// Knapsack is the energy-aware rule: the LP knapsack of the
	// predicted gains under a cost budget of GrowRatio × the current cost.
	Knapsack Selection = "knapsack"
)

// Selections lists the valid selection rules.
var Selections = option.Choice[Selection]{Ratio, Knapsack}

// LRSpans lists what a growth run's learning-rate schedule may span
// (Config.LRSpan): "round" restarts it after every growth step, "run"
// stretches one schedule over all the run's epochs.
var LRSpans = option.Choice[string]{"round", "run"}

// SplitParam is how a split shares its parent's outgoing weight between
// the off-springs (Config.SplitParam).
type SplitParam string

const (
	// Outgoing puts each off-spring's share w_j on its outgoing weights
	// only (METHODS.md §1): incoming weights and BatchNorm γ, β are copied.
	Outgoing SplitParam = "outgoing"
	// Balanced scales every parameter group along an off-spring's path by
	// √w_j (incoming weights, γ and β, depthwise filter, outgoing weights):
	// the same function for positively homogeneous activations, and every
	// parameter keeps its parent's gradient-to-value ratio. Splits with a
	// negative share or through tanh-like activations keep Outgoing.
	Balanced SplitParam = "balanced"
)

// SplitParams lists the valid split parametrisations.
var SplitParams = option.Choice[SplitParam]{Outgoing, Balanced}

// Phase is where the engine stands within a round (checkpointed).
type Phase string

const (
	PhaseTrain Phase = "train" // the round's training is pending or in progress
	PhaseGrow  Phase = "grow"  // the next growth step is pending
)

// Phases lists the valid phases.
var Phases = option.Choice[Phase]{PhaseTrain, PhaseGrow}

// The baselines the engine runs itself, matched to a grown run (Config.From).
const (
	MethodScratch = "scratch" // the grown run's final architecture, trained from scratch
	MethodPrune   = "prune"   // twice as wide, trained, magnitude-pruned to the grown widths, fine-tuned
)

// NewMethodFunc makes a method for a validated configuration (its Solver,
// RayleighEpochs, SignedC, ...).
type NewMethodFunc func(Config) (Method, error)

var (
	methodMu    sync.RWMutex
	methodNames option.Choice[string]
	methodNew   = map[string]NewMethodFunc{}
)

// RegisterMethod makes a growth method known by name, to Config.Validate,
// NewMethod and the CLI's --method. Packages of methods register theirs in
// init (grow/split: s2d, fast, signed, random-split, new-neuron); the
// engine's own baselines are registered here. Registering a name twice
// panics.
func RegisterMethod(name string, f NewMethodFunc) {
	methodMu.Lock()
	defer methodMu.Unlock()
	if _, dup := methodNew[name]; dup {
		panic("grow: method " + name + " registered twice")
	}
	methodNames = append(methodNames, name)
	methodNew[name] = f
}

// Methods lists the registered method names, in registration order, the
// engine's own baselines last.
func Methods() option.Choice[string] {
	methodMu.RLock()
	defer methodMu.RUnlock()
	var out, base option.Choice[string]
	for _, n := range methodNames {
		if methodNew[n] == nil {
			base = append(base, n)
		} else {
			out = append(out, n)
		}
	}
	return append(out, base...)
}

func init() {
	RegisterMethod(MethodScratch, nil)
	RegisterMethod(MethodPrune, nil)
}

// NewMethod makes the configured method; it is nil for the baselines the
// engine runs itself (scratch and prune).
func NewMethod(c Config) (Method, error) {
	if _, err := Methods().Parse("method", c.Method); err != nil {
		return nil, option.Within("grow", err)
	}
	methodMu.RLock()
	f := methodNew[c.Method]
	methodMu.RUnlock()
	if f == nil {
		return nil, nil
	}
	m, err := f(c)
	return m, option.Within("grow", err)
}

// ParseGrowRatio sets c's growth rule from a --grow-ratio value: a
// fraction of the current units (GrowRatio) or "auto" (GrowAuto).
func ParseGrowRatio(v string, c *Config) error {
	if v == "auto" {
		c.GrowAuto = true
		return nil
	}
	r, err := strconv.ParseFloat(v, 64)
	if err != nil || r <= 0 || r > 10 || math.IsNaN(r) {
		return option.Errorf("grow.grow_ratio", v, "must be a number in (0, 10] or auto")
	}
	c.GrowRatio, c.GrowAuto = r, false
	return nil
}

// ExactLanczosTol is the batched Lanczos tolerance of ExactGrowth.
const ExactLanczosTol = 1e-4

// DefaultConfig is the configuration the CLI starts from.
func DefaultConfig() Config {
	return Config{Method: "fast", Rounds: 4, EpochsPerRound: 1, GrowRatio: 0.3, Eps: 0.01, EpsRel: 0.1, LRSpan: "round",
		Cost: "energy", SplitBatches: 10, MeasureBatches: 1, LanczosSample: 1, LanczosTol: 1e-2, Solver: "lanczos", RayleighEpochs: 10,
		SignedC: 3, SlimLambda: 1e-4}
}

// Validate fills the fields whose zero value means "the default" (GrowRatio,
// Cost, SplitBatches, MeasureBatches, LanczosSample, Solver,
// RayleighEpochs, SignedC: those of
// DefaultConfig) and checks the rest. Errors are *option.Error naming the
// field as config.json does ("grow.rounds"). Select may stay empty: the
// engine then takes the method's own rule.
func (c *Config) Validate() error {
	d := DefaultConfig()
	if c.GrowRatio == 0 {
		c.GrowRatio = d.GrowRatio
	}
	if c.Cost == "" {
		c.Cost = d.Cost
	}
	if c.SplitBatches == 0 {
		c.SplitBatches = d.SplitBatches
	}
	if c.Solver == "" {
		c.Solver = d.Solver
	}
	if c.ExactGrowth {
		c.LanczosSample, c.MeasureBatches, c.LanczosTol = 1, c.SplitBatches, ExactLanczosTol
	}
	if c.LanczosTol == 0 {
		c.LanczosTol = d.LanczosTol
	}
	if c.MeasureBatches == 0 {
		c.MeasureBatches = d.MeasureBatches
	}
	if c.LanczosSample == 0 {
		c.LanczosSample = d.LanczosSample
	}
	if c.RayleighEpochs == 0 {
		c.RayleighEpochs = d.RayleighEpochs
	}
	if c.SignedC == 0 {
		c.SignedC = d.SignedC
	}
	f := func(field string, v any, format string, args ...any) error {
		return option.Errorf("grow."+field, v, format, args...)
	}
	if _, err := Methods().Parse("method", c.Method); err != nil {
		return option.Within("grow", err)
	}
	switch {
	case c.Rounds < 0:
		return f("rounds", c.Rounds, "must be >= 0")
	case c.SeedEpochs < 0:
		return f("seed_epochs", c.SeedEpochs, "must be >= 0")
	case c.FinalEpochs < 0:
		return f("final_epochs", c.FinalEpochs, "must be >= 0")
	case c.EpochsPerRound < 0:
		return f("epochs_per_round", c.EpochsPerRound, "must be >= 0")
	case c.GrowRatio < 0 || c.GrowRatio > 10:
		return f("grow_ratio", c.GrowRatio, "must be in (0, 10]")
	case c.GrowAuto && c.Budget == "":
		return f("grow_ratio", "auto", "needs a budget: the round targets are derived from it")
	case c.Eps < 0:
		return f("eps", c.Eps, "must be >= 0")
	case c.SplitBatches < 0:
		return f("split_batches", c.SplitBatches, "must be positive")
	case c.MeasureBatches < 0:
		return f("measure_batches", c.MeasureBatches, "must be positive")
	case !(c.LanczosSample > 0 && c.LanczosSample <= 1):
		return f("lanczos_sample", c.LanczosSample, "must be in (0, 1]")
	case !(c.LanczosTol > 0 && c.LanczosTol < 1):
		return f("lanczos_tol", c.LanczosTol, "must be in (0, 1)")
	case c.MaxWidth < 0:
		return f("max_width", c.MaxWidth, "must be >= 0")
	case c.RayleighEpochs < 0:
		return f("rayleigh_epochs", c.RayleighEpochs, "must be positive")
	case c.EpsRel < 0:
		return f("eps_rel", c.EpsRel, "must be >= 0")
	case c.OutJitter < 0 || c.OutJitter > 1:
		return f("out_jitter", c.OutJitter, "must be in [0, 1]")
	case c.Perturb < 0 || c.Perturb > 1:
		return f("perturb", c.Perturb, "must be in [0, 1]")
	case c.Shrink < 0 || c.Shrink > 1:
		return f("shrink", c.Shrink, "must be in [0, 1] (0: no shrinking)")
	case c.LayerFloor < 0 || c.LayerFloor > 1:
		return f("layer_floor", c.LayerFloor, "must be in [0, 1]")
	case c.GrowthFraction < 0 || c.GrowthFraction > 1:
		return f("growth_fraction", c.GrowthFraction, "must be in [0, 1] (0: all the data)")
	case c.GrowthFraction > 0 && c.GrowthFraction < 1 && c.LRSpan == "run":
		return f("growth_fraction", c.GrowthFraction, "needs lr span round: one schedule over the run assumes epochs of one length")
	case c.LineageCap < 0:
		return f("lineage_cap", c.LineageCap, "must be >= 0")
	case c.SlimLambda < 0:
		return f("slim_lambda", c.SlimLambda, "must be >= 0")
	case c.Candidates < 0:
		return f("candidates", c.Candidates, "must be >= 0")
	case c.CandidateSteps < 0:
		return f("candidate_steps", c.CandidateSteps, "must be >= 0")
	case c.MaxNewLayers < 0:
		return f("max_new_layers", c.MaxNewLayers, "must be >= 0")
	case c.Deeper && c.Method != "firefly" && c.Method != "firefly-split":
		return f("deeper", true, "needs method firefly (the only method that proposes new layers), not %s", c.Method)
	case c.Method == MethodScratch && c.From == "", c.Method == MethodPrune && c.From == "" && !c.NetworkSlimming:
		return f("from", nil, "method %s needs the grown run whose final architecture it matches", c.Method)
	case c.Deeper && c.Method != "firefly" && c.Method != "firefly-split":
		return f("deeper", true, "needs method firefly (the one that proposes layers)")
	case c.NetworkSlimming && c.Method != MethodPrune:
		return f("network_slimming", true, "is a kind of method prune, not of %s", c.Method)
	case c.NetworkSlimming && c.From == "" && c.Budget == "":
		return f("network_slimming", true, "without a grown run to match needs a budget (what to prune down to)")
	}
	if c.LRSpan != "" {
		if err := LRSpans.Check("lr_span", c.LRSpan); err != nil {
			return option.Within("grow", err)
		}
	}
	if c.SplitParam != "" {
		if err := SplitParams.Check("split_param", c.SplitParam); err != nil {
			return option.Within("grow", err)
		}
	}
	if c.Select != "" {
		if err := Selections.Check("select", c.Select); err != nil {
			return option.Within("grow", err)
		}
	}
	if _, err := cost.New(c.Cost, cost.Options{}); err != nil {
		return option.Within("grow", err)
	}
	if c.Budget != "" {
		if _, err := cost.ParseBudget(c.Budget); err != nil {
			return option.Within("grow", err)
		}
	}
	return nil
}

// Passes is how many passes over the training set the run's schedule
// makes: its epochs, where those before the last growth step count
// GrowthFraction each. It counts the schedule as configured: a budget that
// ends growth early makes the later phases use all the data, so such a run
// makes more passes than this. A baseline matched to a grown run
// (PlanBaseline) trains this many epochs, rounded.
func (c Config) Passes() float64 {
	all := float64(c.SeedEpochs + c.Rounds*c.EpochsPerRound + c.FinalEpochs)
	f := c.GrowthFraction
	if f <= 0 || f >= 1 || c.Rounds == 0 {
		return all
	}
	part := float64(c.SeedEpochs + (c.Rounds-1)*c.EpochsPerRound)
	return all - (1-f)*part
}
