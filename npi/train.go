package npi

import (
	"context"
	"fmt"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
	"math/rand/v2"
	"slices"
	"time"
)

// TrainConfig controls Train. Zero fields take the defaults listed.
type TrainConfig struct {
	Model ModelConfig `json:"model"`
	Seed  uint64      `json:"seed"`
	// Traces is the number of random training inputs (default per task).
	Traces int `json:"traces"`
	// MaxSize is the largest training input size, sizes are drawn uniformly
	// from 1…MaxSize (default Task.TrainSize).
	MaxSize int `json:"max_size"`
	// Batch is the number of invocations per update (default 32).
	Batch int `json:"batch"`
	// LR is Adam's learning rate (default 0.003).
	LR float64 `json:"lr"`
	// MaxEpochs bounds training (default 400); TimeLimit too (default 4m30s).
	MaxEpochs int           `json:"max_epochs"`
	TimeLimit time.Duration `json:"-"`
	// Patience is how many consecutive epochs at 100% training step
	// accuracy end training (default 3): the extra epochs widen the
	// margins that generalisation to unseen situations rests on.
	Patience int `json:"patience"`
	// Progress, if set, is called after every epoch with (epoch, MaxEpochs).
	Progress func(done, total int) `json:"-"`
	// Context, if set, stops training when it is cancelled (a signal):
	// Train returns the context's error; the last Checkpoint continues it.
	Context context.Context `json:"-"`
	// Checkpoint, if set, is called after every epoch with the state that
	// continues training exactly (see Resume).
	Checkpoint func(*TrainState) error `json:"-"`
	// Resume, if set, continues a run from a checkpointed state: with the
	// same configuration the result equals the uninterrupted run's (when
	// the time limit stops neither).
	Resume *TrainState `json:"-"`
}

// TrainState is a training run between two epochs: the parameters with
// their Adam moments and everything that decides what comes next.
type TrainState struct {
	Epoch   int           `json:"epoch"`   // completed epochs
	Streak  int           `json:"streak"`  // consecutive epochs at 100% step accuracy
	Seconds float64       `json:"seconds"` // training time so far, for the time limit
	RNG     []byte        `json:"rng"`     // the PCG generator's state
	Order   []int         `json:"order"`   // the sequence order the next epoch shuffles
	AdamT   int           `json:"adam_t"`
	Params  [][]float32   `json:"params"`
	Slots   [][][]float32 `json:"slots"`
	Summary Summary       `json:"summary"`
}

// defaultTraces is the number of training inputs per task: enough that
// every pattern of the small tasks occurs, and every (digit, digit, carry)
// column of addition (with 1000 inputs about one of the 241 is missing on
// average, and the model then has to guess that sum; with 2000 none was
// missing over 40 seeds).
var defaultTraces = map[string]int{"addition": 2000, "bubblesort": 200, "toposort": 200, "quicksort": 200}

// WithDefaults returns c with its zero fields set to their defaults for t.
func (c TrainConfig) WithDefaults(t Task) TrainConfig {
	if c.Traces == 0 {
		c.Traces = defaultTraces[t.Name()]
	}
	if c.MaxSize == 0 {
		c.MaxSize = t.TrainSize()
	}
	if c.Batch == 0 {
		c.Batch = 32
	}
	if c.LR == 0 {
		c.LR = 0.003
	}
	if c.MaxEpochs == 0 {
		c.MaxEpochs = 400
	}
	if c.TimeLimit == 0 {
		c.TimeLimit = 4*time.Minute + 30*time.Second
	}
	if c.Patience == 0 {
		c.Patience = 3
	}
	return c
}

// Summary reports a training run.
type Summary struct {
	Task         string  `json:"task"`
	Recursive    bool    `json:"recursive"`
	Seconds      float64 `json:"training_seconds"`
	Epochs       int     `json:"epochs"`
	Loss         float64 `json:"final_loss"`          // mean per step, last epoch
	StepAccuracy float64 `json:"final_step_accuracy"` // teacher-forced, training set
	Converged    bool    `json:"converged"`           // reached 100% for Patience epochs
	Inputs       int     `json:"training_inputs"`
	Sequences    int     `json:"training_sequences"` // distinct invocations
	Steps        int     `json:"training_steps"`
}

// TrainingSet draws cfg.Traces random inputs of sizes 1…cfg.MaxSize from r
// and returns their distinct invocations (each one a training sequence).
func TrainingSet(t Task, traces, maxSize int, r *rand.Rand) []*Invocation {
	seen := make(map[string]bool)
	var seqs []*Invocation
	for range traces {
		in := t.RandomInput(r, 1+r.IntN(maxSize))
		invs, _ := Trace(t, in)
		for _, inv := range invs {
			k := inv.key()
			if !seen[k] {
				seen[k] = true
				seqs = append(seqs, inv)
			}
		}
	}
	return seqs
}

// Train fits a fresh model to reference traces of t. Every invocation is a
// separate sequence trained from a zero state, as it runs at inference.
// Results depend only on cfg (and the thread-independent kernels).
func Train(t Task, cfg TrainConfig) (*Model, *Summary, error) {
	cfg = cfg.WithDefaults(t)
	if cfg.Traces < 1 || cfg.MaxSize < 1 || cfg.Batch < 1 || cfg.LR <= 0 || cfg.MaxEpochs < 1 {
		return nil, nil, fmt.Errorf("training settings must be positive: traces %d, max size %d, batch %d, lr %g, epochs %d",
			cfg.Traces, cfg.MaxSize, cfg.Batch, cfg.LR, cfg.MaxEpochs)
	}
	start := time.Now()
	src := rand.NewPCG(cfg.Seed, 0x6e7069)
	r := rand.New(src)
	m, err := NewModel(t, cfg.Model, r)
	if err != nil {
		return nil, nil, err
	}
	seqs := TrainingSet(t, cfg.Traces, cfg.MaxSize, r)
	sum := &Summary{Task: t.Name(), Recursive: t.Recursive(), Inputs: cfg.Traces, Sequences: len(seqs)}
	for _, s := range seqs {
		sum.Steps += len(s.Steps)
	}
	opt := &optim.Adam{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	lr := cfg.LR
	params := m.Params()
	b := newBatchRunner(m)
	order := slices.Clone(seqs)
	streak := 0
	first := 1
	if st := cfg.Resume; st != nil {
		if err := resumeState(st, src, params, opt, seqs, order); err != nil {
			return nil, nil, err
		}
		first, streak = st.Epoch+1, st.Streak
		start = start.Add(-time.Duration(st.Seconds * float64(time.Second)))
		*sum = st.Summary
		if sum.Converged {
			first = cfg.MaxEpochs + 1
		}
	}
	ctx := cfg.Context
	if ctx == nil {
		ctx = context.Background()
	}
	for epoch := first; epoch <= cfg.MaxEpochs; epoch++ {
		batches := makeBatches(order, cfg.Batch, r)
		var loss float64
		for _, batch := range batches {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			b.load(batch)
			b.forward()
			for _, p := range params {
				p.ZeroGrad()
			}
			rows := 0
			for _, s := range batch {
				rows += len(s.Steps)
			}
			loss += b.lossBackward(1 / float32(rows))
			optim.ClipGradNorm(params, gradClip)
			opt.Step(params, lr)
		}
		sum.Epochs = epoch
		sum.Loss = loss / float64(sum.Steps)
		sum.StepAccuracy = stepAccuracy(b, seqs, cfg.Batch)
		if cfg.Progress != nil {
			cfg.Progress(epoch, cfg.MaxEpochs)
		}
		if sum.StepAccuracy == 1 {
			streak++
		} else {
			streak = 0
		}
		if streak >= cfg.Patience {
			sum.Converged = true
		}
		if cfg.Checkpoint != nil {
			sum.Seconds = time.Since(start).Seconds()
			if err := cfg.Checkpoint(trainState(epoch, streak, sum, src, params, opt, seqs, order)); err != nil {
				return nil, nil, err
			}
		}
		if sum.Converged || time.Since(start) > cfg.TimeLimit {
			break
		}
	}
	sum.Seconds = time.Since(start).Seconds()
	return m, sum, nil
}

// trainState captures a run after epoch.
func trainState(epoch, streak int, sum *Summary, src *rand.PCG, params []*nn.Param, opt *optim.Adam, seqs, order []*Invocation) *TrainState {
	st := &TrainState{Epoch: epoch, Streak: streak, Seconds: sum.Seconds, AdamT: opt.T, Summary: *sum}
	st.RNG, _ = src.MarshalBinary()
	index := make(map[*Invocation]int, len(seqs))
	for i, s := range seqs {
		index[s] = i
	}
	for _, s := range order {
		st.Order = append(st.Order, index[s])
	}
	for _, p := range params {
		st.Params = append(st.Params, slices.Clone(p.Data))
		var slots [][]float32
		for _, sl := range p.Slots {
			slots = append(slots, slices.Clone(sl))
		}
		st.Slots = append(st.Slots, slots)
	}
	return st
}

// resumeState restores a checkpointed state, checking that it fits the
// model and training set that the configuration rebuilt.
func resumeState(st *TrainState, src *rand.PCG, params []*nn.Param, opt *optim.Adam, seqs, order []*Invocation) error {
	if err := src.UnmarshalBinary(st.RNG); err != nil {
		return fmt.Errorf("training state: generator: %v", err)
	}
	if len(st.Params) != len(params) || len(st.Slots) != len(params) || len(st.Order) != len(seqs) || st.Epoch < 0 {
		return fmt.Errorf("training state does not fit the configuration (%d parameters for %d, order of %d sequences for %d)",
			len(st.Params), len(params), len(st.Order), len(seqs))
	}
	seen := make([]bool, len(seqs))
	for i, k := range st.Order {
		if k < 0 || k >= len(seqs) || seen[k] {
			return fmt.Errorf("training state: sequence order is not a permutation")
		}
		seen[k] = true
		order[i] = seqs[k]
	}
	for i, p := range params {
		if len(st.Params[i]) != p.Len() {
			return fmt.Errorf("training state: parameter %s has %d values, the model %d", p.Name, len(st.Params[i]), p.Len())
		}
		copy(p.Data, st.Params[i])
		p.Slots = nil
		for _, sl := range st.Slots[i] {
			if len(sl) != p.Len() {
				return fmt.Errorf("training state: optimiser state of %s has %d values, want %d", p.Name, len(sl), p.Len())
			}
			p.Slots = append(p.Slots, slices.Clone(sl))
		}
	}
	opt.T = st.AdamT
	return nil
}

// makeBatches shuffles the sequences, groups ones of similar length (so
// little padding is computed) and shuffles the batch order.
func makeBatches(seqs []*Invocation, size int, r *rand.Rand) [][]*Invocation {
	r.Shuffle(len(seqs), func(i, j int) { seqs[i], seqs[j] = seqs[j], seqs[i] })
	slices.SortStableFunc(seqs, func(a, b *Invocation) int { return len(a.Steps) - len(b.Steps) })
	var batches [][]*Invocation
	for i := 0; i < len(seqs); i += size {
		batches = append(batches, seqs[i:min(i+size, len(seqs))])
	}
	r.Shuffle(len(batches), func(i, j int) { batches[i], batches[j] = batches[j], batches[i] })
	return batches
}

// stepAccuracy is the fraction of steps of seqs whose action the model
// predicts exactly, teacher-forced from a zero state per invocation.
func stepAccuracy(b *batchRunner, seqs []*Invocation, batch int) float64 {
	ok, total := 0, 0
	checkSequences(b, seqs, batch, func(_ int, _ *Invocation, _ int, good bool) {
		total++
		if good {
			ok++
		}
	})
	if total == 0 {
		return 1
	}
	return float64(ok) / float64(total)
}

// checkSequences runs the model teacher-forced over seqs in batches of
// sequences of equal length and reports every step's correctness in order
// of seqs, then step.
func checkSequences(b *batchRunner, seqs []*Invocation, batch int, report func(i int, inv *Invocation, step int, good bool)) {
	idx := make([]int, len(seqs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(x, y int) int { return len(seqs[x].Steps) - len(seqs[y].Steps) })
	good := make([][]bool, len(seqs))
	group := make([]*Invocation, 0, batch)
	for i := 0; i < len(idx); i += batch {
		ids := idx[i:min(i+batch, len(idx))]
		group = group[:0]
		for _, k := range ids {
			group = append(group, seqs[k])
		}
		b.load(group)
		b.forward()
		for n, k := range ids {
			g := make([]bool, len(seqs[k].Steps))
			for s := range g {
				g[s] = b.correct(s*b.N + n)
			}
			good[k] = g
		}
	}
	for i, inv := range seqs {
		for s, g := range good[i] {
			report(i, inv, s, g)
		}
	}
}
