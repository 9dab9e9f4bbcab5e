package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"github.com/nadir-ml/nadir/cost"
	"github.com/nadir-ml/nadir/grow"
	"github.com/nadir-ml/nadir/grow/split"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
	"github.com/nadir-ml/nadir/option"
	"github.com/nadir-ml/nadir/run"
	"github.com/nadir-ml/nadir/tensor"
	"github.com/nadir-ml/nadir/train"
)

func init() {
	register("grow", "grow a network by splitting steepest descent (s2d, fast, signed) or a baseline", cmdGrow)
}

func cmdGrow(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("grow", flag.ContinueOnError)
	var f runFlags
	var g grow.Config
	growFlags(fs, &f, &g)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	epsChoice(fs, &g)
	if err := fireflyDefaults(fs, &g); err != nil {
		return err
	}
	if err := f.resolve("grow"); err != nil {
		return err
	}
	if g.SeedEpochs == 0 {
		g.SeedEpochs = f.cfg.Epochs
	}
	if err := checkGrowConfig(&g); err != nil {
		return err
	}
	var base *grow.Baseline
	if g.Method == grow.MethodScratch || g.Method == grow.MethodPrune {
		if base, err = grow.PlanBaseline(&g); err != nil {
			return err
		}
	}
	gj, _ := json.Marshal(g)
	f.cfg.Grow = gj
	ds, err := train.LoadData(f.cfg)
	if err != nil {
		return err
	}
	var net *nn.Net
	if base != nil {
		net, err = nn.Build(base.Spec, rand.New(rand.NewPCG(f.seed, 0x30de1)))
		if err != nil {
			return option.Errorf("grow.from", g.From, "%v", err)
		}
		if got, want := ds.Train.Dim(), tensor.Numel(net.In); got != want {
			return option.Errorf("grow.from", g.From, "network takes %d inputs, data has %d", want, got)
		}
	} else if net, err = buildModel(f.cfg, ds); err != nil {
		return err
	}
	if err := applyInit(net, f.init); err != nil {
		return err
	}
	s, err := createSession(f.out, f.cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := logInit(s, f.init); err != nil {
		return failed(err)
	}
	opt, _ := optim.New(f.cfg.Train.Optimizer, f.cfg.Train.WeightDecay)
	t, err := s.NewTrainer(net, opt, ds)
	if err != nil {
		return err
	}
	e, err := newEngine(s, t, ds, g, f.quiet, f.json)
	if err != nil {
		s.Close()
		os.RemoveAll(f.out) // nothing was run: leave no half-made run directory
		return err
	}
	return runEngine(ctx, e, f.json)
}

// growFlags registers grow's flags (sweep reads them to pass them through),
// with the library's defaults (grow.DefaultConfig) and lists of values.
func growFlags(fs *flag.FlagSet, f *runFlags, g *grow.Config) {
	f.register(fs, "mlp:16", 1, 0.05, "sgd")
	*g = grow.DefaultConfig()
	fs.StringVar(&g.Method, "method", g.Method, "method: "+grow.Methods().Help())
	fs.IntVar(&g.Rounds, "rounds", g.Rounds, "growth rounds")
	fs.IntVar(&g.EpochsPerRound, "epochs-per-round", g.EpochsPerRound, "fine-tuning epochs after each growth step")
	fs.IntVar(&g.SeedEpochs, "seed-epochs", 0, "epochs to train the seed network (0: --epochs)")
	fs.IntVar(&g.FinalEpochs, "final-epochs", 0, "extra fine-tuning epochs after the last growth step")
	fs.Var(growRatioFlag{g}, "grow-ratio", "units added per round as a fraction of current units (budget scale for knapsack), or auto: per-round cost targets that reach --budget after the last round")
	fs.Float64Var(&g.Eps, "eps", g.Eps, "absolute step ε of each applied edit, used when --eps-rel is 0 or only --eps is given: it scales a unit eigen-direction for s2d/fast/signed, the trained candidate for firefly (default 1 there: as trained)")
	fs.Float64Var(&g.EpsRel, "eps-rel", g.EpsRel, "split step as a fraction of the split neuron's incoming weight norm (0: use --eps; firefly ignores it unless given)")
	fs.Float64Var(&g.OutJitter, "out-jitter", 0, "share a split neuron's outgoing weights unevenly, ±this fraction per weight (breaks the copies' symmetry; 0: evenly)")
	fs.StringVar((*string)(&g.SplitParam), "split-param", string(g.SplitParam), "how a split shares the outgoing weight: "+grow.SplitParams.Help()+" (outgoing: w on the outgoing weights; balanced: √w on every parameter of each copy's path)")
	fs.Float64Var(&g.Perturb, "perturb", 0, "shrink-and-perturb after each growth step: noise of this fraction of each weight row's rms (0: none)")
	fs.Float64Var(&g.Shrink, "shrink", 0, "shrink-and-perturb: multiply weight matrices by this factor after each growth step (0: 1)")
	fs.BoolVar(&g.Reinit, "reinit", false, "once growth has ended, restart the grown architecture from a fresh initialisation for the epochs left (growth only chooses the widths)")
	fs.StringVar(&g.LRSpan, "lr-span", g.LRSpan, "what the lr schedule spans: "+grow.LRSpans.Help()+" (round: restarts after each growth step; run: one schedule over all epochs)")
	fs.Float64Var(&g.GrowthFraction, "growth-fraction", g.GrowthFraction, "the seed's and the growth rounds' epochs each pass over this fraction of the training set, a different part each phase; the epochs after the last growth step use all of it (0 or 1: all)")
	fs.BoolVar(&g.RankAtStep, "rank-at-step", g.RankAtStep, "rank splits by their predicted loss change at the step they are applied with (ε²/2·λ, ε from --eps-rel) instead of by λ alone")
	fs.BoolVar(&g.RankHeldout, "rank-heldout", g.RankHeldout, "rank splits by the curvature of their direction on held-out statistics (the next split-batches mini-batches) instead of by λ_min, which is biased low by the noise of its sample")
	fs.BoolVar(&g.RankMeasured, "rank-measured", g.RankMeasured, "rank splits by their loss change measured at their step (each applied, measured on the statistics batches and undone) instead of by the second-order prediction")
	fs.Float64Var(&g.LayerFloor, "layer-floor", g.LayerFloor, "every layer first adds this fraction (0–1) of its uniform share of each round's growth, its best splits, before the rest is chosen by score (0: off)")
	fs.IntVar(&g.LineageCap, "lineage-cap", 0, "at most N splits per lineage (units descended from one seed unit) per round (0: no cap)")
	fs.BoolVar(&g.ResetOptim, "reset-optim", false, "clear the optimiser state (momentum) after every growth step")
	fs.BoolVar(&g.AllowPositive, "allow-positive", false, "also split neurons with λ ≥ 0 (the reference code's behaviour)")
	fs.IntVar(&g.MaxWidth, "max-width", 0, "maximum units per layer (0: none)")
	fs.StringVar((*string)(&g.Select), "select", "", "selection: "+grow.Selections.Help()+" (default: the method's)")
	fs.StringVar(&g.Cost, "cost", g.Cost, "cost model for selection: "+strings.Join(cost.Kinds(), " | "))
	fs.StringVar(&g.Budget, "budget", "", "final budget that ends growth: macs=N | params=N | energy=N | latency=MS")
	fs.IntVar(&g.SplitBatches, "split-batches", g.SplitBatches, "mini-batches of splitting statistics per round (the reference uses a tenth of an epoch)")
	fs.IntVar(&g.MeasureBatches, "measure-batches", g.MeasureBatches, "statistics batches each split's logged loss change (measured) is measured on")
	fs.Float64Var(&g.LanczosSample, "lanczos-sample", g.LanczosSample, "fraction of the statistics examples the Lanczos iterations use before the found directions' exact Rayleigh quotients (1: all)")
	fs.Float64Var(&g.LanczosTol, "lanczos-tol", g.LanczosTol, "splitting methods' Lanczos tolerance (relative residual) for a λ_min of at least a tenth of the spectral scale; one nearer zero converges to min(this, 1e-3) (--exact-growth: 1e-4, both spectrum ends)")
	fs.BoolVar(&g.ExactGrowth, "exact-growth", false, "no growth-step approximations: float64 statistics, Lanczos on all statistics rows with both spectrum ends converged to 1e-4 and no cap on products, losses measured on all statistics batches (main's logged values)")
	fs.StringVar(&g.Solver, "solver", g.Solver, "eigen-solver: "+split.Solvers.Help())
	fs.IntVar(&g.RayleighEpochs, "rayleigh-epochs", g.RayleighEpochs, "passes over the statistics for --solver rayleigh")
	fs.Float64Var(&g.SignedC, "signed-c", g.SignedC, "signed splitting: bound on the total absolute off-spring weight")
	fs.BoolVar(&g.NetworkSlimming, "network-slimming", false, "prune: network slimming (L1 on BatchNorm scales while the wide net trains, then global pruning of the smallest |γ| to the --from run's MACs or --budget); without --from, --model is the wide network")
	fs.Float64Var(&g.SlimLambda, "slim-lambda", g.SlimLambda, "network slimming: L1 penalty weight on the BatchNorm scales")
	fs.StringVar(&g.From, "from", "", "scratch / prune: the grown run directory whose final architecture and epochs to match")
	registerFireflyFlags(fs, g)
}

// growRatioFlag is --grow-ratio: a fraction or "auto" (grow.ParseGrowRatio).
// String gives the value back, so that sweep can pass it through.
type growRatioFlag struct{ g *grow.Config }

func (f growRatioFlag) String() string {
	switch {
	case f.g == nil:
		return ""
	case f.g.GrowAuto:
		return "auto"
	}
	return strconv.FormatFloat(f.g.GrowRatio, 'g', -1, 64)
}

func (f growRatioFlag) Set(v string) error {
	err := grow.ParseGrowRatio(v, f.g)
	if oe := (*option.Error)(nil); errors.As(err, &oe) {
		return errors.New(oe.Reason) // the flag package names the flag and value
	}
	return err
}

// epsChoice makes an explicit --eps mean an absolute step: the relative
// default applies only when --eps is not given or --eps-rel is.
func epsChoice(fs *flag.FlagSet, g *grow.Config) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["eps"] && !set["eps-rel"] {
		g.EpsRel = 0
	}
}

// checkGrowConfig validates g (filling its defaults) and its method's
// options; errors name fields, which the CLI shows as flags.
func checkGrowConfig(g *grow.Config) error {
	if err := g.Validate(); err != nil {
		return asFlags(err)
	}
	_, err := grow.NewMethod(*g)
	return asFlags(err)
}

func newEngine(s *train.Session, t *train.Trainer, ds train.Datasets, g grow.Config, quiet, asJSON bool) (*grow.Engine, error) {
	m, err := grow.NewMethod(g)
	if err != nil {
		return nil, err
	}
	e := &grow.Engine{Cfg: g, Method: m, Session: s, Trainer: t, Data: ds}
	t.Hooks = train.Hooks(train.NewProgress(quiet))
	e.Hooks = t.Hooks
	if err := e.Prepare(); err != nil {
		return nil, err
	}
	if !asJSON {
		fmt.Printf("%5s  %-18s %9s %11s %10s %9s %7s %8s\n", "round", "widths", "params", "MACs", "train loss", "test acc", "grow s", "train s")
		e.OnRound = func(r grow.RoundRecord) {
			fmt.Printf("%5d  %-18s %9d %11d %10.4f %9.4f %7.1f %8.1f\n", r.Round, fmt.Sprint(r.Widths), r.Params, r.MACs,
				r.TrainLoss, r.TestAccuracy, r.GrowSeconds, r.TrainSeconds)
		}
	}
	return e, nil
}

func runEngine(ctx context.Context, e *grow.Engine, asJSON bool) error {
	hist, err := e.Run(ctx)
	if err != nil {
		if ie := interrupted(ctx, err, e.Session.Dir); ie != nil {
			return ie
		}
		var d *train.DivergedError
		if errors.As(err, &d) {
			return failed(err)
		}
		return err
	}
	return writeGrowSummary(e, hist, asJSON, stdout(ctx))
}

func writeGrowSummary(e *grow.Engine, hist []grow.RoundRecord, asJSON bool, w io.Writer) error {
	last := hist[len(hist)-1]
	sum := run.Summary{Command: "grow", Method: e.Cfg.Method, Rounds: hist, TestAccuracy: last.TestAccuracy,
		TestLoss: last.TestLoss, Params: last.Params, MACs: last.MACs, Widths: last.Widths}
	for _, r := range hist {
		sum.Seconds += r.GrowSeconds + r.TrainSeconds
	}
	if err := e.Session.WriteSummary(sum); err != nil {
		return err
	}
	if asJSON {
		return fprintJSON(w, sum)
	}
	fmt.Fprintf(w, "final: test accuracy %.4f, params %d, MACs %d, widths %v (%.1fs); run: %s\n",
		sum.TestAccuracy, sum.Params, sum.MACs, sum.Widths, sum.Seconds, e.Session.Dir)
	return nil
}

func resumeGrow(ctx context.Context, s *train.Session, ck *train.Checkpoint, asJSON, quiet bool) error {
	var g grow.Config
	if err := json.Unmarshal(s.Cfg.Grow, &g); err != nil {
		return fmt.Errorf("%s/config.json: grow section: %v", s.Dir, err)
	}
	t, ds, err := restoreTrainer(s, ck)
	if err != nil {
		return err
	}
	e, err := newEngine(s, t, ds, g, quiet, asJSON)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(ck.Extra, &e.State); err != nil {
		return fmt.Errorf("%s: checkpoint growth state: %v", s.Dir, err)
	}
	return runEngine(ctx, e, asJSON)
}
