package continual

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/grow"
	"github.com/nadir-ml/nadir/grow/firefly"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
	"github.com/nadir-ml/nadir/run"
	"github.com/nadir-ml/nadir/tensor"
	"github.com/nadir-ml/nadir/train"
)

// Task is one task of a sequence: its own training and test data with
// labels 0..Classes-1.
type Task struct {
	Name        string
	Train, Test *data.Dataset
	Classes     int
}

// MakeTasks builds a task sequence from a dataset: "split:N" cuts the
// classes into N tasks of consecutive labels (split:5 on 10 classes gives
// {0,1}, {2,3}, ...), "permuted:N" gives N tasks over all classes, each
// with its own fixed pixel permutation (the first is the identity).
func MakeTasks(tr, te *data.Dataset, spec string, seed uint64) (out []Task, err error) {
	kind, arg, ok := strings.Cut(spec, ":")
	n, perr := strconv.Atoi(arg)
	if !ok || perr != nil || n < 1 {
		return nil, fmt.Errorf("--tasks %q: want split:N or permuted:N with N >= 1", spec)
	}
	// Tasks see flat vectors (the networks are MLPs).
	flat := func(d *data.Dataset) *data.Dataset {
		d.Shape = []int{d.Dim()}
		return d
	}
	defer func() {
		for i := range out {
			out[i].Train, out[i].Test = flat(out[i].Train), flat(out[i].Test)
		}
	}()
	switch kind {
	case "split":
		if tr.Classes%n != 0 || tr.Classes/n < 2 {
			return nil, fmt.Errorf("--tasks %s: %d classes do not split into %d tasks of at least 2", spec, tr.Classes, n)
		}
		per := tr.Classes / n
		for t := 0; t < n; t++ {
			lo := t * per
			out = append(out, Task{Name: fmt.Sprintf("classes %d-%d", lo, lo+per-1), Classes: per,
				Train: classes(tr, lo, per), Test: classes(te, lo, per)})
		}
	case "permuted":
		if n > 50 {
			return nil, fmt.Errorf("--tasks %s: at most 50 permuted tasks", spec)
		}
		r := rand.New(rand.NewPCG(seed, 0x9e7))
		for t := 0; t < n; t++ {
			perm := make([]int, tr.Dim())
			for i := range perm {
				perm[i] = i
			}
			if t > 0 {
				perm = r.Perm(tr.Dim())
			}
			out = append(out, Task{Name: fmt.Sprintf("permutation %d", t), Classes: tr.Classes,
				Train: permuted(tr, perm), Test: permuted(te, perm)})
		}
	default:
		return nil, fmt.Errorf("--tasks %q: want split:N or permuted:N", spec)
	}
	return out, nil
}

func classes(d *data.Dataset, lo, n int) *data.Dataset {
	var idx []int
	for i, y := range d.Y {
		if y >= lo && y < lo+n {
			idx = append(idx, i)
		}
	}
	s := d.Subset(idx)
	s.Y = slices.Clone(s.Y)
	for i := range s.Y {
		s.Y[i] -= lo
	}
	s.Classes = n
	s.ClassNames = nil
	return s
}

func permuted(d *data.Dataset, perm []int) *data.Dataset {
	s := d.Subset(nil)
	s.X = make([]float32, len(d.X))
	s.Y = d.Y
	dim := d.Dim()
	for i := 0; i < d.Len(); i++ {
		src, dst := d.X[i*dim:(i+1)*dim], s.X[i*dim:(i+1)*dim]
		for j, p := range perm {
			dst[j] = src[p]
		}
	}
	return s
}

// Config of a continual-learning comparison.
type Config struct {
	Hidden    []int   // baselines' hidden widths (and the independent networks')
	Seed      []int   // Firefly's seed widths (first task)
	Epochs    int     // training epochs per task (and after each growth step)
	Batch     int     //
	LR        float64 // SGD (momentum 0.9) learning rate
	Rounds    int     // Firefly growth steps per task at most
	GrowRatio float64 // Firefly: units added per growth step as a fraction of the task's units
	Target    float64 // Firefly: stop growing a task once its training accuracy reaches this
	Lambda    float64 // EWC penalty strength
	Steps     int     // Firefly candidate-training mini-batches
	RandSeed  uint64
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case len(c.Hidden) == 0 || slices.Min(c.Hidden) < 1:
		return fmt.Errorf("--hidden: want positive widths")
	case len(c.Seed) != len(c.Hidden) || slices.Min(c.Seed) < 1:
		return fmt.Errorf("--seed-width: want %d positive widths (one per hidden layer)", len(c.Hidden))
	case c.Epochs < 1:
		return fmt.Errorf("--epochs %d: must be >= 1", c.Epochs)
	case c.Batch < 1:
		return fmt.Errorf("--batch %d: must be >= 1", c.Batch)
	case !(c.LR > 0):
		return fmt.Errorf("--lr %v: must be positive", c.LR)
	case c.Rounds < 0:
		return fmt.Errorf("--rounds %d: must be >= 0", c.Rounds)
	case !(c.GrowRatio > 0 && c.GrowRatio <= 10):
		return fmt.Errorf("--grow-ratio %v: must be in (0, 10]", c.GrowRatio)
	case !(c.Target > 0 && c.Target <= 1):
		return fmt.Errorf("--target %v: must be in (0, 1]", c.Target)
	case c.Lambda < 0:
		return fmt.Errorf("--ewc-lambda %v: must be >= 0", c.Lambda)
	case c.Steps < 1:
		return fmt.Errorf("--candidate-steps %d: must be positive", c.Steps)
	}
	return nil
}

// Result is one method's outcome: results.json's schema, owned by package
// run.
type Result = run.ContinualResult

// finish computes r's average accuracy and forgetting from its accuracies.
func finish(r *Result) {
	T := len(r.Acc)
	last := r.Acc[T-1]
	for _, a := range last {
		r.AverageAccuracy += a
	}
	r.AverageAccuracy /= float64(len(last))
	if T > 1 {
		for j := 0; j < T-1; j++ {
			best := 0.0
			for t := j; t < T-1; t++ {
				best = max(best, r.Acc[t][j])
			}
			r.Forgetting += best - last[j]
		}
		r.Forgetting /= float64(T - 1)
	}
}

// Progress receives one line per finished task.
type Progress func(method string, task int, acc []float64, params int)

// Methods are the compared methods, in the order Run learns them.
var Methods = []string{"firefly", "finetune", "ewc", "independent"}

// Run learns the tasks in order with every method. Results already in done
// (from an interrupted run of the same configuration; each method is
// deterministic given the seed) are kept, and saved, when set, is called
// after each method finishes, so a killed comparison continues where it
// stopped.
func Run(ctx context.Context, cfg Config, tasks []Task, hooks []train.Hook, prog Progress, done map[string]*Result, saved func(map[string]*Result) error) (map[string]*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	out := map[string]*Result{}
	for _, m := range Methods {
		if r, ok := done[m]; ok && r != nil {
			out[m] = r
			continue
		}
		var r *Result
		var err error
		switch m {
		case "firefly":
			r, err = runFirefly(ctx, cfg, tasks, hooks, prog)
		default:
			r, err = runBaseline(ctx, m, cfg, tasks, prog)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m, err)
		}
		finish(r)
		out[m] = r
		if saved != nil {
			if err := saved(out); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// trunk builds dense+ReLU hidden layers of the given widths.
func trunk(in int, widths []int, r *rand.Rand) ([]nn.Layer, error) {
	var ls []nn.Layer
	for _, w := range widths {
		d, err := nn.NewDense(in, w, true, r)
		if err != nil {
			return nil, err
		}
		ls = append(ls, d, nn.NewAct(nn.Activation{Kind: nn.ReLU}, []int{w}))
		in = w
	}
	return ls, nil
}

func withHead(in int, tr []nn.Layer, head nn.Layer) (*nn.Net, error) {
	return nn.NewNet([]int{in}, append(slices.Clone(tr), head)...)
}

// fitter trains a network on one task with SGD, keeping frozen elements
// exactly (restored after every step) and adding an optional penalty
// gradient.
type fitter struct {
	cfg     Config
	opt     optim.Optimizer
	frozen  map[*nn.Param][]bool
	saved   map[*nn.Param][]float32
	penalty func()
}

func (f *fitter) freeze(p *nn.Param, mask []bool) {
	f.frozen[p] = mask
	f.saved[p] = slices.Clone(p.Data)
}

func (f *fitter) restore() {
	for p, m := range f.frozen {
		s := f.saved[p]
		for i, fr := range m {
			if fr {
				p.Data[i] = s[i]
			}
		}
	}
}

func (f *fitter) fit(ctx context.Context, net *nn.Net, d *data.Dataset, epochs int, seed uint64) error {
	b := data.NewBatcher(d, f.cfg.Batch)
	r := rand.New(rand.NewPCG(seed, 0xc0))
	var ce nn.SoftmaxCE
	var x *tensor.Tensor
	var y []int
	total := epochs * b.Steps()
	step := 0
	for e := 0; e < epochs; e++ {
		b.Epoch(r)
		for s := 0; s < b.Steps(); s++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			x, y = b.Batch(s, x, y)
			net.ZeroGrad()
			loss := ce.Forward(net.Forward(x, true), y)
			if math.IsNaN(loss) {
				return fmt.Errorf("training diverged (loss NaN)")
			}
			net.Backward(ce.Backward())
			if f.penalty != nil {
				f.penalty()
			}
			lr := f.cfg.LR * 0.5 * (1 + math.Cos(math.Pi*float64(step)/float64(total)))
			f.opt.Step(net.Params(), lr)
			f.restore()
			step++
		}
	}
	return nil
}

func accuracy(net *nn.Net, d *data.Dataset) float64 {
	return train.Evaluate(net, d, 500).Accuracy
}

// runBaseline: finetune (one shared trunk, all of it trained on every
// task), ewc (the same plus the EWC penalty) or independent (a fresh
// network per task).
func runBaseline(ctx context.Context, method string, cfg Config, tasks []Task, prog Progress) (*Result, error) {
	in := tasks[0].Train.Dim()
	r := rand.New(rand.NewPCG(cfg.RandSeed, 0xba5e))
	opt, _ := optim.New("sgd", 0)
	res := &Result{Method: method}
	var tr []nn.Layer
	var heads []nn.Layer
	var nets []*nn.Net
	var fisher, anchor map[*nn.Param][]float32
	for t, task := range tasks {
		var err error
		if tr == nil || method == "independent" {
			if tr, err = trunk(in, cfg.Hidden, r); err != nil {
				return nil, err
			}
		}
		head, err := nn.NewDense(cfg.Hidden[len(cfg.Hidden)-1], task.Classes, true, r)
		if err != nil {
			return nil, err
		}
		heads = append(heads, head)
		net, err := withHead(in, tr, head)
		if err != nil {
			return nil, err
		}
		nets = append(nets, net)
		f := &fitter{cfg: cfg, opt: opt, frozen: map[*nn.Param][]bool{}, saved: map[*nn.Param][]float32{}}
		if method == "ewc" && fisher != nil {
			f.penalty = func() {
				for p, F := range fisher {
					a := anchor[p]
					for i := range p.Grad {
						p.Grad[i] += float32(cfg.Lambda) * F[i] * (p.Data[i] - a[i])
					}
				}
			}
		}
		if err := f.fit(ctx, net, task.Train, cfg.Epochs, cfg.RandSeed^uint64(t)<<8); err != nil {
			return nil, err
		}
		if method == "ewc" {
			fisher, anchor = addFisher(net, tr, task.Train, cfg.Batch, fisher)
		}
		row := make([]float64, t+1)
		for j := 0; j <= t; j++ {
			row[j] = accuracy(nets[j], tasks[j].Test)
		}
		res.Acc = append(res.Acc, row)
		params := 0
		seen := map[*nn.Param]bool{}
		for _, n := range nets {
			for _, p := range n.Params() {
				if !seen[p] {
					seen[p] = true
					params += p.Len()
				}
			}
		}
		res.ParamsPerTask = append(res.ParamsPerTask, params)
		res.Params = params
		if prog != nil {
			prog(method, t, row, params)
		}
	}
	return res, nil
}

// addFisher adds the task's diagonal empirical Fisher information of the
// trunk's parameters (mean squared per-example gradient, estimated from
// mini-batch gradients × batch size) to fisher and anchors the trunk at
// its current values.
func addFisher(net *nn.Net, tr []nn.Layer, d *data.Dataset, batch int, fisher map[*nn.Param][]float32) (map[*nn.Param][]float32, map[*nn.Param][]float32) {
	if fisher == nil {
		fisher = map[*nn.Param][]float32{}
	}
	anchor := map[*nn.Param][]float32{}
	var ps []*nn.Param
	for _, l := range tr {
		ps = append(ps, l.Params()...)
	}
	b := data.NewBatcher(d, batch)
	b.Epoch(rand.New(rand.NewPCG(7, 7)))
	n := min(b.Steps(), 50)
	var ce nn.SoftmaxCE
	var x *tensor.Tensor
	var y []int
	acc := map[*nn.Param][]float64{}
	for _, p := range ps {
		acc[p] = make([]float64, p.Len())
	}
	for s := 0; s < n; s++ {
		x, y = b.Batch(s, x, y)
		net.ZeroGrad()
		ce.Forward(net.Forward(x, false), y)
		net.Backward(ce.Backward())
		for _, p := range ps {
			for i, g := range p.Grad {
				acc[p][i] += float64(g) * float64(g) * float64(len(y))
			}
		}
	}
	for _, p := range ps {
		F := fisher[p]
		if F == nil {
			F = make([]float32, p.Len())
		}
		for i, v := range acc[p] {
			F[i] += float32(v / float64(n))
		}
		fisher[p] = F
		anchor[p] = slices.Clone(p.Data)
	}
	return fisher, anchor
}

// afterTask, when set (tests), sees the Firefly state after each task.
var afterTask func(s *ffState, t int)

// ffState is Firefly's growing trunk: every neuron ever added, in order;
// task t uses the first Widths[t][l] neurons of layer l and its own head.
type ffState struct {
	in     int
	trunk  []nn.Layer
	heads  []*nn.Dense
	widths [][]int
}

// evalNet builds task t's network: the trunk restricted to the prefix the
// task used (a copy, so later growth cannot touch it) and its head.
func (s *ffState) evalNet(t int) (*nn.Net, error) {
	var ls []nn.Layer
	in := s.in
	for l, w := range s.widths[t] {
		d := s.trunk[2*l].(*nn.Dense)
		nd, err := nn.NewDense(in, w, true, nil)
		if err != nil {
			return nil, err
		}
		cols := d.W.Cols
		for r := 0; r < w; r++ {
			copy(nd.W.Data[r*in:(r+1)*in], d.W.Data[r*cols:r*cols+in])
		}
		copy(nd.B.Data, d.B.Data[:w])
		ls = append(ls, nd, nn.NewAct(nn.Activation{Kind: nn.ReLU}, []int{w}))
		in = w
	}
	return nn.NewNet([]int{s.in}, append(ls, s.heads[t])...)
}

// widths of the trunk's hidden layers now.
func (s *ffState) now() []int {
	var w []int
	for l := 0; l < len(s.trunk); l += 2 {
		w = append(w, s.trunk[l].(*nn.Dense).Units())
	}
	return w
}

// runFirefly learns each task on the frozen trunk of the earlier tasks
// plus what Firefly grows for it: train the task's head (and, on the first
// task, the seed trunk), then up to Rounds growth steps — candidates are
// new neurons and trainable copies of old neurons, with trainable weights
// from every neuron the task sees — each followed by training, until the
// task's training accuracy reaches Target. Everything that existed before
// the task is frozen element by element, so earlier tasks' networks are
// bit-identical afterwards.
func runFirefly(ctx context.Context, cfg Config, tasks []Task, hooks []train.Hook, prog Progress) (*Result, error) {
	in := tasks[0].Train.Dim()
	r := rand.New(rand.NewPCG(cfg.RandSeed, 0xf1))
	opt, _ := optim.New("sgd", 0)
	s := &ffState{in: in}
	var err error
	if s.trunk, err = trunk(in, cfg.Seed, r); err != nil {
		return nil, err
	}
	res := &Result{Method: "firefly"}
	for t, task := range tasks {
		old := s.now()
		if t == 0 {
			old = make([]int, len(old))
		}
		now := s.now()
		head, err := nn.NewDense(now[len(now)-1], task.Classes, true, r)
		if err != nil {
			return nil, err
		}
		net, err := withHead(in, s.trunk, head)
		if err != nil {
			return nil, err
		}
		f := &fitter{cfg: cfg, opt: opt}
		freeze := func() {
			// Old×old weights and old biases are frozen; weights from
			// neurons added for this task into old neurons are the task's.
			f.frozen, f.saved = map[*nn.Param][]bool{}, map[*nn.Param][]float32{}
			prevOld := 0
			for l := 0; l < len(s.trunk); l += 2 {
				d := s.trunk[l].(*nn.Dense)
				o := old[l/2]
				m := make([]bool, d.W.Len())
				for row := 0; row < o; row++ {
					lim := d.W.Cols
					if l > 0 {
						lim = prevOld
					}
					for c := 0; c < lim; c++ {
						m[row*d.W.Cols+c] = true
					}
				}
				f.freeze(d.W, m)
				mb := make([]bool, d.B.Len())
				for row := 0; row < o; row++ {
					mb[row] = true
				}
				f.freeze(d.B, mb)
				prevOld = o
			}
		}
		freeze()
		seed := cfg.RandSeed ^ uint64(t+1)<<16
		if err := f.fit(ctx, net, task.Train, cfg.Epochs, seed); err != nil {
			return nil, err
		}
		for round := 1; round <= cfg.Rounds; round++ {
			if accuracy(net, task.Train) >= cfg.Target {
				break
			}
			if err := growStep(ctx, net, task, cfg, hooks, seed^uint64(round), t, round); err != nil {
				return nil, err
			}
			freeze()
			if err := f.fit(ctx, net, task.Train, cfg.Epochs, seed^uint64(round)<<4); err != nil {
				return nil, err
			}
		}
		s.heads = append(s.heads, head)
		s.widths = append(s.widths, s.now())
		row := make([]float64, t+1)
		for j := 0; j <= t; j++ {
			en, err := s.evalNet(j)
			if err != nil {
				return nil, err
			}
			row[j] = accuracy(en, tasks[j].Test)
		}
		res.Acc = append(res.Acc, row)
		params := 0
		for l := 0; l < len(s.trunk); l += 2 {
			for _, p := range s.trunk[l].Params() {
				params += p.Len()
			}
		}
		for _, h := range s.heads {
			params += h.W.Len() + h.B.Len()
		}
		res.Params = params
		res.ParamsPerTask = append(res.ParamsPerTask, params)
		res.Widths = append(res.Widths, s.now())
		if afterTask != nil {
			afterTask(s, t)
		}
		if prog != nil {
			prog("firefly", t, row, params)
		}
	}
	return res, nil
}

// growStep runs one Firefly step on the task's network: new-neuron
// candidates (half of them copies of existing neurons), no splits (the
// old neurons are frozen), selected by the ratio rule on the gate
// derivatives and applied as trained.
func growStep(ctx context.Context, net *nn.Net, task Task, cfg Config, hooks []train.Hook, seed uint64, t, round int) error {
	r := rand.New(rand.NewPCG(seed, 0x6a7e))
	o := firefly.Options{NoSplit: true, Copies: 0.5, Steps: cfg.Steps, LR: 0.02}
	cs, err := firefly.NewCandidates(net, o, r)
	if err != nil {
		return err
	}
	b := data.NewBatcher(task.Train, cfg.Batch)
	b.Epoch(r)
	n := b.Steps()
	var trainSteps, scoreSteps []int
	for i := 0; i < cfg.Steps; i++ {
		trainSteps = append(trainSteps, i%n)
	}
	for i := 0; i < min(10, n); i++ {
		scoreSteps = append(scoreSteps, (cfg.Steps+i)%n)
	}
	for _, h := range hooks {
		h.PhaseStart(fmt.Sprintf("task %d growth %d: firefly candidates", t, round), len(trainSteps)+len(scoreSteps))
	}
	done := 0
	step := func(loss float64) {
		done++
		for _, h := range hooks {
			h.StepDone(done, loss)
		}
	}
	if err := cs.Train(ctx, b, trainSteps, step); err != nil {
		return err
	}
	if err := cs.Score(ctx, b, scoreSteps, step); err != nil {
		return err
	}
	for _, h := range hooks {
		h.PhaseEnd()
	}
	cands := cs.Candidates()
	lim := grow.Limits{Ratio: cfg.GrowRatio, MaxWidth: map[int]int{}, Widths: map[int]int{}}
	for _, li := range net.Growable() {
		lim.Widths[li] = net.Layers[li].(nn.Producer).Units()
	}
	chosen := grow.SelectRatio(cands, lim)
	slices.SortFunc(chosen, func(a, b int) int {
		ca, cb := cands[a], cands[b]
		if ca.Layer != cb.Layer {
			return cb.Layer - ca.Layer
		}
		return ca.Unit - cb.Unit
	})
	for _, i := range chosen {
		if err := cands[i].Apply(net, 1); err != nil {
			return err
		}
	}
	return nil
}
