package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File names of a run directory besides the log, the lock and ckpt/.
const (
	ConfigFile  = "config.json"
	SummaryFile = "summary.json"
)

// Dir is a run directory open for writing by this process, which holds
// its lock until Close.
type Dir struct {
	Path   string
	Config Config
	Log    *Log
	lock   *os.File
}

// ErrExists is wrapped by Create's error for a directory that already
// holds a run.
var ErrExists = errors.New("already holds a run")

// Create makes the run directory path (with ckpt/), takes its lock and
// writes config.json. A directory that already holds a run is refused
// (wrapping ErrExists) rather than overwritten.
func Create(path string, cfg Config) (*Dir, error) {
	if path == "" {
		return nil, errors.New("run directory: empty path")
	}
	if _, err := os.Stat(filepath.Join(path, ConfigFile)); err == nil {
		return nil, fmt.Errorf("%s: %w (resume it or choose another directory)", path, ErrExists)
	}
	if err := os.MkdirAll(filepath.Join(path, CkptDir), 0o755); err != nil {
		return nil, &WriteError{Path: path, Err: err}
	}
	lk, err := lock(path)
	if err != nil {
		return nil, err
	}
	// Checked again under the lock: another process may have created it.
	if _, err := os.Stat(filepath.Join(path, ConfigFile)); err == nil {
		lk.Close()
		return nil, fmt.Errorf("%s: %w (resume it or choose another directory)", path, ErrExists)
	}
	cfg.Format = Format
	if err := WriteJSON(filepath.Join(path, ConfigFile), cfg); err != nil {
		lk.Close()
		return nil, err
	}
	log, err := OpenLog(filepath.Join(path, LogFile), 0)
	if err != nil {
		lk.Close()
		return nil, err
	}
	return &Dir{Path: path, Config: cfg, Log: log, lock: lk}, nil
}

// Resume reopens the run directory path at its latest usable checkpoint
// (the previous one, with the checkpoint's Warning set, when the latest is
// damaged or missing) and cuts the event log back to the length that
// checkpoint recorded.
func Resume(path string) (*Dir, *Checkpoint, error) {
	cfg, err := ReadConfig(path)
	if err != nil {
		return nil, nil, err
	}
	lk, err := lock(path)
	if err != nil {
		return nil, nil, err
	}
	ck, err := loadLatest(path)
	if err != nil {
		lk.Close()
		return nil, nil, err
	}
	log, err := OpenLog(filepath.Join(path, LogFile), ck.LogSize)
	if err != nil {
		lk.Close()
		return nil, nil, err
	}
	return &Dir{Path: path, Config: cfg, Log: log, lock: lk}, ck, nil
}

// SaveCheckpoint syncs the log and writes ckpt/last.ckpt with state and
// the log's length, keeping the previous latest as ckpt/prev.ckpt. When
// name is not empty a copy is also kept as ckpt/name (such as
// round-3.ckpt).
func (d *Dir) SaveCheckpoint(state []byte, name string) error {
	if err := d.Log.Sync(); err != nil {
		return err
	}
	c := &Checkpoint{LogSize: d.Log.Size(), State: state}
	if name != "" {
		if err := WriteFile(filepath.Join(d.Path, CkptDir, name), EncodeCheckpoint(c)); err != nil {
			return err
		}
	}
	return saveCheckpoint(d.Path, c)
}

// WriteSummary writes summary.json (a Summary, or a producer's own)
// atomically.
func (d *Dir) WriteSummary(v any) error {
	return WriteJSON(filepath.Join(d.Path, SummaryFile), v)
}

// Close closes the log and releases the lock.
func (d *Dir) Close() error {
	if d == nil {
		return nil
	}
	err := d.Log.Close()
	if d.lock != nil {
		d.lock.Close()
		d.lock = nil
	}
	return err
}

// ReadConfig reads path/config.json.
func ReadConfig(path string) (Config, error) {
	var cfg Config
	if err := readJSON(filepath.Join(path, ConfigFile), &cfg); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return cfg, fmt.Errorf("%s: not a run directory (no %s)", path, ConfigFile)
		}
		return cfg, err
	}
	if cfg.Format > Format {
		return cfg, fmt.Errorf("%s: run format %d is newer than this program reads (%d)", filepath.Join(path, ConfigFile), cfg.Format, Format)
	}
	return cfg, nil
}

// ReadSummary reads path/summary.json into v (a *Summary, or a producer's
// own type); a missing file wraps fs.ErrNotExist.
func ReadSummary(path string, v any) error {
	return readJSON(filepath.Join(path, SummaryFile), v)
}

// ReadCheckpointOf reads the latest usable checkpoint of the run directory
// path without locking it (for eval and inspect, which only read).
func ReadCheckpointOf(path string) (*Checkpoint, error) {
	if _, err := os.Stat(filepath.Join(path, CkptDir)); err != nil {
		if _, cerr := ReadConfig(path); cerr != nil {
			return nil, cerr
		}
	}
	return loadLatest(path)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// Run is a run directory read back: its configuration, its summary (nil
// while the run has not finished) and the records of its log.
type Run struct {
	Dir     string
	Config  Config
	Summary *Summary
	Records []Record
}

// Read reads the run directory path: config.json, summary.json when the
// run has finished, and log.jsonl. A corrupt file is an error that names it.
func Read(path string) (*Run, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: no such run directory", path)
		}
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", path)
	}
	r := &Run{Dir: path}
	if r.Config, err = ReadConfig(path); err != nil {
		return nil, err
	}
	var s Summary
	switch err := ReadSummary(path, &s); {
	case err == nil:
		r.Summary = &s
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	if r.Records, err = ReadLog(filepath.Join(path, LogFile)); err != nil {
		return nil, err
	}
	return r, nil
}
