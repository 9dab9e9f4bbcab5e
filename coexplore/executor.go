package coexplore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
	"github.com/nadir-ml/nadir/train"
)

// Trial is one child to train: self-describing (everything a worker on
// another machine needs, as JSON) and identified by a hash of its content,
// so equal trials share an ID and one result.
type Trial struct {
	ID    string `json:"id"`
	Model string `json:"model"` // nn.ParseModel grammar
	Act   string `json:"act"`
	// Data source and split: the first MaxTrain training examples, of
	// which ValFrac (drawn with DataSeed) are held out for scoring.
	Data     string       `json:"data"`
	MaxTrain int          `json:"max_train"`
	ValFrac  float64      `json:"val_frac"`
	DataSeed uint64       `json:"data_seed"`
	Epochs   int          `json:"epochs"`
	Train    train.Config `json:"train"`
}

// NewTrial fills in the trial's ID from its content.
func NewTrial(t Trial) Trial {
	t.ID = ""
	b, _ := json.Marshal(t)
	h := sha256.Sum256(b)
	t.ID = hex.EncodeToString(h[:12])
	return t
}

// Result is a trained child's score.
type Result struct {
	ID          string  `json:"id"`
	ValAccuracy float64 `json:"val_accuracy"`
	ValLoss     float64 `json:"val_loss"`
	Params      int     `json:"params"`
	Seconds     float64 `json:"seconds"`
	// Err is set when the trial could not be run (bad model, data);
	// the search treats the child as failed.
	Err string `json:"error,omitempty"`
}

// Executor trains children. Run returns one result per trial, in order;
// an error means the executor itself failed (cancelled, lost workers),
// not a child.
type Executor interface {
	Run(ctx context.Context, trials []Trial) ([]Result, error)
}

// Local is an Executor of Workers goroutines on this machine. Datasets are
// loaded once per (data, subset, split) and shared.
type Local struct {
	Workers int
	mu      sync.Mutex
	data    map[string]*dataEntry
}

type dataEntry struct {
	once sync.Once
	ds   train.Datasets
	err  error
}

// NewLocal returns a pool of n workers (at least one).
func NewLocal(n int) *Local { return &Local{Workers: max(1, n), data: map[string]*dataEntry{}} }

// Run trains the trials, Workers at a time.
func (l *Local) Run(ctx context.Context, trials []Trial) ([]Result, error) {
	out := make([]Result, len(trials))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(l.Workers, len(trials)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = l.run(ctx, trials[i])
			}
		}()
	}
	for i := range trials {
		select {
		case next <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(next)
	wg.Wait()
	return out, ctx.Err()
}

func (l *Local) datasets(t Trial) (train.Datasets, error) {
	key := fmt.Sprintf("%s|%d|%g|%d", t.Data, t.MaxTrain, t.ValFrac, t.DataSeed)
	l.mu.Lock()
	e, ok := l.data[key]
	if !ok {
		e = &dataEntry{}
		l.data[key] = e
	}
	l.mu.Unlock()
	e.once.Do(func() {
		e.ds, e.err = LoadTrialData(t)
	})
	return e.ds, e.err
}

// LoadTrialData loads a trial's training and validation splits
// (normalised with training statistics); the test set is not used.
func LoadTrialData(t Trial) (train.Datasets, error) {
	if t.ValFrac <= 0 || t.ValFrac >= 1 {
		return train.Datasets{}, fmt.Errorf("trial %s: validation fraction %v outside (0,1)", t.ID, t.ValFrac)
	}
	ds, err := train.LoadData(train.RunConfig{Data: t.Data, MaxTrain: t.MaxTrain, ValFrac: t.ValFrac, Train: train.Config{Seed: t.DataSeed}})
	if err != nil {
		return train.Datasets{}, err
	}
	ds.Test = nil
	return ds, nil
}

func (l *Local) run(ctx context.Context, t Trial) Result {
	ds, err := l.datasets(t)
	if err != nil {
		return Result{ID: t.ID, Err: err.Error()}
	}
	return RunTrial(ctx, t, ds)
}

// RunTrial trains one child on ds and scores it on the validation split.
// It is deterministic in the trial's content.
func RunTrial(ctx context.Context, t Trial, ds train.Datasets) Result {
	start := time.Now()
	res := Result{ID: t.ID}
	act, err := nn.ParseActivation(t.Act)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	net, err := nn.ParseModel(t.Model, ds.Train.Shape, ds.Train.Classes, act, rand.New(rand.NewPCG(t.Train.Seed, 0x30de1)))
	if err != nil {
		res.Err = err.Error()
		return res
	}
	opt, err := optim.New(t.Train.Optimizer, t.Train.WeightDecay)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	sched, err := optim.NewSchedule(t.Train.Schedule, t.Train.LR)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	tr := &train.Trainer{Net: net, Opt: opt, Sched: sched, Cfg: t.Train, Train: ds.Train}
	tr.BeginPhase(t.Epochs)
	if _, err := tr.RunPhase(ctx); err != nil {
		res.Err = err.Error()
		return res
	}
	m := train.Evaluate(net, ds.Val, 500)
	res.ValAccuracy, res.ValLoss, res.Params = m.Accuracy, m.Loss, net.NumParams()
	res.Seconds = time.Since(start).Seconds()
	return res
}
