package train

import (
	"math/rand/v2"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
	"github.com/nadir-ml/nadir/run"
)

// RunConfig is a run's config.json, whose schema package run owns.
type RunConfig = run.Config

// Datasets are the splits of a run, normalised with training statistics.
type Datasets struct {
	Train, Val, Test *data.Dataset
}

// LoadData loads and normalises the run's data. The validation split (if
// any) is carved from the training set with a generator derived from the
// seed, so it is the same on resume.
func LoadData(cfg RunConfig) (Datasets, error) {
	tr, te, err := data.Load(cfg.Data, data.LoadOptions{Label: cfg.Label, MaxTrain: cfg.MaxTrain, Seed: cfg.Train.Seed})
	if err != nil {
		return Datasets{}, err
	}
	ds := Datasets{Train: tr, Test: te}
	if cfg.ValFrac > 0 {
		ds.Train, ds.Val = tr.Split(cfg.ValFrac, rand.New(rand.NewPCG(cfg.Train.Seed, 0xda7a)))
	}
	norm := data.FitNormalizer(ds.Train, len(ds.Train.Shape) == 1)
	for _, d := range []*data.Dataset{ds.Train, ds.Val, ds.Test} {
		if d != nil {
			norm.Apply(d)
		}
	}
	return ds, nil
}

// Session is a run directory open for a trainer: config.json, log.jsonl,
// ckpt/, summary.json, held locked until Close.
type Session struct {
	Run *run.Dir
	Dir string
	Cfg RunConfig
	Log *run.Log
}

// CreateSession makes the run directory and writes config.json. An
// existing run in dir is refused (run.ErrExists) rather than overwritten.
func CreateSession(dir string, cfg RunConfig) (*Session, error) {
	d, err := run.Create(dir, cfg)
	if err != nil {
		return nil, err
	}
	return &Session{Run: d, Dir: d.Path, Cfg: d.Config, Log: d.Log}, nil
}

// OpenSession reopens a run directory at its latest usable checkpoint; the
// event log is cut back to the length the checkpoint recorded. The
// checkpoint's Warning is set when the latest was damaged and the previous
// one is used.
func OpenSession(dir string) (*Session, *Checkpoint, error) {
	d, rc, err := run.Resume(dir)
	if err != nil {
		return nil, nil, err
	}
	ck, err := decodeCheckpoint(rc)
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	return &Session{Run: d, Dir: d.Path, Cfg: d.Config, Log: d.Log}, ck, nil
}

// Close closes the log and releases the directory.
func (s *Session) Close() error { return s.Run.Close() }

// SaveCheckpoint writes ckpt/last.ckpt, keeping the previous one (and,
// when name is not empty, a named copy such as round-3.ckpt).
func (s *Session) SaveCheckpoint(t *Trainer, extra []byte, name string) error {
	ck, err := NewCheckpoint(t, extra)
	if err != nil {
		return err
	}
	b, err := ck.Encode()
	if err != nil {
		return err
	}
	return s.Run.SaveCheckpoint(b, name)
}

// WriteSummary writes summary.json atomically.
func (s *Session) WriteSummary(v any) error {
	return s.Run.WriteSummary(v)
}

// NewTrainer wires a trainer for the session's config.
func (s *Session) NewTrainer(net *nn.Net, opt optim.Optimizer, ds Datasets) (*Trainer, error) {
	c := s.Cfg.Train
	sched, err := optim.NewSchedule(c.Schedule, c.LR)
	if err != nil {
		return nil, err
	}
	return &Trainer{Net: net, Opt: opt, Sched: sched, Cfg: c, Train: ds.Train, Val: ds.Val, Test: ds.Test, Log: s.Log}, nil
}
