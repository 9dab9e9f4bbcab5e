package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
)

// RunConfig is a run's config.json: every flag, resolved. A later command
// (resume, report) reads only the run directory, so everything needed to
// rebuild the run is here.
type RunConfig struct {
	Command  string  `json:"command"` // "train" or "grow"
	Data     string  `json:"data"`
	Label    string  `json:"label,omitempty"`
	MaxTrain int     `json:"max_train"`
	ValFrac  float64 `json:"val_frac"`
	Model    string  `json:"model"`
	Act      string  `json:"act"`
	Epochs   int     `json:"epochs"`
	Threads  int     `json:"threads"`
	// MaxMemory caps the memory training may need, in bytes (0: what the
	// system has available); see CheckModelMemory.
	MaxMemory int64  `json:"max_memory,omitempty"`
	Train     Config `json:"train"`
	// Grow holds the growth engine's own resolved flags.
	Grow json.RawMessage `json:"grow,omitempty"`
}

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

// Session is an open run directory: config.json, log.jsonl, ckpt/,
// summary.json.
type Session struct {
	Dir string
	Cfg RunConfig
	Log *EventLog
}

// CreateSession makes the run directory and writes config.json. An
// existing run in dir is refused rather than overwritten.
func CreateSession(dir string, cfg RunConfig) (*Session, error) {
	if dir == "" {
		return nil, errors.New("--out: a run directory is required")
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err == nil {
		return nil, fmt.Errorf("--out %s: already holds a run (use `nadir resume %s` or another directory)", dir, dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, "ckpt"), 0o755); err != nil {
		return nil, err
	}
	if err := WriteJSONAtomic(filepath.Join(dir, "config.json"), cfg); err != nil {
		return nil, err
	}
	log, err := OpenEventLog(filepath.Join(dir, "log.jsonl"), 0)
	if err != nil {
		return nil, err
	}
	return &Session{Dir: dir, Cfg: cfg, Log: log}, nil
}

// OpenSession reopens a run directory at its last checkpoint; the event log
// is cut back to the length the checkpoint recorded.
func OpenSession(dir string) (*Session, *Checkpoint, error) {
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("%s: not a run directory (no config.json)", dir)
		}
		return nil, nil, err
	}
	var cfg RunConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, nil, fmt.Errorf("%s/config.json: %v", dir, err)
	}
	ck, err := LoadCheckpoint(filepath.Join(dir, "ckpt", "last.ckpt"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("%s: no checkpoint yet (ckpt/last.ckpt); start the run again", dir)
		}
		return nil, nil, err
	}
	log, err := OpenEventLog(filepath.Join(dir, "log.jsonl"), ck.LogSize)
	if err != nil {
		return nil, nil, err
	}
	return &Session{Dir: dir, Cfg: cfg, Log: log}, ck, nil
}

// SaveCheckpoint writes ckpt/last.ckpt (and, when name is not empty, a
// named copy such as round-3.ckpt).
func (s *Session) SaveCheckpoint(t *Trainer, extra []byte, name string) error {
	ck, err := NewCheckpoint(t, extra)
	if err != nil {
		return err
	}
	if name != "" {
		if err := ck.Save(filepath.Join(s.Dir, "ckpt", name)); err != nil {
			return err
		}
	}
	return ck.Save(filepath.Join(s.Dir, "ckpt", "last.ckpt"))
}

// WriteSummary writes summary.json atomically.
func (s *Session) WriteSummary(v any) error {
	return WriteJSONAtomic(filepath.Join(s.Dir, "summary.json"), v)
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
