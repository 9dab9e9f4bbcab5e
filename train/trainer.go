package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
	"github.com/nadir-ml/nadir/run"
	"github.com/nadir-ml/nadir/tensor"
)

// Config is what a training phase needs beyond the network (config.json's
// "train" section, whose schema package run owns).
type Config = run.TrainConfig

// Position is where a run stands; with Seed it fixes every random stream,
// which is how a resumed run reproduces an uninterrupted one bit for bit:
// the shuffle of epoch e comes from PCG(seed, e) and the augmentation and
// dropout of step s of epoch e from PCG(seed^augmentKey, e<<32|s).
type Position struct {
	Epoch int `json:"epoch"` // global epoch counter (completed epochs)
	Step  int `json:"step"`  // completed steps of the current epoch
	// PhaseStart and PhaseEpochs delimit the current training phase (one
	// round of growth, or the whole of nadir train) for the lr schedule.
	PhaseStart  int `json:"phase_start"`
	PhaseEpochs int `json:"phase_epochs"`
	// Running sums of the current epoch's training loss, so that a resumed
	// epoch reports the same mean.
	LossSum float64 `json:"loss_sum"`
	Correct int     `json:"correct"`
	Seen    int     `json:"seen"`
	// Early stopping.
	BestVal float64 `json:"best_val"`
	BadEp   int     `json:"bad_epochs"`
	Stopped bool    `json:"stopped"`
}

const augmentKey = 0x9e3779b97f4a7c15

// EpochStats summarises one finished epoch: the "epoch" event.
type EpochStats = run.Epoch

// Hook observes training; the UI (progress bars) and logging live in hooks
// so that the loop itself stays quiet.
type Hook interface {
	PhaseStart(name string, total int)
	StepDone(done int, loss float64)
	PhaseEnd()
}

// Trainer runs the parametric descent of a Net on a dataset.
type Trainer struct {
	Net   *nn.Net
	Opt   optim.Optimizer
	Sched optim.Schedule
	Cfg   Config
	Train *data.Dataset
	Val   *data.Dataset // optional, for early stopping
	Test  *data.Dataset
	Pos   Position
	Log   *run.Log
	Hooks []Hook
	// Save is called at checkpoint points with the position already
	// updated; a nil Save disables checkpoints.
	Save func() error

	batcher *data.Batcher
	x       *tensor.Tensor
	y       []int
	loss    nn.SoftmaxCE
	pred    []int
}

// DivergedError reports a NaN or infinite loss, or (Weight) a parameter
// that became one.
type DivergedError struct {
	Epoch, Step int
	Loss        float64
	Weight      bool
}

func (e *DivergedError) Error() string {
	what := "loss"
	if e.Weight {
		what = "a weight became"
	}
	return fmt.Sprintf("training diverged at epoch %d step %d: %s %v (the last good checkpoint is kept)", e.Epoch+1, e.Step+1, what, e.Loss)
}

// SetTrain makes d the training set from the next epoch on (a growth run
// trains its growth phases on parts of the data). A resumed run must set
// the same set before it continues the epoch it was in.
func (t *Trainer) SetTrain(d *data.Dataset) {
	t.Train = d
	t.batcher = nil
}

// BeginPhase starts a training phase of n epochs at the current epoch.
func (t *Trainer) BeginPhase(epochs int) {
	t.Pos.PhaseStart = t.Pos.Epoch
	t.Pos.PhaseEpochs = epochs
	t.Pos.Step = 0
	t.Pos.LossSum, t.Pos.Correct, t.Pos.Seen = 0, 0, 0
	t.Pos.BestVal, t.Pos.BadEp, t.Pos.Stopped = math.Inf(1), 0, false
}

// PhaseDone reports whether the current phase has finished.
func (t *Trainer) PhaseDone() bool {
	return t.Pos.Stopped || t.Pos.Epoch >= t.Pos.PhaseStart+t.Pos.PhaseEpochs
}

// RunPhase trains until the current phase ends (resuming mid-epoch when
// Pos says so) and returns the stats of the epochs it finished.
func (t *Trainer) RunPhase(ctx context.Context) ([]EpochStats, error) {
	var out []EpochStats
	for !t.PhaseDone() {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		st, err := t.runEpoch(ctx)
		if err != nil {
			return out, err
		}
		out = append(out, st)
	}
	return out, nil
}

func (t *Trainer) runEpoch(ctx context.Context) (EpochStats, error) {
	start := time.Now()
	if t.Cfg.Batch <= 0 {
		t.Cfg.Batch = 64
	}
	if t.batcher == nil {
		t.batcher = data.NewBatcher(t.Train, t.Cfg.Batch)
	}
	ep := t.Pos.Epoch
	t.batcher.Epoch(rand.New(rand.NewPCG(t.Cfg.Seed, uint64(ep))))
	steps := t.batcher.Steps()
	totalSteps := t.Pos.PhaseEpochs * steps
	for _, h := range t.Hooks {
		h.PhaseStart(fmt.Sprintf("epoch %d", ep+1), steps)
		h.StepDone(t.Pos.Step, 0)
	}
	params := t.Net.Params()
	var lr float64
	for s := t.Pos.Step; s < steps; s++ {
		if err := ctx.Err(); err != nil {
			return EpochStats{}, t.interrupted(err)
		}
		t.x, t.y = t.batcher.Batch(s, t.x, t.y)
		r := rand.New(rand.NewPCG(t.Cfg.Seed^augmentKey, uint64(ep)<<32|uint64(s)))
		if t.Cfg.Augment > 0 && len(t.Train.Shape) == 3 {
			data.ShiftAugment(t.x, t.Cfg.Augment, r)
		}
		t.Net.SetRand(r)
		t.Net.ZeroGrad()
		logits := t.Net.Forward(t.x, true)
		l := t.loss.Forward(logits, t.y)
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return EpochStats{}, &DivergedError{Epoch: ep, Step: s, Loss: l}
		}
		t.Net.Backward(t.loss.Backward())
		lr = t.Sched.LR((ep-t.Pos.PhaseStart)*steps+s, totalSteps)
		t.Opt.Step(params, lr)
		t.pred = nn.Argmax(t.pred, logits)
		for i, p := range t.pred {
			if p == t.y[i] {
				t.Pos.Correct++
			}
		}
		t.Pos.LossSum += l * float64(len(t.y))
		t.Pos.Seen += len(t.y)
		t.Pos.Step = s + 1
		for _, h := range t.Hooks {
			h.StepDone(s+1, l)
		}
		if t.Save != nil && t.Cfg.CkptSteps > 0 && (s+1)%t.Cfg.CkptSteps == 0 && s+1 < steps {
			if err := t.checkpoint(ep, s); err != nil {
				return EpochStats{}, err
			}
		}
	}
	for _, h := range t.Hooks {
		h.PhaseEnd()
	}
	st := EpochStats{Epoch: ep + 1, LR: lr}
	if t.Pos.Seen > 0 {
		st.TrainLoss = t.Pos.LossSum / float64(t.Pos.Seen)
		st.TrainAccuracy = float64(t.Pos.Correct) / float64(t.Pos.Seen)
	}
	evalStart := time.Now()
	if t.Val != nil && t.Val.Len() > 0 {
		m := Evaluate(t.Net, t.Val, t.evalBatch())
		st.ValLoss, st.ValAccuracy = m.Loss, m.Accuracy
		if t.Cfg.Patience > 0 {
			if m.Loss < t.Pos.BestVal {
				t.Pos.BestVal, t.Pos.BadEp = m.Loss, 0
			} else if t.Pos.BadEp++; t.Pos.BadEp >= t.Cfg.Patience {
				t.Pos.Stopped = true
			}
		}
	}
	if t.Test != nil {
		m := Evaluate(t.Net, t.Test, t.evalBatch())
		st.TestLoss, st.TestAccuracy = m.Loss, m.Accuracy
	}
	// Seconds are wall time and differ between runs; everything else in
	// the stats is bit-reproducible.
	st.Seconds = time.Since(start).Seconds()
	evalSeconds := time.Since(evalStart).Seconds()
	t.Pos.Epoch++
	t.Pos.Step = 0
	t.Pos.LossSum, t.Pos.Correct, t.Pos.Seen = 0, 0, 0
	st.Params = t.Net.NumParams()
	st.Stopped = t.Pos.Stopped
	st.EvalSeconds = evalSeconds
	if err := t.Log.Append(st); err != nil {
		return st, err
	}
	if t.Save != nil {
		if err := t.checkpoint(ep, steps-1); err != nil {
			return st, err
		}
	}
	return st, nil
}

// checkpoint calls Save unless a parameter is NaN or infinite: a step whose
// loss was finite can still overflow the weights, and a checkpoint of
// those is not one to resume from, so the previous one is kept.
func (t *Trainer) checkpoint(ep, s int) error {
	for _, p := range t.Net.Params() {
		for _, v := range p.Data {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				return &DivergedError{Epoch: ep, Step: s, Loss: f, Weight: true}
			}
		}
	}
	return t.Save()
}

// interrupted checkpoints the step boundary a cancelled run stopped at, so
// that it resumes from there rather than from the last periodic
// checkpoint. At step 0 the position is already saved: by the previous
// epoch's end or by the start of the phase.
func (t *Trainer) interrupted(err error) error {
	if t.Save != nil && t.Pos.Step > 0 {
		if serr := t.checkpoint(t.Pos.Epoch, t.Pos.Step-1); serr != nil {
			return errors.Join(err, fmt.Errorf("checkpoint at interruption: %w", serr))
		}
	}
	return err
}

func (t *Trainer) evalBatch() int {
	if t.Cfg.EvalBatch > 0 {
		return t.Cfg.EvalBatch
	}
	return 500
}

// Metrics of a network on a dataset.
type Metrics struct {
	Loss      float64 `json:"loss"`
	Accuracy  float64 `json:"accuracy"`
	Confusion [][]int `json:"confusion"` // [true][predicted]
}

// Evaluate runs the network in evaluation mode over d (nn.Net.Infer: no
// state kept for a backward pass).
func Evaluate(net *nn.Net, d *data.Dataset, batch int) Metrics {
	b := data.NewBatcher(d, batch)
	b.Epoch(nil)
	var (
		x    *tensor.Tensor
		y    []int
		pred []int
		ce   nn.SoftmaxCE
		sum  float64
		ok   int
	)
	m := Metrics{Confusion: make([][]int, d.Classes)}
	for i := range m.Confusion {
		m.Confusion[i] = make([]int, d.Classes)
	}
	for s := 0; s < b.Steps(); s++ {
		x, y = b.Batch(s, x, y)
		logits := net.Infer(x)
		sum += ce.Forward(logits, y) * float64(len(y))
		pred = nn.Argmax(pred, logits)
		for i, p := range pred {
			if p == y[i] {
				ok++
			}
			if p < d.Classes {
				m.Confusion[y[i]][p]++
			}
		}
	}
	if d.Len() > 0 {
		m.Loss = sum / float64(d.Len())
		m.Accuracy = float64(ok) / float64(d.Len())
	}
	return m
}
