package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/nadir-ml/nadir/dist"
)

// Worker pulls trials from a Queue and runs them one at a time.
type Worker struct {
	Q *Queue
	// Registry holds the runners (nil: dist.Default).
	Registry *dist.Registry
	// Dir is the scratch directory for run directories before upload
	// (empty: a fresh temporary directory).
	Dir string
	// Name identifies the worker in results (empty: host/pid).
	Name string
	// Grace is how long a trial in progress may still run after Run's
	// context is cancelled before it is stopped and handed back (Nak).
	Grace time.Duration
	// Log receives one line per trial (nil: slog.Default()).
	Log *slog.Logger
	// OnStart, if set, is called when a trial starts, with its delivery
	// count (tests use it).
	OnStart func(t dist.Trial, delivery int)
}

// Run pulls and runs trials until ctx is cancelled (graceful stop: the
// current trial gets Grace to finish, else it is stopped and negatively
// acknowledged, so that another worker takes it at once) or the connection
// is closed (a killed worker: its trial is redelivered after AckWait).
func (w *Worker) Run(ctx context.Context) error {
	if w.Registry == nil {
		w.Registry = dist.Default
	}
	if w.Name == "" {
		w.Name = dist.WorkerName()
	}
	if w.Log == nil {
		w.Log = slog.Default()
	}
	if w.Dir == "" {
		d, err := os.MkdirTemp("", "nadir-worker-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		w.Dir = d
	}
	for ctx.Err() == nil {
		if w.Q.NC.IsClosed() {
			return nats.ErrConnectionClosed
		}
		batch, err := w.Q.Consumer.Fetch(1, njs.FetchMaxWait(time.Second))
		if err != nil {
			if errors.Is(err, nats.ErrConnectionClosed) {
				return err
			}
			w.Log.Warn("fetch", "worker", w.Name, "err", err)
			sleep(ctx, time.Second)
			continue
		}
		for msg := range batch.Messages() {
			w.handle(ctx, msg)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
			if errors.Is(err, nats.ErrConnectionClosed) {
				return err
			}
			w.Log.Warn("fetch", "worker", w.Name, "err", err)
			sleep(ctx, time.Second)
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// handle runs one delivered trial through to ack, nak or term.
func (w *Worker) handle(ctx context.Context, msg njs.Msg) {
	meta, err := msg.Metadata()
	if err != nil {
		w.Log.Warn("trial without metadata", "worker", w.Name, "err", err)
		msg.Term()
		return
	}
	delivery := int(meta.NumDelivered)
	var t dist.Trial
	if err := json.Unmarshal(msg.Data(), &t); err != nil || t.ID() != msg.Headers().Get(TrialHeader) {
		// Not a trial this version can read: dead-letter it under the ID
		// it claims, so the submitter hears of it.
		if id := msg.Headers().Get(TrialHeader); id != "" {
			w.store(dist.Result{ID: id, Status: dist.Failed, Attempts: delivery, Worker: w.Name,
				Error: fmt.Sprintf("worker %s cannot read the trial message (%v)", w.Name, err)})
		}
		msg.Term()
		return
	}
	id := t.ID()
	bg := context.Background()
	if e, err := w.Q.Results.Get(bg, id); err == nil {
		var r dist.Result
		if json.Unmarshal(e.Value(), &r) == nil && r.Status == dist.Done {
			msg.Ack() // idempotent: done by someone already
			return
		}
	}
	if w.OnStart != nil {
		w.OnStart(t, delivery)
	}
	start := time.Now()
	res, stopped := w.run(ctx, msg, t)
	res.Attempts, res.Worker = delivery, w.Name
	if stopped {
		// Graceful stop or killed: hand the trial back. On a closed
		// connection the Nak is lost and AckWait brings it back instead.
		msg.Nak()
		w.Log.Info("trial handed back", "worker", w.Name, "id", id)
		return
	}
	dir := filepath.Join(w.Dir, id)
	defer os.RemoveAll(dir)
	if res.Status == dist.Done {
		if err := w.upload(id, dir); err != nil {
			res.Status, res.Summary, res.Error = dist.Failed, nil, "storing the run directory: "+err.Error()
		}
	}
	if res.Status == dist.Failed && delivery < w.Q.Opts.MaxDeliver {
		w.Log.Warn("trial failed; retrying", "worker", w.Name, "id", id, "delivery", delivery, "err", res.Error)
		msg.NakWithDelay(100 * time.Millisecond)
		return
	}
	if err := w.store(res); err != nil {
		w.Log.Warn("storing result", "worker", w.Name, "id", id, "err", err)
		msg.Nak()
		return
	}
	if res.Status == dist.Failed {
		msg.TermWithReason("dead-lettered: " + firstLine(res.Error))
	} else if err := msg.DoubleAck(bg); err != nil {
		// The result is stored; a redelivery will find it and ack.
		w.Log.Warn("ack", "worker", w.Name, "id", id, "err", err)
	}
	w.Log.Info("trial "+res.Status, "worker", w.Name, "id", id, "seconds", time.Since(start).Seconds())
}

// run executes the trial with heartbeats; stopped reports that it was
// interrupted (worker stopping or connection lost) rather than finished.
func (w *Worker) run(ctx context.Context, msg njs.Msg, t dist.Trial) (dist.Result, bool) {
	rctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	defer close(done)
	go func() {
		beat := time.NewTicker(w.Q.Opts.AckWait / 3)
		defer beat.Stop()
		stopping := ctx.Done()
		var grace <-chan time.Time
		for {
			select {
			case <-done:
				return
			case <-beat.C:
				if err := msg.InProgress(); err != nil && w.Q.NC.IsClosed() {
					cancel() // killed: nobody can take the result
					return
				}
			case <-stopping:
				stopping = nil
				grace = time.After(w.Grace)
			case <-grace:
				cancel()
				return
			}
		}
	}()
	res := w.Registry.Run(rctx, t, filepath.Join(w.Dir, t.ID()))
	return res, res.Status != dist.Done && (rctx.Err() != nil || w.Q.NC.IsClosed())
}

// store writes a result under its ID unless one is there. A stored done
// result is never replaced; a stored failure is replaced by a success (a
// resubmitted trial that now works).
func (w *Worker) store(r dist.Result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	ctx := context.Background()
	_, err = w.Q.Results.Create(ctx, r.ID, b)
	if !errors.Is(err, njs.ErrKeyExists) {
		return err
	}
	e, gerr := w.Q.Results.Get(ctx, r.ID)
	if gerr != nil {
		return gerr
	}
	var old dist.Result
	if json.Unmarshal(e.Value(), &old) == nil && old.Status == dist.Failed && r.Status == dist.Done {
		_, err = w.Q.Results.Update(ctx, r.ID, b, e.Revision())
		return err
	}
	return nil // first result wins
}

// upload stores the run directory as a tar under the trial ID.
func (w *Worker) upload(id, dir string) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeTar(pw, dir)) }()
	_, err := w.Q.Runs.Put(context.Background(), njs.ObjectMeta{Name: id}, pr)
	pr.Close()
	return err
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
