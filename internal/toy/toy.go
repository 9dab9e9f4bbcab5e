package toy

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync"

	"github.com/nadir-ml/nadir/grow/split"
)

// Methods lists the growth methods of the toy experiment in plotting order.
var Methods = []string{"split", "random-split", "new-neuron", "gradient", "signed"}

// ToyConfig configures RunToy. DefaultToyConfig holds the defaults the
// experiment's claims were checked with.
type ToyConfig struct {
	Act    string // rbf or tanh (any smooth activation ParseActivation accepts)
	Target string // sin: y = sin(3x) + x/2; rbf-mix: a mixture of 4 RBF bumps drawn from Seed
	Seed   uint64
	Points int // training points, x uniform on [−3, 3]

	Optimizer  string  // gd or adam, full batch
	LR         float64 // learning rate
	StageSteps int     // optimiser steps before each growth and after the last
	MaxWidth   int     // growth stops at MaxWidth neurons
	GrowBy     int     // neurons added per growth (0: double the width)

	Eps        float64 // split step ε (directions are unit vectors); the largest tried with LineSearch
	LineSearch bool    // take the best of ε, ε/2, …, ε/16 at each growth
	NewScale   float64 // new-neuron: standard deviation of the fresh incoming weights
	SignedC    float64 // signed: bound c on Σ|w_j|
	InitScale  float64 // standard deviation of the one-neuron seed net's weights
}

// DefaultToyConfig returns the defaults of `nadir experiment toy`.
func DefaultToyConfig() ToyConfig {
	return ToyConfig{
		Act: "rbf", Target: "sin", Seed: 1, Points: 1000,
		Optimizer: "gd", LR: 0.1, StageSteps: 800, MaxWidth: 8, GrowBy: 1,
		Eps: 0.5, NewScale: 0.1, SignedC: 3, InitScale: 1,
	}
}

func (c ToyConfig) validate() error {
	switch {
	case c.Points < 2:
		return fmt.Errorf("points %d: need at least 2", c.Points)
	case c.StageSteps < 1:
		return fmt.Errorf("stage steps %d: need at least 1", c.StageSteps)
	case c.MaxWidth < 2:
		return fmt.Errorf("max width %d: need at least 2 (the seed net has one neuron)", c.MaxWidth)
	case c.GrowBy < 0:
		return fmt.Errorf("grow-by %d: must be ≥ 0 (0 doubles the width)", c.GrowBy)
	case !(c.Eps > 0) || math.IsInf(c.Eps, 0):
		return fmt.Errorf("eps %v: must be positive and finite", c.Eps)
	case !(c.NewScale >= 0) || math.IsInf(c.NewScale, 0):
		return fmt.Errorf("new-neuron scale %v: must be non-negative and finite", c.NewScale)
	case !(c.SignedC >= 1) || math.IsInf(c.SignedC, 0):
		return fmt.Errorf("signed c %v: must be ≥ 1 and finite", c.SignedC)
	case !(c.InitScale > 0) || math.IsInf(c.InitScale, 0):
		return fmt.Errorf("init scale %v: must be positive and finite", c.InitScale)
	}
	if _, err := ParseActivation(c.Act); err != nil {
		return err
	}
	_, err := NewOptimizer(c.Optimizer, c.LR)
	return err
}

// Growth records one growth step of one method.
type Growth struct {
	Step       int     `json:"step"`        // optimiser steps taken before it
	Width      int     `json:"width"`       // width after it
	Split      int     `json:"split"`       // neurons split (or added, for new-neuron)
	LossBefore float64 `json:"loss_before"` // loss just before the growth
	LossAfter  float64 `json:"loss_after"`  // loss just after, before any training
	// Predicted is the second-order prediction (ε²/2)·Σ Gain of the loss
	// change for split and signed (0 for the others).
	Predicted float64 `json:"predicted_change"`
	// Eps is the split step taken (0 for new-neuron).
	Eps float64 `json:"eps,omitempty"`
	// MinLambda is the most negative λ_min over the neurons before the
	// growth (every method's own network).
	MinLambda float64 `json:"min_lambda_min"`
}

// MethodRun is one method's trajectory.
type MethodRun struct {
	Method    string    `json:"method"`
	Loss      []float64 `json:"-"` // loss before every step, then the final loss (TotalSteps+1 values)
	Growths   []Growth  `json:"growths"`
	FinalLoss float64   `json:"final_loss"`
	Width     int       `json:"final_width"`
}

// ToyResult is the outcome of RunToy.
type ToyResult struct {
	Config     ToyConfig   `json:"config"`
	TotalSteps int         `json:"total_steps"`
	Runs       []MethodRun `json:"runs"`
}

// Run returns the named method's run, or nil.
func (r *ToyResult) Run(method string) *MethodRun {
	for i := range r.Runs {
		if r.Runs[i].Method == method {
			return &r.Runs[i]
		}
	}
	return nil
}

// Thin returns every every-th entry of the loss curve, and the final loss.
func (m *MethodRun) Thin(every int) []float64 {
	every = max(every, 1)
	var out []float64
	for s := 0; s < len(m.Loss); s += every {
		out = append(out, m.Loss[s])
	}
	if (len(m.Loss)-1)%every != 0 {
		out = append(out, m.Loss[len(m.Loss)-1])
	}
	return out
}

// FinalLoss maps each method to its final training loss.
func (r *ToyResult) FinalLoss() map[string]float64 {
	m := map[string]float64{}
	for _, run := range r.Runs {
		m[run.Method] = run.FinalLoss
	}
	return m
}

// SplitBest reports whether split's final loss is below both random-split's
// and new-neuron's (the claim the toy experiment checks).
func (r *ToyResult) SplitBest() bool {
	f := r.FinalLoss()
	return f["split"] < f["random-split"] && f["split"] < f["new-neuron"]
}

// ToyData returns the 1-D regression set of the toy experiment: Points
// inputs uniform on [−3, 3] and the target named by cfg.Target.
func ToyData(cfg ToyConfig) (*Data, error) {
	r := rand.New(rand.NewPCG(cfg.Seed, 0x746f79))
	var target func(x float64) float64
	switch cfg.Target {
	case "sin":
		target = func(x float64) float64 { return math.Sin(3*x) + x/2 }
	case "rbf-mix":
		var a, w, b [4]float64
		for k := range a {
			a[k] = r.NormFloat64()
			w[k] = 1 + 2*r.Float64()
			b[k] = w[k] * (6*r.Float64() - 3)
		}
		target = func(x float64) float64 {
			var s float64
			for k := range a {
				z := w[k]*x - b[k]
				s += a[k] * math.Exp(-z*z/2)
			}
			return s
		}
	default:
		return nil, fmt.Errorf("unknown target %q (want sin or rbf-mix)", cfg.Target)
	}
	d := &Data{In: 1, X: make([]float64, cfg.Points), Y: make([]float64, cfg.Points)}
	for n := range d.Y {
		d.X[n] = 6*r.Float64() - 3
		d.Y[n] = target(d.X[n])
	}
	return d, nil
}

// RunToy runs the toy experiment of S2D (METHODS.md §1.5): a two-layer
// network on a 1-D regression, grown from one neuron by each method with
// the same seed, the same data, the same seed network and the same number
// of optimiser steps. Every StageSteps steps, GrowBy neurons are added
// (the width doubles when GrowBy is 0) until MaxWidth:
//
//   - split: S2D — split the GrowBy neurons with the most negative λ_min
//     along ±v_min with weights (½, ½). As in the reference code the sign
//     is not checked, so every method ends equally wide; Growth.MinLambda
//     records whether λ_min was negative.
//   - random-split: split as many neurons, chosen at random, along ±u for
//     a random unit u (Net2Net-style noise), weights (½, ½).
//   - new-neuron: append as many fresh neurons, incoming weights
//     N(0, NewScale²), outgoing weight 0 (the function is unchanged).
//   - gradient: no growth, the one-neuron net trains throughout (the
//     "gradient descent only" curve of the S2D paper).
//   - signed: S3D — the best signed scheme per neuron (c = SignedC),
//     neurons taken in order of most negative gain until at least GrowBy
//     neurons were added (a three-copy split adds two, so it may end one
//     neuron wider).
//
// Optimiser state is reset at every growth, for every method. The methods
// run concurrently; each draws from its own PCG stream (Seed, method).
func RunToy(ctx context.Context, cfg ToyConfig) (*ToyResult, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	act, _ := ParseActivation(cfg.Act)
	data, err := ToyData(cfg)
	if err != nil {
		return nil, err
	}
	seed := NewNet(1, 1, act, cfg.InitScale, cfg.InitScale, rand.New(rand.NewPCG(cfg.Seed, 0x6e6574)))
	stages := 1
	for w := 1; w < cfg.MaxWidth; w += cfg.addAt(w) {
		stages++
	}
	res := &ToyResult{Config: cfg, TotalSteps: stages * cfg.StageSteps, Runs: make([]MethodRun, len(Methods))}
	errs := make([]error, len(Methods))
	var wg sync.WaitGroup
	for mi, m := range Methods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(cfg.Seed, uint64(mi)+1))
			run, err := runMethod(ctx, cfg, m, seed.Clone(), data, stages, r)
			if err != nil {
				errs[mi] = fmt.Errorf("method %s: %w", m, err)
				return
			}
			res.Runs[mi] = run
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return res, nil
}

// addAt is the number of neurons a growth adds to a net of width w.
func (c ToyConfig) addAt(w int) int {
	k := c.GrowBy
	if k <= 0 {
		k = w
	}
	return max(0, min(k, c.MaxWidth-w))
}

func runMethod(ctx context.Context, cfg ToyConfig, method string, net *Net, data *Data, stages int, r *rand.Rand) (MethodRun, error) {
	opt, _ := NewOptimizer(cfg.Optimizer, cfg.LR)
	run := MethodRun{Method: method, Loss: make([]float64, 0, stages*cfg.StageSteps+1)}
	record := func(l float64) { run.Loss = append(run.Loss, l) }
	for s := 0; s < stages; s++ {
		if s > 0 && method != "gradient" {
			k := cfg.addAt(net.Width())
			g, err := grow(net, data, method, k, cfg, r)
			if err != nil {
				return run, err
			}
			g.Step = len(run.Loss)
			run.Growths = append(run.Growths, g)
			opt.Reset()
		}
		if _, err := Train(ctx, net, data, opt, cfg.StageSteps, record); err != nil {
			return run, err
		}
	}
	run.FinalLoss = net.Loss(data)
	run.Loss = append(run.Loss, run.FinalLoss)
	run.Width = net.Width()
	return run, nil
}

// grow applies one growth step of method adding up to k neurons.
func grow(net *Net, data *Data, method string, k int, cfg ToyConfig, r *rand.Rand) (Growth, error) {
	spec, err := net.Spectra(data)
	if err != nil {
		return Growth{}, err
	}
	g := Growth{LossBefore: net.Loss(data), MinLambda: math.Inf(1)}
	for _, e := range spec {
		g.MinLambda = math.Min(g.MinLambda, e.LambdaMin)
	}
	in := net.In + 1
	type planned struct {
		i int
		s split.Scheme
	}
	var plan []planned
	switch method {
	case "split":
		order := byGain(spec, split.S2D, true)
		for _, i := range order[:min(k, len(order))] {
			plan = append(plan, planned{i, split.S2D(spec[i])})
		}
	case "signed":
		signed := func(e split.Eigen) split.Scheme { return split.Signed(e, cfg.SignedC) }
		budget := k
		for _, i := range byGain(spec, signed, false) {
			if budget <= 0 {
				break
			}
			s := signed(spec[i])
			plan = append(plan, planned{i, s})
			budget -= s.Added()
		}
	case "random-split":
		for _, i := range r.Perm(net.Width())[:k] {
			u := make([]float64, in)
			randomUnit(u, r)
			neg := make([]float64, in)
			for t, v := range u {
				neg[t] = -v
			}
			plan = append(plan, planned{i, split.Scheme{Name: "random", Weights: []float64{0.5, 0.5}, Deltas: [][]float64{u, neg}}})
		}
	case "new-neuron":
		th := make([]float64, in)
		for j := 0; j < k; j++ {
			for t := range th {
				th[t] = cfg.NewScale * r.NormFloat64()
			}
			if err := net.AddUnit(th, 0); err != nil {
				return g, err
			}
			g.Split++
		}
	default:
		return g, fmt.Errorf("unknown method %q", method)
	}
	if len(plan) > 0 {
		// The splits are taken with step Eps, or — with LineSearch — with
		// the best of Eps, Eps/2, …, Eps/16 (the same search for every
		// splitting method).
		tries := []float64{cfg.Eps}
		if cfg.LineSearch {
			tries = []float64{cfg.Eps, cfg.Eps / 2, cfg.Eps / 4, cfg.Eps / 8, cfg.Eps / 16}
		}
		var best *Net
		bestLoss := math.Inf(1)
		for _, eps := range tries {
			c := net.Clone()
			for _, p := range plan {
				// Off-springs are appended, so p.i still names the neuron.
				if err := c.Split(p.i, p.s, eps); err != nil {
					return g, err
				}
			}
			if l := c.Loss(data); l < bestLoss || best == nil {
				best, bestLoss, g.Eps = c, l, eps
			}
		}
		*net = *best
		g.Split = len(plan)
		for _, p := range plan {
			g.Predicted += g.Eps * g.Eps / 2 * p.s.Gain
		}
	}
	g.Width = net.Width()
	g.LossAfter = net.Loss(data)
	return g, nil
}

// byGain returns the neurons ordered by their scheme's gain, most negative
// first (ties by index, so the order is deterministic); only those with a
// negative gain unless all is set.
func byGain(spec []split.Eigen, scheme func(split.Eigen) split.Scheme, all bool) []int {
	var idx []int
	gain := make([]float64, len(spec))
	for i, e := range spec {
		gain[i] = scheme(e).Gain
		if all || gain[i] < 0 {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return gain[idx[a]] < gain[idx[b]] })
	return idx
}

// randomUnit fills u with a uniformly random unit vector.
func randomUnit(u []float64, r *rand.Rand) {
	for {
		var n2 float64
		for t := range u {
			u[t] = r.NormFloat64()
			n2 += u[t] * u[t]
		}
		if n2 > 1e-12 {
			inv := 1 / math.Sqrt(n2)
			for t := range u {
				u[t] *= inv
			}
			return
		}
	}
}
