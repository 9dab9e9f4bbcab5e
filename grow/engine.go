package grow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/nadir-ml/nadir/cost"
	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
	"github.com/nadir-ml/nadir/option"
	"github.com/nadir-ml/nadir/run"
	"github.com/nadir-ml/nadir/train"
)

// Config is the growth engine's part of config.json.
type Config struct {
	Method         string  `json:"method"`
	Rounds         int     `json:"rounds"`
	EpochsPerRound int     `json:"epochs_per_round"`
	SeedEpochs     int     `json:"seed_epochs"`
	FinalEpochs    int     `json:"final_epochs"` // extra fine-tuning after the last growth step
	GrowRatio      float64 `json:"grow_ratio"`
	// GrowAuto replaces GrowRatio by a per-round cost target derived from
	// the budget (it needs one): growth step r of R, from a net of cost C
	// under budget B, may add up to C·(B/C)^(1/(R−r+1)) − C, so the cost
	// grows by the same factor every round and the last step ends at the
	// budget. Both selections use it (ratio: the best splits in score order
	// up to the target, knapsack: the target as its cost limit).
	GrowAuto bool    `json:"grow_auto,omitempty"`
	Eps      float64 `json:"eps"`
	// EpsRel, when positive, replaces Eps: each split's step is EpsRel
	// times the norm of the split neuron's incoming weights (and bias), so
	// the off-springs differ by the same fraction of θ whatever its scale
	// (after BatchNorm only that fraction matters).
	EpsRel float64 `json:"eps_rel,omitempty"`
	// ResetOptim clears the optimiser state (momentum, moments) after
	// every growth step, as the reference code does by restarting SGD;
	// otherwise a split neuron keeps its state and its off-springs start
	// from zero.
	ResetOptim bool `json:"reset_optim,omitempty"`
	// LRSpan is what the learning-rate schedule spans: "round" (default:
	// it restarts after every growth step) or "run" (one schedule over all
	// the run's epochs, as a network trained from scratch gets).
	LRSpan string `json:"lr_span,omitempty"`
	// OutJitter shares split neurons' outgoing weights unevenly between
	// the two copies (split.Scheme.OutJitter); 0: evenly.
	OutJitter float64 `json:"out_jitter,omitempty"`
	// SplitParam is how a split shares the outgoing weight between its
	// off-springs: Outgoing (empty: the default) or Balanced.
	SplitParam SplitParam `json:"split_param,omitempty"`
	// Perturb, when positive, is shrink-and-perturb after every growth
	// step (Ash & Adams 2020): each filter θ of a layer that a BatchNorm
	// follows becomes Shrink·θ + Perturb·rms(θ)·z, z standard normal from
	// the run's seed and the round. It breaks the symmetry split copies
	// keep.
	Perturb float64 `json:"perturb,omitempty"`
	// Shrink is the factor of shrink-and-perturb (0: 1, no shrinking).
	Shrink float64 `json:"shrink,omitempty"`
	// Reinit restarts the grown architecture from a fresh initialisation
	// (drawn from the run's seed; optimiser state and BatchNorm statistics
	// cleared) once growth has ended, for the epochs that are left: growth
	// then only chooses the widths.
	Reinit bool `json:"reinit,omitempty"`
	// RankAtStep ranks scored candidates by their predicted loss change at
	// the step each would be applied with, (ε²/2)·Score, instead of by Score
	// alone. The two orders differ only with EpsRel, where ε is a fraction
	// of the unit's weight norm: after a BatchNorm the loss does not depend
	// on a filter's scale, so λ_min scales as 1/‖θ‖² and ranking by it
	// alone favours the layers whose weights happen to be small.
	RankAtStep bool `json:"rank_at_step,omitempty"`
	// RankMeasured ranks scored candidates by their loss change measured
	// at the step each would be applied with, on the statistics batches
	// the applied splits are measured on (MeasureBatches), instead of by
	// their second-order prediction: each candidate is applied, measured
	// and undone, and its Score becomes 2·ΔL/ε², the λ that would predict
	// the measured change. With RankAtStep the Score is then scaled as
	// that option scales λ. Methods whose edits act jointly are not probed.
	RankMeasured bool `json:"rank_measured,omitempty"`
	// RankHeldout scores each neuron by the curvature of its split
	// direction on held-out statistics, v_minᵀ S' v_min, where S' is the
	// splitting matrix on the SplitBatches mini-batches that follow the
	// statistics batches in the round's order, instead of by λ_min itself.
	// λ_min is the smallest eigenvalue of a matrix estimated from a sample,
	// so it is biased low (the solver picks the direction where the
	// sample's noise is most negative), and more so the more coordinates a
	// neuron has; the held-out quotient is an unbiased estimate of the
	// curvature along the chosen direction.
	RankHeldout bool `json:"rank_heldout,omitempty"`
	// LayerFloor, when positive, makes every growable layer add at least
	// LayerFloor × its share of uniform growth each round before the rule
	// chooses the rest: round(LayerFloor·(g−1)·width) units, its best
	// candidates, where g is the round's uniform width factor (1+GrowRatio,
	// or with GrowAuto √(target/cost), as the cost of a conv layer grows with
	// the product of two widths). 1 makes every layer grow at least as a
	// uniformly scaled network would; the rule then adds nothing.
	LayerFloor float64 `json:"layer_floor,omitempty"`
	// GrowthFraction, in (0, 1), makes every epoch before the last growth
	// step (the seed's and the rounds') pass over that fraction of the
	// training set, a different part in each phase: consecutive slices of
	// one permutation drawn from the run's seed. The epochs after the last
	// growth step use all of it. Growth then costs that fraction of its
	// epochs; with Reinit the statistics need only rank the units, which a
	// part of the data does nearly as well. 0 or 1: all the data.
	GrowthFraction float64 `json:"growth_fraction,omitempty"`
	// LineageCap bounds the splits per lineage per round (0: none).
	LineageCap    int       `json:"lineage_cap,omitempty"`
	AllowPositive bool      `json:"allow_positive"`
	MaxWidth      int       `json:"max_width"`
	Select        Selection `json:"select"` // empty: the method's own rule
	Cost          string    `json:"cost"`
	Budget        string    `json:"budget,omitempty"`
	SplitBatches  int       `json:"split_batches"`
	// MeasureBatches is how many of the statistics batches (the first
	// ones) each applied split's loss change is measured on (the logged
	// `measured`, a diagnostic: selection does not use it); at least
	// SplitBatches measures on all of them. 0: the default.
	MeasureBatches int `json:"measure_batches,omitempty"`
	// LanczosSample is the fraction of the statistics examples the
	// splitting methods' batched Lanczos iterates on before each found
	// direction's exact Rayleigh quotient is taken over all of them (see
	// split.SolverOptions.Sample); 1 iterates on all. 0: the default.
	LanczosSample float64 `json:"lanczos_sample,omitempty"`
	// LanczosTol is the splitting methods' batched Lanczos tolerance
	// (relative residual) for a λ_min of at least a tenth of the spectral
	// scale in magnitude; one nearer zero converges to min(LanczosTol,
	// 1e-3). Solves stop on λ_min alone (λ_max is then an estimate) for
	// s2d and fast. 0: the default.
	LanczosTol float64 `json:"lanczos_tol,omitempty"`
	// ExactGrowth undoes the growth step's approximations: statistics in
	// float64 coefficients and the per-neuron forming order, Lanczos on
	// every statistics row converging both ends of each spectrum to 1e-4
	// without a cap on products, losses measured on every statistics batch
	// (MeasureBatches = SplitBatches, LanczosSample = 1, LanczosTol = 1e-4,
	// whatever they were set to).
	ExactGrowth    bool    `json:"exact_growth,omitempty"`
	Solver         string  `json:"solver"`
	RayleighEpochs int     `json:"rayleigh_epochs"`
	SignedC        float64 `json:"signed_c"`
	From           string  `json:"from,omitempty"` // scratch / prune: the grown run to match
	// NetworkSlimming makes prune network slimming: the wide network trains
	// with an L1 penalty SlimLambda·Σ|γ| on its BatchNorm scales, then the
	// channels of smallest |γ| are pruned globally down to the budget.
	NetworkSlimming bool    `json:"network_slimming,omitempty"`
	SlimLambda      float64 `json:"slim_lambda,omitempty"`
	// Firefly (grow/firefly): new-neuron candidates per layer (0: scaled
	// with width), candidate training mini-batches, depth candidates.
	Candidates     int  `json:"candidates,omitempty"`
	CandidateSteps int  `json:"candidate_steps,omitempty"`
	Deeper         bool `json:"deeper,omitempty"`
	MaxNewLayers   int  `json:"max_new_layers,omitempty"`
}

// RoundRecord is one row of the growth table (round 0 is the seed net):
// the "round" event, whose schema package run owns.
type RoundRecord = run.Round

// State is the engine's part of a checkpoint.
type State struct {
	Round   int           `json:"round"`
	Phase   Phase         `json:"phase"`
	History []RoundRecord `json:"history"`
	Done    bool          `json:"done"`
	Pending *RoundRecord  `json:"pending,omitempty"` // growth part of the round being trained
	// Lineage[layer][unit] is the seed unit each unit descends from by
	// splitting (fresh units start their own), for Config.LineageCap.
	Lineage map[int][]int `json:"lineage,omitempty"`
}

// Engine runs rounds of {train, statistics, select, split}.
type Engine struct {
	Cfg     Config
	Method  Method
	Session *train.Session
	Trainer *train.Trainer
	Data    train.Datasets
	Cost    cost.Model
	Budget  *cost.Budget
	budgetM cost.Model
	State   State
	// OnRound is called after each round's record is final (for the CLI table).
	OnRound func(RoundRecord)
	// Hooks receive progress of the growth phases.
	Hooks []train.Hook
	// PruneWidths, with a nil Method, makes the growth step the
	// magnitude-pruning baseline: prune every growable layer to these widths.
	PruneWidths []int
	// Prune, when set (with a nil Method), is the growth step instead:
	// network slimming's global pruning (SlimTo) uses it.
	Prune func(net *nn.Net) error

	prepared bool
	// slice is 1 + the part of the training set the trainer holds (see
	// Config.GrowthFraction); 0: all of it.
	slice int
}

// Prepare validates the configuration (Cfg.Validate, filling defaults)
// and checks it against the network; it sets up what the engine was not
// given: the method's selection rule when Cfg.Select is empty, the cost
// model from Cfg.Cost, the budget from Cfg.Budget. It fails on an
// impossible budget or a network with nothing to grow. Run calls it when
// it has not been called.
func (e *Engine) Prepare() error {
	if e.prepared {
		return nil
	}
	if e.Session == nil || e.Trainer == nil || e.Trainer.Net == nil {
		return errors.New("grow: the engine needs a Session and a Trainer with a network")
	}
	if e.Data.Train == nil || e.Data.Test == nil {
		return errors.New("grow: the engine needs training and test data")
	}
	if err := e.Cfg.Validate(); err != nil {
		return err
	}
	if err := e.preparePrune(); err != nil {
		return err
	}
	if e.Method == nil && e.PruneWidths == nil && e.Prune == nil && e.Cfg.Method != MethodScratch {
		return option.Errorf("grow.method", e.Cfg.Method, "no Method (or PruneWidths or Prune for the prune baseline) given to the engine")
	}
	if e.Cfg.Select == "" {
		e.Cfg.Select = Ratio
		if e.Method != nil {
			e.Cfg.Select = Selection(e.Method.DefaultSelect())
		}
	}
	if err := Selections.Check("grow.select", e.Cfg.Select); err != nil {
		return err
	}
	if len(e.Trainer.Net.Growable()) == 0 {
		return fmt.Errorf("the model has nothing splittable (no hidden layer with a consumer)")
	}
	if e.Cost == nil {
		m, err := cost.New(e.Cfg.Cost, cost.Options{LatencyCache: filepath.Join(e.Session.Dir, "latency.json")})
		if err != nil {
			return option.Within("grow", err)
		}
		e.Cost = m
	}
	// A prune run's budget is what it prunes down to, not a limit on growth.
	if e.Budget == nil && e.Cfg.Budget != "" && e.Cfg.Method != MethodPrune {
		b, err := cost.ParseBudget(e.Cfg.Budget)
		if err != nil {
			return option.Within("grow", err)
		}
		e.Budget = &b
	}
	if e.Budget != nil {
		m, err := cost.New(e.Budget.Kind, cost.Options{LatencyCache: filepath.Join(e.Session.Dir, "latency.json")})
		if err != nil {
			return err
		}
		e.budgetM = m
		total, err := m.Total(e.Trainer.Net)
		if err != nil {
			return err
		}
		if total > e.Budget.Value {
			return option.Errorf("grow.budget", e.Budget.String(), "impossible: the seed network already costs %.6g", total)
		}
	}
	switch e.Cfg.LRSpan {
	case "", "round":
	case "run":
		if _, ok := e.Trainer.Sched.(runSpan); !ok {
			epochs := e.Cfg.SeedEpochs + e.Cfg.Rounds*e.Cfg.EpochsPerRound + e.Cfg.FinalEpochs
			e.Trainer.Sched = runSpan{inner: e.Trainer.Sched, t: e.Trainer, epochs: epochs}
		}
	default:
		return LRSpans.Check("grow.lr_span", e.Cfg.LRSpan)
	}
	e.prepared = true
	return nil
}

// runSpan stretches a schedule over the whole run: the trainer asks for
// the rate at a step of the current phase, and runSpan answers with the
// rate at that step of the run (phases start at Pos.PhaseStart epochs).
type runSpan struct {
	inner  optim.Schedule
	t      *train.Trainer
	epochs int
}

func (r runSpan) LR(step, total int) float64 {
	pe := r.t.Pos.PhaseEpochs
	if pe <= 0 || r.epochs <= 0 {
		return r.inner.LR(step, total)
	}
	steps := total / pe
	return r.inner.LR(r.t.Pos.PhaseStart*steps+step, r.epochs*steps)
}

func (e *Engine) extra() []byte {
	b, _ := json.Marshal(e.State)
	return b
}

func (e *Engine) save(name string) error {
	return e.Session.SaveCheckpoint(e.Trainer, e.extra(), name)
}

// Widths lists the units of each growable layer.
func Widths(net *nn.Net) []int {
	var w []int
	for _, li := range net.Growable() {
		w = append(w, net.Layers[li].(nn.Producer).Units())
	}
	return w
}

// Run executes (or continues) the rounds and returns the history.
func (e *Engine) Run(ctx context.Context) ([]RoundRecord, error) {
	if err := e.Prepare(); err != nil {
		return nil, err
	}
	t := e.Trainer
	t.Save = func() error { return e.save("") }
	if len(e.State.History) == 0 && e.State.Phase == "" {
		e.State = State{Round: 0, Phase: PhaseTrain, Pending: &RoundRecord{Round: 0}}
		t.BeginPhase(e.Cfg.SeedEpochs)
		if err := e.save(""); err != nil {
			return nil, err
		}
	}
	for !e.State.Done {
		if err := ctx.Err(); err != nil {
			return e.State.History, err
		}
		switch e.State.Phase {
		case PhaseTrain:
			start := time.Now()
			e.phaseData()
			stats, err := t.RunPhase(ctx)
			if err != nil {
				return e.State.History, err
			}
			rec := *e.State.Pending
			rec.TrainSeconds = time.Since(start).Seconds()
			if len(stats) > 0 {
				rec.EpochSeconds = rec.TrainSeconds / float64(len(stats))
				rec.TrainLoss = stats[len(stats)-1].TrainLoss
			} else if t.Pos.PhaseEpochs > 0 {
				// Resumed after the phase's last epoch: its loss is in the log.
				if rec.TrainLoss, err = e.lastTrainLoss(); err != nil {
					return e.State.History, err
				}
			}
			var last *train.EpochStats
			if len(stats) > 0 && t.Test == e.Data.Test && (t.Cfg.EvalBatch == 0 || t.Cfg.EvalBatch == evalBatch) {
				last = &stats[len(stats)-1]
			}
			if err := e.finishRecord(&rec, last); err != nil {
				return e.State.History, err
			}
			e.State.History = append(e.State.History, rec)
			e.State.Pending = nil
			e.State.Phase = PhaseGrow
			if e.State.Round >= e.Cfg.Rounds || e.budgetSpent() {
				e.State.Done = true
			}
			if err := e.save(fmt.Sprintf("round-%d.ckpt", e.State.Round)); err != nil {
				return e.State.History, err
			}
			if e.OnRound != nil {
				e.OnRound(rec)
			}
		case PhaseGrow:
			rec, err := e.growStep(ctx)
			if err != nil {
				return e.State.History, err
			}
			e.State.Round++
			rec.Round = e.State.Round
			e.State.Pending = &rec
			e.State.Phase = PhaseTrain
			epochs := e.Cfg.EpochsPerRound
			if e.State.Round == e.Cfg.Rounds {
				epochs += e.Cfg.FinalEpochs
			} else if e.budgetSpent() {
				// The budget ended growth early: the rounds left become
				// fine-tuning, so every run of a configuration trains for
				// the same number of epochs.
				epochs = (e.Cfg.Rounds-e.State.Round+1)*e.Cfg.EpochsPerRound + e.Cfg.FinalEpochs
			}
			if e.Cfg.ResetOptim {
				resetOptimizer(t)
			}
			if e.Cfg.Perturb > 0 || (e.Cfg.Shrink > 0 && e.Cfg.Shrink != 1) {
				ShrinkPerturb(t.Net, e.Cfg.Shrink, e.Cfg.Perturb, rand.New(rand.NewPCG(t.Cfg.Seed^0x5b7e, uint64(e.State.Round))))
			}
			if e.Cfg.Reinit && (e.State.Round == e.Cfg.Rounds || e.budgetSpent()) {
				if err := Reinit(t.Net, rand.New(rand.NewPCG(t.Cfg.Seed^0x7e1, uint64(e.State.Round)))); err != nil {
					return e.State.History, err
				}
				resetOptimizer(t)
			}
			t.BeginPhase(epochs)
			if err := e.save(""); err != nil {
				return e.State.History, err
			}
		default:
			return e.State.History, fmt.Errorf("checkpoint: %v", Phases.Check("growth phase", e.State.Phase))
		}
	}
	return e.State.History, nil
}

// phaseData gives the trainer the examples of the phase about to train:
// with a GrowthFraction, a phase before the last growth step (State.Round
// of them have ended) passes over slice State.Round of one permutation of
// the training set, wrapping around; the phases after it over all of it.
func (e *Engine) phaseData() {
	f, t := e.Cfg.GrowthFraction, e.Trainer
	slice := 0
	if f > 0 && f < 1 && e.State.Round < e.Cfg.Rounds && !e.budgetSpent() {
		slice = 1 + e.State.Round
	}
	if slice == e.slice && (slice != 0 || t.Train == e.Data.Train) {
		return
	}
	e.slice = slice
	if slice == 0 {
		t.SetTrain(e.Data.Train)
		return
	}
	n := e.Data.Train.Len()
	m := max(1, int(math.Ceil(f*float64(n))))
	perm := rand.New(rand.NewPCG(t.Cfg.Seed^0x6a7d, 0)).Perm(n)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = perm[((slice-1)*m+i)%n]
	}
	t.SetTrain(e.Data.Train.Subset(idx))
}

// lastTrainLoss is the training loss of the last epoch in the event log:
// what the round records when a run killed after its last epoch resumes
// with no epoch left to train.
func (e *Engine) lastTrainLoss() (float64, error) {
	if err := e.Session.Log.Sync(); err != nil {
		return 0, err
	}
	recs, err := run.ReadLog(filepath.Join(e.Session.Dir, run.LogFile))
	if err != nil {
		return 0, err
	}
	if ep := run.Events[run.Epoch](recs); len(ep) > 0 {
		return ep[len(ep)-1].TrainLoss, nil
	}
	return 0, nil
}

// roundTarget is the cost a GrowAuto growth step may grow a net of cost
// total to, with left growth steps (this one included) to reach budget:
// the geometric step total·(budget/total)^(1/left), so that every round
// multiplies the cost by the same factor (a ratio rule's constant growth,
// with the factor fitted to the budget) and the last one is the budget.
func roundTarget(total, budget float64, left int) float64 {
	if left <= 1 || total <= 0 || budget <= total {
		return budget
	}
	return min(budget, total*math.Pow(budget/total, 1/float64(left)))
}

func (e *Engine) budgetSpent() bool {
	if e.Budget == nil {
		return false
	}
	total, err := e.budgetM.Total(e.Trainer.Net)
	if err != nil {
		return true
	}
	// No unit of any layer fits in what is left.
	left := e.Budget.Value - total
	for _, li := range e.Trainer.Net.Growable() {
		if c, err := e.budgetM.Neuron(e.Trainer.Net, li); err == nil && c <= left {
			return false
		}
	}
	return true
}

// evalBatch is the batch of the round records' evaluation: the trainer's
// default, so that a round can reuse its last epoch's test metrics.
const evalBatch = 500

// finishRecord completes a round's record and logs it. last, when not nil,
// is the round's last epoch, whose test metrics are those of the network
// as it stands (same data, same batch): evaluating again would repeat them.
func (e *Engine) finishRecord(rec *RoundRecord, last *train.EpochStats) error {
	net := e.Trainer.Net
	if last != nil {
		rec.TestLoss, rec.TestAccuracy = last.TestLoss, last.TestAccuracy
	} else {
		m := train.Evaluate(net, e.Data.Test, evalBatch)
		rec.TestLoss, rec.TestAccuracy = m.Loss, m.Accuracy
	}
	rec.Widths = Widths(net)
	rec.Params = net.NumParams()
	rec.MACs = net.MACs()
	c, err := e.Cost.Total(net)
	if err != nil {
		return err
	}
	rec.Cost = c
	return e.Session.Log.Append(*rec)
}

// StatsBatches returns the round's statistics batcher and steps: the
// first SplitBatches mini-batches of a shuffle fixed by (seed, round).
func StatsBatches(d *data.Dataset, batch, n int, seed uint64, round int) (*data.Batcher, []int) {
	b := data.NewBatcher(d, batch)
	b.Epoch(rand.New(rand.NewPCG(seed^0x5717, uint64(round))))
	n = min(n, b.Steps())
	steps := make([]int, n)
	for i := range steps {
		steps[i] = i
	}
	return b, steps
}

// growStep runs statistics, selection and surgery for the next round.
func (e *Engine) growStep(ctx context.Context) (RoundRecord, error) {
	start := time.Now()
	net := e.Trainer.Net
	round := e.State.Round + 1
	if e.Method == nil {
		switch {
		case e.Prune != nil:
			if err := e.Prune(net); err != nil {
				return RoundRecord{}, err
			}
		case e.PruneWidths != nil:
			if err := PruneTo(net, e.PruneWidths); err != nil {
				return RoundRecord{}, err
			}
		default:
			return RoundRecord{}, fmt.Errorf("no growth method")
		}
		rec := RoundRecord{GrowSeconds: time.Since(start).Seconds()}
		return rec, e.Session.Log.Append(run.Prune{Round: round, Widths: Widths(net)})
	}
	for _, h := range e.Hooks {
		h.PhaseStart(fmt.Sprintf("round %d: statistics", round), 1)
	}
	nb := e.Cfg.SplitBatches
	if e.Cfg.RankHeldout {
		nb *= 2
	}
	b, steps := StatsBatches(e.Data.Train, e.Trainer.Cfg.Batch, nb, e.Trainer.Cfg.Seed, round)
	var heldout []int
	if e.Cfg.RankHeldout {
		n := (len(steps) + 1) / 2
		steps, heldout = steps[:n], steps[n:]
	}
	env := &Env{Net: net, Stats: b, Steps: steps, Heldout: heldout, Cost: e.Cost, Seed: e.Trainer.Cfg.Seed, Round: round,
		Rand: rand.New(rand.NewPCG(e.Trainer.Cfg.Seed^0x6e0, uint64(round))), Layers: net.Growable(),
		Train: e.Data.Train, Batch: e.Trainer.Cfg.Batch, Hooks: e.Hooks}
	cands, err := e.Method.Propose(ctx, env)
	if err != nil {
		return RoundRecord{}, err
	}
	statSeconds := time.Since(start).Seconds()
	if ev, ok := e.Method.(Evidence); ok {
		for _, s := range ev.LastStats() {
			if err := e.Session.Log.Append(run.Eigen{Round: round, Layer: s.Layer, Neuron: s.Neuron,
				LambdaMin: s.LambdaMin, LambdaMax: s.LambdaMax}); err != nil {
				return RoundRecord{}, err
			}
		}
	}
	lim := Limits{Ratio: e.Cfg.GrowRatio, AllowPositive: e.Cfg.AllowPositive, MaxWidth: map[int]int{}, Widths: map[int]int{},
		LineageCap: e.Cfg.LineageCap, Lineage: e.lineage(net)}
	unitCost := map[int]float64{}
	for _, li := range env.Layers {
		lim.Widths[li] = net.Layers[li].(nn.Producer).Units()
		if e.Cfg.MaxWidth > 0 {
			lim.MaxWidth[li] = e.Cfg.MaxWidth
		}
		c, err := e.Cost.Neuron(net, li)
		if err != nil {
			return RoundRecord{}, err
		}
		unitCost[li] = c
	}
	var target float64 // the cost this round may grow to (GrowAuto)
	if e.Budget != nil {
		total, err := e.budgetM.Total(net)
		if err != nil {
			return RoundRecord{}, err
		}
		target = e.Budget.Value
		if e.Cfg.GrowAuto {
			target = roundTarget(total, e.Budget.Value, e.Cfg.Rounds-round+1)
		}
		lim.Remaining = e.Budget.Value - total
		lim.BudgetCost = map[int]float64{}
		for _, li := range env.Layers {
			c, err := e.budgetM.Neuron(net, li)
			if err != nil {
				return RoundRecord{}, err
			}
			lim.BudgetCost[li] = c
		}
		if e.Cfg.GrowAuto {
			lim.RoundCost = roundTarget(total, e.Budget.Value, e.Cfg.Rounds-round+1) - total
		}
		if e.Cfg.LayerFloor > 0 && e.Cfg.GrowAuto && total > 0 {
			lim.Floor = floors(lim.Widths, e.Cfg.LayerFloor, math.Sqrt(target/total))
		}
	}
	if e.Cfg.LayerFloor > 0 && lim.Floor == nil {
		lim.Floor = floors(lim.Widths, e.Cfg.LayerFloor, 1+e.Cfg.GrowRatio)
	}
	for i := range cands {
		if cands[i].Cost <= 0 {
			cands[i].Cost = unitCost[cands[i].Layer] * float64(cands[i].Added)
		}
	}
	mo, ok := e.Method.(interface{ MeasureOnce() bool })
	once := ok && mo.MeasureOnce()
	losses := NewSplitLosses(net, b, steps[:min(len(steps), e.Cfg.MeasureBatches)])
	ranked := cands
	if e.Cfg.RankMeasured && !once {
		if ranked, err = e.probeCands(net, losses, cands, round); err != nil {
			return RoundRecord{}, err
		}
	}
	ranked = e.rankCands(net, ranked)
	chosen, err := e.selectFitted(net, cands, ranked, lim, unitCost, target, !once)
	if err != nil {
		return RoundRecord{}, err
	}
	for _, h := range e.Hooks {
		h.PhaseStart(fmt.Sprintf("round %d: split", round), len(chosen))
	}
	first := len(net.Layers)
	if len(chosen) > 0 {
		first = cands[chosen[0]].Layer
	}
	before := losses.Loss(first)
	// A method whose edits act jointly (MeasureOnce) gets the loss measured
	// once after all its edits instead of after each one (once).
	start0 := before
	rec := RoundRecord{}
	for k, ci := range chosen {
		c := cands[ci]
		eps := e.Cfg.Step(net, c.Layer, c.Unit)
		if e.Budget != nil {
			// Costs were priced before this round's edits; units added to a
			// neighbouring layer since then change a unit's price (its
			// fan-in or fan-out), so check the exact price now.
			total, err1 := e.budgetM.Total(net)
			unit, err2 := e.budgetM.Neuron(net, c.Layer)
			if err1 != nil || err2 != nil || total+unit*float64(c.Added) > target {
				continue
			}
		}
		costBefore, _ := e.Cost.Total(net)
		if err := c.Apply(net, eps); err != nil {
			return RoundRecord{}, fmt.Errorf("applying %s to layer %d unit %d: %w", c.Kind, c.Layer, c.Unit, err)
		}
		after := math.NaN()
		switch {
		case !once:
			after = losses.Loss(c.Layer)
		case k == len(chosen)-1:
			// Joint edits may have inserted layers: measure the whole net.
			after = losses.Loss(0)
		}
		costAfter, _ := e.Cost.Total(net)
		ev := run.Split{Round: round, Layer: c.Layer, Neuron: c.Unit, Scheme: c.Kind,
			LambdaMin: c.LambdaMin, LambdaMax: c.LambdaMax, Eps: eps, Added: c.Added,
			CostDelta: costAfter - costBefore, Joint: once}
		if !once {
			ev.Measured = after - before
		} else if !math.IsNaN(after) {
			all := after - start0
			ev.MeasuredAll = &all
		}
		if c.Predict != nil {
			p := c.Predict(eps)
			ev.Predicted = &p
		} else if !c.Unscored {
			p := eps * eps / 2 * c.Score
			ev.Predicted = &p
		}
		if err := e.Session.Log.Append(ev); err != nil {
			return RoundRecord{}, err
		}
		e.recordLineage(net, c)
		before = after
		rec.Splits++
		rec.Added += c.Added
		for _, h := range e.Hooks {
			h.StepDone(k+1, 0)
		}
	}
	for _, h := range e.Hooks {
		h.PhaseEnd()
	}
	rec.GrowSeconds = time.Since(start).Seconds()
	slog.Debug("growth step", "round", round, "candidates", len(cands), "chosen", len(chosen),
		"stats_seconds", statSeconds, "seconds", rec.GrowSeconds)
	return rec, e.Session.Log.Append(run.GrowStep{Round: round, Candidates: len(cands), Selected: len(chosen),
		Splits: rec.Splits, Added: rec.Added, StatsSeconds: statSeconds, Seconds: rec.GrowSeconds})
}

// lineage returns each growable layer's unit lineages, starting every
// unit of a layer whose width no longer matches (a seed, or after a prune)
// as its own lineage.
func (e *Engine) lineage(net *nn.Net) map[int][]int {
	if e.State.Lineage == nil {
		e.State.Lineage = map[int][]int{}
	}
	for _, li := range net.Growable() {
		n := net.Layers[li].(nn.Producer).Units()
		if len(e.State.Lineage[li]) != n {
			ids := make([]int, n)
			for u := range ids {
				ids[u] = u
			}
			e.State.Lineage[li] = ids
		}
	}
	return e.State.Lineage
}

// recordLineage extends the lineages after candidate c added its units at
// the end of its layer: split off-springs inherit the split unit's
// lineage, fresh units start new ones.
func (e *Engine) recordLineage(net *nn.Net, c Candidate) {
	lin := e.State.Lineage[c.Layer]
	n := net.Layers[c.Layer].(nn.Producer).Units()
	for len(lin) < n {
		id := len(lin) + 1<<20 // fresh lineage, distinct from any seed unit
		if c.Kind != "new-neuron" && c.Unit < len(lin) {
			id = lin[c.Unit]
		}
		lin = append(lin, id)
	}
	e.State.Lineage[c.Layer] = lin
}

// selectFitted runs the selection rule and returns the chosen candidates
// in the order they are applied: from the last layer backwards (and,
// within a layer, in unit order), so that a split of a layer's inputs also
// halves and duplicates the displacement coordinates of that layer's
// freshly split neurons.
//
// The rule prices every unit at the widths before the round, but a unit's
// cost grows with its neighbours' widths (its fan-in and fan-out), so a
// selection can overshoot the round's target; applied in this order, the
// picks the budget check then drops are always the earliest layers'. With
// fit (edits that add units, priced as the apply loop prices them) the
// selection is therefore replayed on a copy of the architecture and, while
// picks would be dropped, redone with the round's cost reduced by theirs.
func (e *Engine) selectFitted(net *nn.Net, cands, ranked []Candidate, lim Limits, unitCost map[int]float64, target float64, fit bool) ([]int, error) {
	// pick selects with the round's cost reduced by r and reports the cost
	// of the picks the budget check would drop.
	pick := func(r float64) ([]int, float64, error) {
		l := lim
		if l.RoundCost > 0 {
			l.RoundCost = max(l.RoundCost-r, 0)
		}
		l.Remaining = max(l.Remaining-r, 0)
		var chosen []int
		if e.Cfg.Select == Knapsack {
			var err error
			if chosen, err = SelectKnapsack(ranked, l, unitCost); err != nil {
				return nil, 0, err
			}
		} else {
			chosen = SelectRatio(ranked, l)
		}
		sort.Slice(chosen, func(a, b int) bool {
			ca, cb := cands[chosen[a]], cands[chosen[b]]
			if ca.Layer != cb.Layer {
				return ca.Layer > cb.Layer
			}
			return ca.Unit < cb.Unit
		})
		if !fit || e.Budget == nil {
			return chosen, 0, nil
		}
		over, err := e.overshoot(net, cands, chosen, target)
		return chosen, over, err
	}
	chosen, over, err := pick(0)
	if err != nil || over == 0 {
		return chosen, err
	}
	// The smallest reduction that drops nothing: grow it by the overshoot
	// until nothing is dropped, then bisect between the last two.
	lo, hi := 0.0, over
	best := chosen
	for range 8 {
		c, o, err := pick(hi)
		if err != nil {
			return nil, err
		}
		if o == 0 {
			best = c
			break
		}
		lo, hi = hi, hi+o
	}
	for range 6 {
		mid := (lo + hi) / 2
		c, o, err := pick(mid)
		if err != nil {
			return nil, err
		}
		if o == 0 {
			best, hi = c, mid
		} else {
			lo = mid
		}
	}
	return best, nil
}

// overshoot replays the apply loop's budget check for chosen (in apply
// order) on a parameter-free copy of net's architecture and returns the
// budget cost of the picks it would drop.
func (e *Engine) overshoot(net *nn.Net, cands []Candidate, chosen []int, target float64) (float64, error) {
	cp, err := nn.Build(net.Spec(), nil)
	if err != nil {
		return 0, err
	}
	var over float64
	for _, ci := range chosen {
		c := cands[ci]
		total, err1 := e.budgetM.Total(cp)
		unit, err2 := e.budgetM.Neuron(cp, c.Layer)
		if err1 != nil || err2 != nil {
			return 0, errors.Join(err1, err2)
		}
		if total+unit*float64(c.Added) > target {
			over += unit * float64(c.Added)
			continue
		}
		units := make([]nn.NewUnit, c.Added)
		for i := range units {
			units[i].Like = -1
		}
		if err := cp.AddUnits(c.Layer, units); err != nil {
			return 0, err
		}
	}
	return over, nil
}

// floors is Limits.Floor for Config.LayerFloor phi and the round's uniform
// width factor g.
func floors(widths map[int]int, phi, g float64) map[int]int {
	f := make(map[int]int, len(widths))
	for li, w := range widths {
		f[li] = int(math.Round(phi * max(g-1, 0) * float64(w)))
	}
	return f
}

// probeCands returns a copy of cands whose scored candidates' Score is
// their measured loss change at their step as an effective λ, 2·ΔL/ε²
// (Config.RankMeasured). Candidates are probed from the last layer back,
// the order the prefix cache of losses serves in one pass.
func (e *Engine) probeCands(net *nn.Net, losses *SplitLosses, cands []Candidate, round int) ([]Candidate, error) {
	out := slices.Clone(cands)
	var order []int
	for i, c := range cands {
		if !c.Unscored {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return cands[order[a]].Layer > cands[order[b]].Layer })
	for _, h := range e.Hooks {
		h.PhaseStart(fmt.Sprintf("round %d: probe", round), len(order))
	}
	base, at := 0.0, -1
	for k, i := range order {
		c := cands[i]
		eps := e.Cfg.Step(net, c.Layer, c.Unit)
		if eps == 0 {
			continue
		}
		if c.Layer != at {
			base, at = losses.Loss(c.Layer), c.Layer
		}
		l, err := losses.Probe(c.Layer, func() error { return c.Apply(net, eps) })
		if err != nil {
			return nil, fmt.Errorf("probing %s of layer %d unit %d: %w", c.Kind, c.Layer, c.Unit, err)
		}
		out[i].Score = 2 * (l - base) / (eps * eps)
		for _, h := range e.Hooks {
			h.StepDone(k+1, 0)
		}
	}
	for _, h := range e.Hooks {
		h.PhaseEnd()
	}
	return out, nil
}

// rankCands returns the candidates as selection sees them: cands itself,
// or with RankAtStep a copy whose scored candidates' Score is the
// predicted loss change at their step up to a common factor, ‖θ‖²·Score
// with EpsRel (the logged prediction keeps using cands).
func (e *Engine) rankCands(net *nn.Net, cands []Candidate) []Candidate {
	if !e.Cfg.RankAtStep || e.Cfg.EpsRel <= 0 {
		return cands
	}
	out := make([]Candidate, len(cands))
	copy(out, cands)
	for i := range out {
		if out[i].Unscored {
			continue
		}
		n := UnitNorm(net, out[i].Layer, out[i].Unit)
		out[i].Score *= n * n
	}
	return out
}

// Step is the split step ε for unit u of producer layer li: EpsRel times
// the unit's weight norm when EpsRel is set, else the absolute Eps.
func (c Config) Step(net *nn.Net, li, u int) float64 {
	if c.EpsRel > 0 {
		return c.EpsRel * UnitNorm(net, li, u)
	}
	return c.Eps
}

// UnitNorm is the Euclidean norm of unit u's incoming weights and bias in
// producer layer li (the vector a split displaces).
func UnitNorm(net *nn.Net, li, u int) float64 {
	p := net.Layers[li].(nn.Producer)
	w := p.Weight()
	var ss float64
	for _, v := range w.Data[u*w.Cols : (u+1)*w.Cols] {
		ss += float64(v) * float64(v)
	}
	if b := p.BiasParam(); b != nil {
		ss += float64(b.Data[u]) * float64(b.Data[u])
	}
	return math.Sqrt(ss)
}

// ShrinkPerturb applies θ ← λθ + σ·rms(θ)·z to every filter of every
// layer that a BatchNorm follows (convolutions, depthwise filters, dense
// layers): BatchNorm normalises their scale away, so the shrink alone
// keeps the function (it raises the filters' effective learning rate) and
// the noise only turns them. Layers without a BatchNorm after them (the
// classifier) are left alone.
func ShrinkPerturb(net *nn.Net, lambda, sigma float64, r *rand.Rand) {
	if lambda <= 0 {
		lambda = 1
	}
	for i, l := range net.Layers {
		if i+1 >= len(net.Layers) {
			break
		}
		bn, ok := net.Layers[i+1].(*nn.BatchNorm)
		if !ok {
			continue
		}
		// Evaluation mode normalises with the running statistics: they
		// follow the shrink (the noise's effect on them is left to training).
		for c := range bn.RunMean {
			bn.RunMean[c] *= float32(lambda)
			bn.RunVar[c] *= float32(lambda * lambda)
		}
		for _, p := range l.Params() {
			if p.Cols < 2 {
				// A bias shrinks with its filter, so that the running mean
				// stays the mean; it gets no noise (BatchNorm subtracts it).
				for i := range p.Data {
					p.Data[i] = float32(lambda * float64(p.Data[i]))
				}
				continue
			}
			for row := 0; row < p.Rows; row++ {
				d := p.Data[row*p.Cols : (row+1)*p.Cols]
				var ss float64
				for _, v := range d {
					ss += float64(v) * float64(v)
				}
				rms := math.Sqrt(ss / float64(len(d)))
				for i, v := range d {
					d[i] = float32(lambda*float64(v) + sigma*rms*r.NormFloat64())
				}
			}
		}
	}
}

// Reinit overwrites net's parameters with a fresh initialisation of its
// architecture drawn from r (in place, so a trainer keeps its network),
// BatchNorm running statistics included: nn.Build's draw for net.Spec().
func Reinit(net *nn.Net, r *rand.Rand) error {
	fresh, err := nn.Build(net.Spec(), r)
	if err != nil {
		return err
	}
	for i, l := range net.Layers {
		src := fresh.Layers[i].Params()
		for k, p := range l.Params() {
			copy(p.Data, src[k].Data)
		}
		if bn, ok := l.(*nn.BatchNorm); ok {
			f := fresh.Layers[i].(*nn.BatchNorm)
			copy(bn.RunMean, f.RunMean)
			copy(bn.RunVar, f.RunVar)
		}
	}
	return nil
}

// resetOptimizer drops every parameter's optimiser state (and Adam's step
// count), so training after a growth step starts like a fresh optimiser.
func resetOptimizer(t *train.Trainer) {
	for _, p := range t.Net.Params() {
		p.Slots = nil
	}
	if a, ok := t.Opt.(*optim.Adam); ok {
		a.T = 0
	}
}

// MeanLoss evaluates the batch-mean cross-entropy averaged over steps.
func MeanLoss(net *nn.Net, b *data.Batcher, steps []int) float64 {
	var ce nn.SoftmaxCE
	var sum float64
	var n int
	xb, yb := b.Batch(steps[0], nil, nil)
	for _, s := range steps {
		xb, yb = b.Batch(s, xb, yb)
		sum += ce.Forward(net.Infer(xb), yb) * float64(len(yb))
		n += len(yb)
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}
