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
	"strconv"
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
	if ctx.Err() != nil {
		msg.Nak() // pulled while stopping: leave it to another worker
		return
	}
	meta, err := msg.Metadata()
	if err != nil {
		w.Log.Warn("trial without metadata", "worker", w.Name, "err", err)
		msg.Term()
		return
	}
	delivery := int(meta.NumDelivered)
	var t dist.Trial
	err = json.Unmarshal(msg.Data(), &t)
	if claimed := msg.Headers().Get(TrialHeader); err != nil || t.ID() != claimed {
		// Not a trial this version can read: dead-letter it under the ID
		// it claims, so the submitter hears of it.
		if err == nil {
			err = fmt.Errorf("its content hashes to %s", t.ID())
		}
		if claimed != "" {
			w.store(dist.Result{ID: claimed, Status: dist.Failed, Attempts: delivery, Worker: w.Name,
				Error: fmt.Sprintf("worker %s cannot read trial message %s: %v", w.Name, claimed, err)})
		}
		msg.Term()
		return
	}
	id := t.ID()
	bg := context.Background()
	if e, err := w.Q.Results.Get(bg, id); err == nil && isDone(e.Value()) {
		msg.Ack() // idempotent: done by someone already
		return
	}
	maxDeliver, err := strconv.Atoi(msg.Headers().Get(MaxDeliverHeader))
	if err != nil || maxDeliver < 1 {
		maxDeliver = Options{}.withDefaults().MaxDeliver
	}
	if delivery > maxDeliver {
		// Every worker that held it before was lost or overran AckWait.
		w.store(dist.Result{ID: id, Trial: t, Status: dist.Failed, Attempts: delivery - 1, Worker: w.Name,
			Error: fmt.Sprintf("delivered %d times without a result: every worker holding it was lost or ran past AckWait without a heartbeat", delivery-1)})
		msg.TermWithReason("dead-lettered: workers lost")
		return
	}
	// The submitter may have changed AckWait since this worker started:
	// heartbeats follow the consumer as it is now.
	ackWait := w.Q.Opts.AckWait
	if info, err := w.Q.Consumer.Info(bg); err == nil {
		ackWait = info.Config.AckWait
	}
	if w.OnStart != nil {
		w.OnStart(t, delivery)
	}
	start := time.Now()
	dir := filepath.Join(w.Dir, id)
	defer os.RemoveAll(dir)
	// Heartbeats run until the trial is acknowledged, so that a long
	// upload is not mistaken for a dead worker either.
	rctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer w.heartbeat(ctx, msg, ackWait, cancel)()
	res := w.Registry.Run(rctx, t, dir)
	res.Attempts, res.Worker = delivery, w.Name
	if res.Status != dist.Done && (rctx.Err() != nil || w.Q.NC.IsClosed()) {
		// Graceful stop or killed: hand the trial back. On a closed
		// connection the Nak is lost and AckWait brings it back instead.
		msg.Nak()
		w.Log.Info("trial handed back", "worker", w.Name, "id", id)
		return
	}
	if res.Status == dist.Done {
		if e, err := w.Q.Results.Get(bg, id); err == nil && isDone(e.Value()) {
			msg.Ack() // another delivery finished first: keep its run
			return
		}
		if err := w.upload(id, dir); err != nil {
			res.Status, res.Summary, res.Error = dist.Failed, nil, "storing the run directory: "+err.Error()
		}
	}
	if res.Status == dist.Failed && delivery < maxDeliver {
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

func isDone(result []byte) bool {
	var r dist.Result
	return json.Unmarshal(result, &r) == nil && r.Status == dist.Done
}

// heartbeat tells the server every AckWait/3 that the trial is in
// progress. When the worker is stopped (ctx) it calls cancel after Grace;
// when the connection is gone it calls cancel at once (nobody could take
// the result). The returned function stops the heartbeats.
func (w *Worker) heartbeat(ctx context.Context, msg njs.Msg, ackWait time.Duration, cancel func()) func() {
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		beat := time.NewTicker(max(ackWait/3, time.Millisecond))
		defer beat.Stop()
		stopping := ctx.Done()
		var grace <-chan time.Time
		for {
			select {
			case <-done:
				return
			case <-beat.C:
				if err := msg.InProgress(); err != nil && w.Q.NC.IsClosed() {
					cancel()
					return
				}
			case <-stopping:
				stopping = nil
				grace = time.After(w.Grace)
			case <-grace:
				cancel()
			}
		}
	}()
	return func() { close(done); <-exited }
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
