package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/nadir-ml/nadir/dist"
)

// Executor submits trials to a Queue and collects their results and run
// directories; it implements dist.Executor. Workers may run anywhere.
type Executor struct {
	Q *Queue
}

var _ dist.Executor = (*Executor)(nil)

// Execute implements dist.Executor. Trials done in dir are skipped; trials
// whose result is already stored on the server (by an earlier submission)
// are not run again but only fetched; stored failures are cleared and
// resubmitted.
func (x *Executor) Execute(ctx context.Context, dir string, trials []dist.Trial, onResult func(dist.Result)) ([]dist.Result, error) {
	b, err := dist.NewBatch(dir, trials)
	if err != nil {
		return nil, err
	}
	if len(b.Pending) == 0 {
		return b.Ordered()
	}
	pending := map[string]dist.Trial{}
	for _, t := range b.Pending {
		pending[t.ID()] = t
	}
	// Turn max-deliveries advisories (a trial whose every worker died or
	// overran AckWait) into dead-letter records.
	sub, err := x.Q.NC.Subscribe(fmt.Sprintf("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.%s.%s", Stream, Consumer), func(m *nats.Msg) {
		x.deadLetter(m.Data)
	})
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()

	// Watch before publishing so that no result is missed.
	watch, err := x.Q.Results.WatchAll(ctx)
	if err != nil {
		return nil, err
	}
	defer watch.Stop()

	for _, t := range b.Pending {
		id := t.ID()
		msgID := id
		if e, err := x.Q.Results.Get(ctx, id); err == nil {
			var r dist.Result
			if json.Unmarshal(e.Value(), &r) == nil && r.Status == dist.Done {
				continue // done on the server: the watcher delivers it
			}
			// A stored failure: clear it and try again; a fresh message
			// ID keeps the duplicate window from dropping the retry.
			if err := x.Q.Results.Delete(ctx, id, njs.LastRevision(e.Revision())); err != nil {
				return nil, fmt.Errorf("clearing the failed result of %s: %w", id, err)
			}
			msgID = id + "-" + strconv.FormatUint(e.Revision(), 10)
		} else if !errors.Is(err, njs.ErrKeyNotFound) {
			return nil, err
		}
		m := nats.NewMsg(Subject)
		m.Data = t.JSON()
		m.Header.Set(TrialHeader, id)
		if _, err := x.Q.JS.PublishMsg(ctx, m, njs.WithMsgID(msgID)); err != nil {
			return nil, fmt.Errorf("submitting trial %s: %w", id, err)
		}
	}

	for len(pending) > 0 {
		var e njs.KeyValueEntry
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case e = <-watch.Updates():
		}
		if e == nil || e.Operation() != njs.KeyValuePut {
			continue // end of initial values, or a deletion
		}
		t, ok := pending[e.Key()]
		if !ok {
			continue
		}
		var r dist.Result
		if err := json.Unmarshal(e.Value(), &r); err != nil {
			return nil, fmt.Errorf("result of %s: %w", e.Key(), err)
		}
		if r.Trial.Command == "" {
			r.Trial = t
		}
		if r.Status == dist.Done {
			if err := x.fetchRun(ctx, dir, r.ID); err != nil {
				return nil, fmt.Errorf("run directory of %s: %w", r.ID, err)
			}
		} else {
			os.RemoveAll(filepath.Join(dir, r.ID))
		}
		if err := dist.WriteResult(dir, r); err != nil {
			return nil, err
		}
		delete(pending, r.ID)
		b.Results[r.ID] = r
		if onResult != nil {
			onResult(r)
		}
	}
	return b.Ordered()
}

// fetchRun replaces dir/<id> with the stored run directory.
func (x *Executor) fetchRun(ctx context.Context, dir, id string) error {
	obj, err := x.Q.Runs.Get(ctx, id)
	if err != nil {
		return err
	}
	defer obj.Close()
	d := filepath.Join(dir, id)
	if err := os.RemoveAll(d); err != nil {
		return err
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	return readTar(obj, d)
}

// deadLetter records a failed result for a trial that reached MaxDeliver
// without any worker reporting back, and removes its message.
func (x *Executor) deadLetter(advisory []byte) {
	var a struct {
		StreamSeq  uint64 `json:"stream_seq"`
		Deliveries uint64 `json:"deliveries"`
	}
	if json.Unmarshal(advisory, &a) != nil || a.StreamSeq == 0 {
		return
	}
	ctx := context.Background()
	m, err := x.Q.Stream.GetMsg(ctx, a.StreamSeq)
	if err != nil {
		return // already gone: a worker finished or terminated it
	}
	id := m.Header.Get(TrialHeader)
	var t dist.Trial
	if json.Unmarshal(m.Data, &t) != nil || id == "" {
		return
	}
	r := dist.Result{ID: id, Trial: t, Status: dist.Failed, Attempts: int(a.Deliveries),
		Error: fmt.Sprintf("delivered %d times without a result: every worker holding it was lost or ran past AckWait without a heartbeat", a.Deliveries)}
	if b, err := json.Marshal(r); err == nil {
		x.Q.Results.Create(ctx, id, b)
	}
	x.Q.Stream.DeleteMsg(ctx, a.StreamSeq)
}
