package dist

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
)

// Trial is one job: a registered command, its arguments and a seed.
type Trial struct {
	Command string   `json:"command"`
	Args    []string `json:"args"`
	Seed    uint64   `json:"seed"`
}

// canonical is the trial with nil and empty argument lists made equal, so
// that they hash alike.
func (t Trial) canonical() Trial {
	if t.Args == nil {
		t.Args = []string{}
	}
	return t
}

// JSON is the trial's canonical JSON (fields in declaration order).
func (t Trial) JSON() []byte {
	b, err := json.Marshal(t.canonical())
	if err != nil {
		panic(err) // strings and an integer always marshal
	}
	return b
}

// ID is the trial's content-derived identity: the first 128 bits of the
// SHA-256 of its canonical JSON, in hex.
func (t Trial) ID() string {
	h := sha256.Sum256(t.JSON())
	return hex.EncodeToString(h[:16])
}

func (t Trial) String() string {
	return fmt.Sprintf("%s %s (seed %d)", t.Command, strings.Join(t.Args, " "), t.Seed)
}

// Status of a finished trial.
const (
	Done   = "done"
	Failed = "failed"
)

// Result is the outcome of a trial, kept by its ID.
type Result struct {
	ID     string `json:"id"`
	Trial  Trial  `json:"trial"`
	Status string `json:"status"`
	// Summary is the runner's summary JSON (done only).
	Summary json.RawMessage `json:"summary,omitempty"`
	// Error is the last attempt's error (failed only).
	Error string `json:"error,omitempty"`
	// Attempts counts deliveries of the trial, including the one that
	// produced this result.
	Attempts int    `json:"attempts"`
	Worker   string `json:"worker,omitempty"`
}

// ResultFile is the name of the result record inside a trial's directory.
const ResultFile = "result.json"

// ReadResult reads DIR/<id>/result.json; a missing file is (nil, nil).
func ReadResult(dir, id string) (*Result, error) {
	b, err := os.ReadFile(filepath.Join(dir, id, ResultFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s/%s/%s: %v", dir, id, ResultFile, err)
	}
	return &r, nil
}

// WriteResult writes DIR/<id>/result.json atomically (rename), creating
// the directory.
func WriteResult(dir string, r Result) error {
	d := filepath.Join(dir, r.ID)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(d, ResultFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(d, ResultFile))
}

// Runner executes one trial, writing its run directory dir (which does not
// exist yet), and returns the run's summary JSON. It must stop soon after
// ctx is cancelled.
type Runner func(ctx context.Context, t Trial, dir string) (summary []byte, err error)

// Registry maps command names to runners.
type Registry struct {
	mu sync.RWMutex
	m  map[string]Runner
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{m: map[string]Runner{}} }

// Register adds (or replaces) the runner of a command.
func (r *Registry) Register(name string, fn Runner) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[name] = fn
}

// Lookup returns the runner of a command.
func (r *Registry) Lookup(name string) (Runner, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	fn, ok := r.m[name]
	return fn, ok
}

// Names lists the registered commands, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var ns []string
	for n := range r.m {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// Default is the registry that workers use unless told otherwise.
var Default = NewRegistry()

// Register adds a runner to Default.
func Register(name string, fn Runner) { Default.Register(name, fn) }

func init() {
	Register("noop", runNoop)
	Register("fail", runFail)
}

// runNoop writes a run directory with a summary naming the trial: the
// smallest real trial, for measuring an executor's own overhead.
func runNoop(ctx context.Context, t Trial, dir string) ([]byte, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	sum, _ := json.Marshal(map[string]any{"command": "noop", "seed": t.Seed, "args": t.canonical().Args})
	return sum, os.WriteFile(filepath.Join(dir, "summary.json"), sum, 0o644)
}

// runFail fails with its arguments as the error message, for testing the
// dead-letter path.
func runFail(ctx context.Context, t Trial, dir string) ([]byte, error) {
	msg := strings.Join(t.Args, " ")
	if msg == "" {
		msg = "deliberate failure"
	}
	return nil, errors.New(msg)
}

// Run executes t with the registry's runner in dir, turning an unknown
// command, an error or a panic into a failed Result (Attempts and Worker
// are left to the caller). Partial files of an earlier attempt in dir are
// removed first: a trial always starts from scratch, so a redelivered trial
// equals one that ran once.
func (r *Registry) Run(ctx context.Context, t Trial, dir string) (res Result) {
	res = Result{ID: t.ID(), Trial: t.canonical()}
	fn, ok := r.Lookup(t.Command)
	if !ok {
		res.Status, res.Error = Failed, fmt.Sprintf("unknown command %q (registered: %s)", t.Command, strings.Join(r.Names(), ", "))
		return res
	}
	if err := os.RemoveAll(dir); err != nil {
		res.Status, res.Error = Failed, err.Error()
		return res
	}
	defer func() {
		if p := recover(); p != nil {
			res.Status, res.Error = Failed, fmt.Sprintf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	sum, err := fn(ctx, t, dir)
	if err != nil {
		res.Status, res.Error = Failed, err.Error()
		return res
	}
	if !json.Valid(sum) {
		res.Status, res.Error = Failed, fmt.Sprintf("runner %q returned a summary that is not JSON", t.Command)
		return res
	}
	res.Status, res.Summary = Done, json.RawMessage(sum)
	return res
}
