package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/nadir-ml/nadir/cost"
	"github.com/nadir-ml/nadir/grow"
	"github.com/nadir-ml/nadir/grow/split"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
	"github.com/nadir-ml/nadir/tensor"
	"github.com/nadir-ml/nadir/train"
)

func init() {
	register("grow", "grow a network by splitting steepest descent (s2d, fast, signed) or a baseline", cmdGrow)
}

var growMethods = append(append([]string(nil), split.Names...), "scratch", "prune")

func cmdGrow(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("grow", flag.ContinueOnError)
	var f runFlags
	f.register(fs, "mlp:16", 1, 0.05, "sgd")
	var g grow.Config
	fs.StringVar(&g.Method, "method", "fast", "method: "+strings.Join(growMethods, " | "))
	fs.IntVar(&g.Rounds, "rounds", 4, "growth rounds")
	fs.IntVar(&g.EpochsPerRound, "epochs-per-round", 1, "fine-tuning epochs after each growth step")
	fs.IntVar(&g.SeedEpochs, "seed-epochs", 0, "epochs to train the seed network (0: --epochs)")
	fs.IntVar(&g.FinalEpochs, "final-epochs", 0, "extra fine-tuning epochs after the last growth step")
	fs.Float64Var(&g.GrowRatio, "grow-ratio", 0.3, "units added per round as a fraction of current units (budget scale for knapsack)")
	fs.Float64Var(&g.Eps, "eps", 0.01, "absolute split step ε (directions are unit vectors); used when --eps-rel is 0 or only --eps is given")
	fs.Float64Var(&g.EpsRel, "eps-rel", 0.1, "split step as a fraction of the split neuron's incoming weight norm (0: use --eps)")
	fs.Float64Var(&g.OutJitter, "out-jitter", 0, "share a split neuron's outgoing weights unevenly, ±this fraction per weight (breaks the copies' symmetry; 0: evenly)")
	fs.StringVar(&g.LRSpan, "lr-span", "round", "what the lr schedule spans: round (restarts after each growth step) | run (one schedule over all epochs)")
	fs.IntVar(&g.LineageCap, "lineage-cap", 0, "at most N splits per lineage (units descended from one seed unit) per round (0: no cap)")
	fs.BoolVar(&g.ResetOptim, "reset-optim", false, "clear the optimiser state (momentum) after every growth step")
	fs.BoolVar(&g.AllowPositive, "allow-positive", false, "also split neurons with λ ≥ 0 (the reference code's behaviour)")
	fs.IntVar(&g.MaxWidth, "max-width", 0, "maximum units per layer (0: none)")
	fs.StringVar(&g.Select, "select", "", "selection: ratio | knapsack (default: the method's)")
	fs.StringVar(&g.Cost, "cost", "energy", "cost model for selection: params | macs | energy | latency")
	fs.StringVar(&g.Budget, "budget", "", "final budget that ends growth: macs=N | params=N | energy=N | latency=MS")
	fs.IntVar(&g.SplitBatches, "split-batches", 10, "mini-batches of splitting statistics per round (the reference uses a tenth of an epoch)")
	fs.StringVar(&g.Solver, "solver", "lanczos", "eigen-solver: lanczos | dense | rayleigh")
	fs.IntVar(&g.RayleighEpochs, "rayleigh-epochs", 10, "passes over the statistics for --solver rayleigh")
	fs.Float64Var(&g.SignedC, "signed-c", 3, "signed splitting: bound on the total absolute off-spring weight")
	fs.BoolVar(&g.NetworkSlimming, "network-slimming", false, "prune: network slimming (L1 on BatchNorm scales while the wide net trains, then global pruning of the smallest |γ| to the --from run's MACs or --budget); without --from, --model is the wide network")
	fs.Float64Var(&g.SlimLambda, "slim-lambda", 1e-4, "network slimming: L1 penalty weight on the BatchNorm scales")
	fs.StringVar(&g.From, "from", "", "scratch / prune: the grown run directory whose final architecture and epochs to match")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	epsChoice(fs, &g)
	if err := f.resolve("grow"); err != nil {
		return err
	}
	if g.SeedEpochs == 0 {
		g.SeedEpochs = f.cfg.Epochs
	}
	if err := checkGrowConfig(&g); err != nil {
		return err
	}
	var fromSpec *nn.NetSpec
	if g.Method == "prune" && g.From == "" {
		// Network slimming of --model to --budget (checked above): train
		// it for half the epochs, prune, fine-tune for the rest.
		total := g.SeedEpochs
		g.SeedEpochs, g.EpochsPerRound, g.Rounds, g.FinalEpochs = total/2, total-total/2, 1, 0
	} else if g.Method == "scratch" || g.Method == "prune" {
		spec, cfgFrom, err := finalArchitecture(g.From)
		if err != nil {
			return err
		}
		fromSpec = &spec
		total := cfgFrom.SeedEpochs + cfgFrom.Rounds*cfgFrom.EpochsPerRound + cfgFrom.FinalEpochs
		g.SeedEpochs, g.Rounds, g.FinalEpochs = total, 0, 0
		if g.Method == "prune" {
			// Train the wide network for half the epochs, prune to the
			// grown network's widths, fine-tune for the rest.
			g.SeedEpochs, g.EpochsPerRound, g.Rounds = total/2, total-total/2, 1
		}
	}
	gj, _ := json.Marshal(g)
	f.cfg.Grow = gj
	ds, err := train.LoadData(f.cfg)
	if err != nil {
		return err
	}
	var net *nn.Net
	if fromSpec != nil {
		spec := *fromSpec
		if g.Method == "prune" {
			spec, err = widened(spec, 2)
			if err != nil {
				return err
			}
		}
		net, err = nn.Build(spec, rand.New(rand.NewPCG(f.seed, 0x30de1)))
		if err != nil {
			return fmt.Errorf("--from %s: %v", g.From, err)
		}
		if got, want := ds.Train.Dim(), tensor.Numel(net.In); got != want {
			return fmt.Errorf("--from %s: network takes %d inputs, data has %d", g.From, want, got)
		}
	} else if net, err = buildModel(f.cfg, ds); err != nil {
		return err
	}
	s, err := train.CreateSession(f.out, f.cfg)
	if err != nil {
		return err
	}
	defer s.Log.Close()
	opt, _ := optim.New(f.cfg.Train.Optimizer, f.cfg.Train.WeightDecay)
	t, err := s.NewTrainer(net, opt, ds)
	if err != nil {
		return err
	}
	e, err := newEngine(s, t, ds, g, f.quiet, f.json)
	if err != nil {
		os.RemoveAll(f.out) // nothing was run: leave no half-made run directory
		return err
	}
	return runEngine(ctx, e, f.json)
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

func checkGrowConfig(g *grow.Config) error {
	ok := false
	for _, m := range growMethods {
		ok = ok || m == g.Method
	}
	switch {
	case !ok:
		return fmt.Errorf("--method %q: unknown (want %s)", g.Method, strings.Join(growMethods, ", "))
	case g.Rounds < 0:
		return fmt.Errorf("--rounds %d: must be >= 0", g.Rounds)
	case g.FinalEpochs < 0:
		return fmt.Errorf("--final-epochs %d: must be >= 0", g.FinalEpochs)
	case g.EpochsPerRound < 0:
		return fmt.Errorf("--epochs-per-round %d: must be >= 0", g.EpochsPerRound)
	case g.GrowRatio <= 0 || g.GrowRatio > 10:
		return fmt.Errorf("--grow-ratio %v: must be in (0, 10]", g.GrowRatio)
	case g.Eps < 0:
		return fmt.Errorf("--eps %v: must be >= 0", g.Eps)
	case g.LRSpan != "round" && g.LRSpan != "run":
		return fmt.Errorf("--lr-span %q: want round or run", g.LRSpan)
	case g.OutJitter < 0 || g.OutJitter > 1:
		return fmt.Errorf("--out-jitter %v: must be in [0, 1]", g.OutJitter)
	case g.LineageCap < 0:
		return fmt.Errorf("--lineage-cap %d: must be >= 0", g.LineageCap)
	case g.EpsRel < 0:
		return fmt.Errorf("--eps-rel %v: must be >= 0", g.EpsRel)
	case g.SplitBatches <= 0:
		return fmt.Errorf("--split-batches %d: must be positive", g.SplitBatches)
	case g.MaxWidth < 0:
		return fmt.Errorf("--max-width %d: must be >= 0", g.MaxWidth)
	case g.Method == "scratch" && g.From == "", g.Method == "prune" && g.From == "" && !g.NetworkSlimming:
		return fmt.Errorf("--method %s needs --from RUNDIR (a grown run whose final architecture it matches)", g.Method)
	case g.NetworkSlimming && g.Method != "prune":
		return fmt.Errorf("--network-slimming is a kind of --method prune, not of %s", g.Method)
	case g.NetworkSlimming && g.From == "" && g.Budget == "":
		return fmt.Errorf("--network-slimming without --from needs --budget (what to prune down to)")
	case g.SlimLambda < 0:
		return fmt.Errorf("--slim-lambda %v: must be >= 0", g.SlimLambda)
	}
	switch g.Select {
	case "", "ratio", "knapsack":
	default:
		return fmt.Errorf("--select %q: want ratio or knapsack", g.Select)
	}
	switch g.Solver {
	case "lanczos", "dense", "rayleigh":
	default:
		return fmt.Errorf("--solver %q: unknown (want lanczos, dense or rayleigh)", g.Solver)
	}
	if _, err := cost.New(g.Cost, cost.Options{}); err != nil {
		return fmt.Errorf("--cost: %v", err)
	}
	if g.Budget != "" {
		if _, err := cost.ParseBudget(g.Budget); err != nil {
			return fmt.Errorf("--budget: %v", err)
		}
	}
	return nil
}

func newEngine(s *train.Session, t *train.Trainer, ds train.Datasets, g grow.Config, quiet, asJSON bool) (*grow.Engine, error) {
	var m grow.Method
	var err error
	switch g.Method {
	case "scratch", "prune":
		m = nil
	default:
		m, err = split.New(g.Method, split.Options{Solver: g.Solver, RayleighEpochs: g.RayleighEpochs, C: g.SignedC, OutJitter: g.OutJitter})
		if err != nil {
			return nil, err
		}
		if g.Select == "" {
			g.Select = m.DefaultSelect()
		}
	}
	cm, err := cost.New(g.Cost, cost.Options{LatencyCache: filepath.Join(s.Dir, "latency.json")})
	if err != nil {
		return nil, err
	}
	e := &grow.Engine{Cfg: g, Method: m, Session: s, Trainer: t, Data: ds, Cost: cm}
	if g.Method == "prune" && g.NetworkSlimming {
		if err := setupSlimming(e, g); err != nil {
			return nil, err
		}
	} else if g.Method == "prune" {
		spec, _, err := finalArchitecture(g.From)
		if err != nil {
			return nil, err
		}
		target, err := nn.Build(spec, nil)
		if err != nil {
			return nil, err
		}
		e.PruneWidths = grow.Widths(target)
	}
	if g.Budget != "" && g.Method != "prune" {
		b, err := cost.ParseBudget(g.Budget)
		if err != nil {
			return nil, err
		}
		e.Budget = &b
	}
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

// setupSlimming makes the engine's prune step network slimming: the L1
// penalty on BatchNorm scales during round 0 (the wide network's training)
// and a global |γ| prune to --budget, or to the --from run's MACs.
func setupSlimming(e *grow.Engine, g grow.Config) error {
	var target cost.Budget
	if g.Budget != "" {
		b, err := cost.ParseBudget(g.Budget)
		if err != nil {
			return err
		}
		target = b
	} else {
		spec, _, err := finalArchitecture(g.From)
		if err != nil {
			return err
		}
		net, err := nn.Build(spec, nil)
		if err != nil {
			return err
		}
		target = cost.Budget{Kind: "macs", Value: float64(net.MACs())}
	}
	m, err := cost.New(target.Kind, cost.Options{LatencyCache: filepath.Join(e.Session.Dir, "latency.json")})
	if err != nil {
		return err
	}
	e.Trainer.Opt = &grow.SparseBN{Optimizer: e.Trainer.Opt, Net: e.Trainer.Net, Lambda: g.SlimLambda,
		Active: func() bool { return e.State.Round == 0 }}
	e.Prune = func(net *nn.Net) error {
		_, err := grow.SlimTo(net, m, target.Value)
		return err
	}
	return nil
}

// growSummary is summary.json of a growth run.
type growSummary struct {
	Command      string             `json:"command"`
	Method       string             `json:"method"`
	Rounds       []grow.RoundRecord `json:"rounds"`
	TestAccuracy float64            `json:"test_accuracy"`
	TestLoss     float64            `json:"test_loss"`
	Params       int                `json:"params"`
	MACs         int64              `json:"macs"`
	Widths       []int              `json:"widths"`
	Seconds      float64            `json:"seconds"`
}

func runEngine(ctx context.Context, e *grow.Engine, asJSON bool) error {
	hist, err := e.Run(ctx)
	if err != nil {
		var d *train.DivergedError
		if errors.As(err, &d) {
			return failed(err)
		}
		return err
	}
	return writeGrowSummary(e, hist, asJSON)
}

func writeGrowSummary(e *grow.Engine, hist []grow.RoundRecord, asJSON bool) error {
	last := hist[len(hist)-1]
	sum := growSummary{Command: "grow", Method: e.Cfg.Method, Rounds: hist, TestAccuracy: last.TestAccuracy,
		TestLoss: last.TestLoss, Params: last.Params, MACs: last.MACs, Widths: last.Widths}
	for _, r := range hist {
		sum.Seconds += r.GrowSeconds + r.TrainSeconds
	}
	if err := e.Session.WriteSummary(sum); err != nil {
		return err
	}
	if asJSON {
		return printJSON(sum)
	}
	fmt.Printf("final: test accuracy %.4f, params %d, MACs %d, widths %v (%.1fs); run: %s\n",
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

// finalArchitecture reads a finished growth run's final network spec.
func finalArchitecture(dir string) (nn.NetSpec, grow.Config, error) {
	var g grow.Config
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nn.NetSpec{}, g, fmt.Errorf("--from: %v", err)
	}
	var rc train.RunConfig
	if err := json.Unmarshal(b, &rc); err != nil || rc.Command != "grow" {
		return nn.NetSpec{}, g, fmt.Errorf("--from %s: not a growth run", dir)
	}
	if err := json.Unmarshal(rc.Grow, &g); err != nil {
		return nn.NetSpec{}, g, fmt.Errorf("--from %s: %v", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "summary.json")); err != nil {
		return nn.NetSpec{}, g, fmt.Errorf("--from %s: the run has not finished (no summary.json)", dir)
	}
	net, _, err := loadNet(dir)
	if err != nil {
		return nn.NetSpec{}, g, fmt.Errorf("--from: %v", err)
	}
	return net.Spec(), g, nil
}

// widened multiplies every growable layer's width by f.
func widened(spec nn.NetSpec, f int) (nn.NetSpec, error) {
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
