package jetstream

import (
	"context"
	"encoding/json"
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
	// Watch before publishing so that no result is missed; the watcher's
	// initial values say which trials already have a stored result.
	watch, err := x.Q.Results.WatchAll(ctx)
	if err != nil {
		return nil, err
	}
	defer watch.Stop()
	stored := map[string]njs.KeyValueEntry{}
	for initial := true; initial; {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case e := <-watch.Updates():
			if e == nil {
				initial = false
			} else if _, ok := pending[e.Key()]; ok && e.Operation() == njs.KeyValuePut {
				stored[e.Key()] = e
			}
		}
	}

	var acks []njs.PubAckFuture
	var done []njs.KeyValueEntry
	for _, t := range b.Pending {
		id := t.ID()
		msgID := id
		if e, ok := stored[id]; ok {
			var r dist.Result
			if json.Unmarshal(e.Value(), &r) == nil && r.Status == dist.Done {
				done = append(done, e) // done on the server: only fetch it
				continue
			}
			// A stored failure: clear it and try again; a fresh message
			// ID keeps the duplicate window from dropping the retry.
			if err := x.Q.Results.Delete(ctx, id, njs.LastRevision(e.Revision())); err != nil {
				return nil, fmt.Errorf("clearing the failed result of %s: %w", id, err)
			}
			msgID = id + "-" + strconv.FormatUint(e.Revision(), 10)
		}
		m := nats.NewMsg(Subject)
		m.Data = t.JSON()
		m.Header.Set(TrialHeader, id)
		m.Header.Set(MaxDeliverHeader, strconv.Itoa(x.Q.Opts.MaxDeliver))
		f, err := x.Q.JS.PublishMsgAsync(m, njs.WithMsgID(msgID))
		if err != nil {
			return nil, fmt.Errorf("submitting trial %s: %w", id, err)
		}
		acks = append(acks, f)
	}
	for _, f := range acks {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-f.Ok():
		case err := <-f.Err():
			return nil, fmt.Errorf("submitting trial %s: %w", f.Msg().Header.Get(TrialHeader), err)
		}
	}

	collect := func(e njs.KeyValueEntry) error {
		t, ok := pending[e.Key()]
		if !ok || e.Operation() != njs.KeyValuePut {
			return nil
		}
		var r dist.Result
		if err := json.Unmarshal(e.Value(), &r); err != nil {
			return fmt.Errorf("result of %s: %w", e.Key(), err)
		}
		if r.Trial.Command == "" {
			r.Trial = t
		}
		if r.Status == dist.Done {
			if err := x.fetchRun(ctx, dir, r.ID); err != nil {
				return fmt.Errorf("run directory of %s: %w", r.ID, err)
			}
		} else {
			os.RemoveAll(filepath.Join(dir, r.ID))
		}
		if err := dist.WriteResult(dir, r); err != nil {
			return err
		}
		delete(pending, r.ID)
		b.Results[r.ID] = r
		if onResult != nil {
			onResult(r)
		}
		return nil
	}
	for _, e := range done {
		if err := collect(e); err != nil {
			return nil, err
		}
	}
	for len(pending) > 0 {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case e := <-watch.Updates():
			if e == nil {
				continue
			}
			if err := collect(e); err != nil {
				return nil, err
			}
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
