package train

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
	"github.com/nadir-ml/nadir/tensor"
)

// Config holds what a training phase needs beyond the network.
type Config struct {
	Batch       int     `json:"batch"`
	LR          float64 `json:"lr"`
	Schedule    string  `json:"schedule"`
	Optimizer   string  `json:"optimizer"`
	WeightDecay float64 `json:"weight_decay"`
	Seed        uint64  `json:"seed"`
	Augment     int     `json:"augment"`    // max random shift in pixels (0: none)
	CkptSteps   int     `json:"ckpt_steps"` // checkpoint every N steps inside an epoch (0: epoch ends only)
	Patience    int     `json:"patience"`   // early stopping on validation loss (0: off)
	EvalBatch   int     `json:"eval_batch"`
}

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

// EpochStats summarises one finished epoch.
type EpochStats struct {
	Epoch     int     `json:"epoch"`
	TrainLoss float64 `json:"train_loss"`
	TrainAcc  float64 `json:"train_accuracy"`
	ValLoss   float64 `json:"val_loss,omitempty"`
	ValAcc    float64 `json:"val_accuracy,omitempty"`
	TestLoss  float64 `json:"test_loss"`
	TestAcc   float64 `json:"test_accuracy"`
	LR        float64 `json:"lr"`
	Seconds   float64 `json:"seconds"`
}

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
	Log   *EventLog
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

// DivergedError reports a NaN or infinite loss.
type DivergedError struct {
	Epoch, Step int
	Loss        float64
}

func (e *DivergedError) Error() string {
	return fmt.Sprintf("training diverged at epoch %d step %d: loss %v (the last good checkpoint is kept)", e.Epoch+1, e.Step+1, e.Loss)
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
			return EpochStats{}, err
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
			if err := t.Save(); err != nil {
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
		st.TrainAcc = float64(t.Pos.Correct) / float64(t.Pos.Seen)
	}
	evalStart := time.Now()
	if t.Val != nil && t.Val.Len() > 0 {
		m := Evaluate(t.Net, t.Val, t.evalBatch())
		st.ValLoss, st.ValAcc = m.Loss, m.Accuracy
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
		st.TestLoss, st.TestAcc = m.Loss, m.Accuracy
	}
	// Seconds are wall time and differ between runs; everything else in
	// the stats is bit-reproducible.
	st.Seconds = time.Since(start).Seconds()
	evalSeconds := time.Since(evalStart).Seconds()
	t.Pos.Epoch++
	t.Pos.Step = 0
	t.Pos.LossSum, t.Pos.Correct, t.Pos.Seen = 0, 0, 0
	if err := t.Log.Append("epoch", map[string]any{
		"epoch": st.Epoch, "train_loss": st.TrainLoss, "train_accuracy": st.TrainAcc,
		"val_loss": st.ValLoss, "val_accuracy": st.ValAcc, "test_loss": st.TestLoss,
		"test_accuracy": st.TestAcc, "lr": st.LR, "seconds": st.Seconds, "eval_seconds": evalSeconds, "params": t.Net.NumParams(),
		"stopped": t.Pos.Stopped,
	}); err != nil {
		return st, err
	}
	if t.Save != nil {
		if err := t.Save(); err != nil {
			return st, err
		}
	}
	return st, nil
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
