package npi

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
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
	// Checkpoint, if set, is called after every epoch with the epoch's
	// figures and the trainer's state; TrainContext continues from such a
	// state (Resume) exactly as if it had not stopped.
	Checkpoint func(e Epoch, state []byte) error `json:"-"`
	// Resume is a state given to Checkpoint: training continues after it.
	Resume []byte `json:"-"`
}

// Epoch is what training reports after each epoch.
type Epoch struct {
	Epoch        int
	Loss         float64 // mean per step
	StepAccuracy float64 // teacher-forced, training set
	Seconds      float64 // since training started, over every resume
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
	return TrainContext(context.Background(), t, cfg)
}

// trainState is the trainer's state at the end of an epoch: with the
// training set (drawn again from the seed) it fixes the rest of the run.
type trainState struct {
	Version   int
	Epoch     int // completed epochs
	Streak    int
	Sum       Summary
	Rand      []byte // the PCG source after the epoch
	Order     []int  // the sequences' order (shuffled in place every epoch)
	AdamT     int
	Data      [][]float32
	Slots     [][][]float32
	Elapsed   float64 // seconds of training before this state
	Task      string
	Recursive bool
}

// TrainContext is Train, stopping with ctx's error between batches when
// ctx is done, checkpointing through cfg.Checkpoint and continuing from
// cfg.Resume.
func TrainContext(ctx context.Context, t Task, cfg TrainConfig) (*Model, *Summary, error) {
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
	streak, first, elapsed := 0, 1, 0.0
	if cfg.Resume != nil {
		var st trainState
		if err := gob.NewDecoder(bytes.NewReader(cfg.Resume)).Decode(&st); err != nil {
			return nil, nil, fmt.Errorf("training state: %v", err)
		}
		if err := st.restore(t, src, order, seqs, opt, params); err != nil {
			return nil, nil, err
		}
		*sum, streak, first, elapsed = st.Sum, st.Streak, st.Epoch+1, st.Elapsed
		if sum.Converged || st.Epoch >= cfg.MaxEpochs || st.Elapsed > cfg.TimeLimit.Seconds() {
			return m, sum, nil
		}
	}
	index := make(map[*Invocation]int, len(seqs))
	for i, s := range seqs {
		index[s] = i
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
		sum.Converged = streak >= cfg.Patience
		secs := elapsed + time.Since(start).Seconds()
		sum.Seconds = secs
		if cfg.Checkpoint != nil {
			st := trainState{Version: 1, Epoch: epoch, Streak: streak, Sum: *sum, AdamT: opt.T, Elapsed: secs,
				Task: t.Name(), Recursive: t.Recursive()}
			st.Rand, _ = src.MarshalBinary()
			for _, s := range order {
				st.Order = append(st.Order, index[s])
			}
			for _, p := range params {
				st.Data = append(st.Data, p.Data)
				st.Slots = append(st.Slots, p.Slots)
			}
			var buf bytes.Buffer
			if err := gob.NewEncoder(&buf).Encode(&st); err != nil {
				return nil, nil, err
			}
			e := Epoch{Epoch: epoch, Loss: sum.Loss, StepAccuracy: sum.StepAccuracy, Seconds: secs}
			if err := cfg.Checkpoint(e, buf.Bytes()); err != nil {
				return nil, nil, err
			}
		}
		if sum.Converged || secs > cfg.TimeLimit.Seconds() {
			break
		}
	}
	sum.Seconds = elapsed + time.Since(start).Seconds()
	return m, sum, nil
}

// restore puts a checkpointed state back into a trainer set up afresh from
// the same configuration.
func (st *trainState) restore(t Task, src *rand.PCG, order, seqs []*Invocation, opt *optim.Adam, params []*nn.Param) error {
	if st.Version != 1 || st.Task != t.Name() || st.Recursive != t.Recursive() {
		return fmt.Errorf("training state: version %d of task %s (recursive %v), want version 1 of %s (recursive %v)",
			st.Version, st.Task, st.Recursive, t.Name(), t.Recursive())
	}
	if len(st.Order) != len(seqs) || len(st.Data) != len(params) || len(st.Slots) != len(params) {
		return fmt.Errorf("training state: %d sequences and %d parameters, the configuration makes %d and %d",
			len(st.Order), len(st.Data), len(seqs), len(params))
	}
	if err := src.UnmarshalBinary(st.Rand); err != nil {
		return fmt.Errorf("training state: %v", err)
	}
	for i, k := range st.Order {
		if k < 0 || k >= len(seqs) {
			return fmt.Errorf("training state: sequence %d out of range", k)
		}
		order[i] = seqs[k]
	}
	for i, p := range params {
		if len(st.Data[i]) != len(p.Data) {
			return fmt.Errorf("training state: parameter %s has %d values, want %d", p.Name, len(st.Data[i]), len(p.Data))
		}
		copy(p.Data, st.Data[i])
		p.Slots = st.Slots[i]
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
