package dist

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// Executor runs a batch of trials. Every trial's run directory ends in
// dir/<id> with its result.json; trials already done there are not run
// again, and a trial listed twice runs once. Results come back in the order
// of trials (duplicates share one), and onResult, if not nil, is called once
// per distinct trial as it finishes, never concurrently. A trial's failure is
// a failed Result, not an error; the error is for the executor itself
// (cancelled context, unwritable directory, lost queue).
type Executor interface {
	Execute(ctx context.Context, dir string, trials []Trial, onResult func(Result)) ([]Result, error)
}

// Batch is the bookkeeping every executor shares: distinct trials by ID,
// the results found in dir, and the ones still to run.
type Batch struct {
	Dir     string
	Trials  []Trial
	Results map[string]Result
	// Pending are the distinct trials without a done result, in first-seen
	// order.
	Pending []Trial
}

// NewBatch reads dir/<id>/result.json of every trial; done ones are kept,
// failed ones are pending again (a retry), the rest pending.
func NewBatch(dir string, trials []Trial) (*Batch, error) {
	b := &Batch{Dir: dir, Trials: trials, Results: map[string]Result{}}
	seen := map[string]bool{}
	for _, t := range trials {
		id := t.ID()
		if seen[id] {
			continue
		}
		seen[id] = true
		r, err := ReadResult(dir, id)
		if err != nil {
			return nil, err
		}
		if r != nil && r.Status == Done {
			b.Results[id] = *r
			continue
		}
		b.Pending = append(b.Pending, t)
	}
	return b, nil
}

// Ordered returns the results in the order of the batch's trials; it fails
// if any trial has none.
func (b *Batch) Ordered() ([]Result, error) {
	out := make([]Result, len(b.Trials))
	for i, t := range b.Trials {
		r, ok := b.Results[t.ID()]
		if !ok {
			return nil, fmt.Errorf("trial %s (%s) has no result", t.ID(), t)
		}
		out[i] = r
	}
	return out, nil
}

// Pool runs trials on goroutines of this process. A failed trial is not
// retried: in one process a runner's failure is deterministic.
type Pool struct {
	// Workers is the number of trials run at once (0: GOMAXPROCS).
	Workers int
	// Registry holds the runners (nil: Default).
	Registry *Registry
}

// Execute implements Executor.
func (p *Pool) Execute(ctx context.Context, dir string, trials []Trial, onResult func(Result)) ([]Result, error) {
	b, err := NewBatch(dir, trials)
	if err != nil {
		return nil, err
	}
	reg := p.Registry
	if reg == nil {
		reg = Default
	}
	n := p.Workers
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	jobs := make(chan Trial)
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range jobs {
				r := reg.Run(ctx, t, filepath.Join(dir, t.ID()))
				if ctx.Err() != nil {
					continue // interrupted, not failed: left pending for a resume
				}
				r.Attempts, r.Worker = 1, workerName()
				err := WriteResult(dir, r)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if err == nil {
					b.Results[r.ID] = r
					if onResult != nil {
						onResult(r)
					}
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, t := range b.Pending {
		select {
		case jobs <- t:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return b.Ordered()
}

func workerName() string {
	h, err := os.Hostname()
	if err != nil {
		h = "local"
	}
	return fmt.Sprintf("%s/%d", h, os.Getpid())
}

// WorkerName is the default name of a worker in this process: host/pid.
func WorkerName() string { return workerName() }
