package jetstream_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nadir-ml/nadir/dist"
	"github.com/nadir-ml/nadir/dist/jetstream"
)

// TestGracefulStop: a stopped worker lets its trial finish within Grace;
// past Grace it hands the trial back (Nak), so another worker takes it at
// once rather than after AckWait (30s here, longer than the test).
func TestGracefulStop(t *testing.T) {
	ns := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	q, err := jetstream.Open(ctx, connect(t, ns, "submitter"), jetstream.Options{AckWait: 30 * time.Second}, true)
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan string, 8)
	reg := dist.NewRegistry()
	noop, _ := dist.Default.Lookup("noop")
	// wait runs for Seed×100 ms, or until cancelled.
	reg.Register("wait", func(ctx context.Context, tr dist.Trial, dir string) ([]byte, error) {
		started <- tr.ID()
		select {
		case <-time.After(time.Duration(tr.Seed) * 100 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return noop(ctx, tr, dir)
	})
	worker := func(name string, grace time.Duration) (context.CancelFunc, *sync.WaitGroup) {
		wq, err := jetstream.Open(ctx, connect(t, ns, name), jetstream.Options{}, false)
		if err != nil {
			t.Fatal(err)
		}
		wctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Add(1)
		w := &jetstream.Worker{Q: wq, Registry: reg, Dir: t.TempDir(), Name: name, Grace: grace, Log: quiet}
		go func() { defer wg.Done(); w.Run(wctx) }()
		return stop, &wg
	}
	for _, c := range []struct {
		name    string
		grace   time.Duration
		seed    uint64 // trial length in 100 ms
		attempt int    // the delivery that finishes it
	}{
		{"finishes within grace", 5 * time.Second, 3, 1},
		{"handed back past grace", 0, 600, 2},
	} {
		tr := dist.Trial{Command: "wait", Args: []string{c.name}, Seed: c.seed}
		stop, wg := worker("first", c.grace)
		type out struct {
			res []dist.Result
			err error
		}
		done := make(chan out, 1)
		go func() {
			res, err := (&jetstream.Executor{Q: q}).Execute(ctx, t.TempDir(), []dist.Trial{tr}, nil)
			done <- out{res, err}
		}()
		<-started
		stop() // SIGTERM
		wg.Wait()
		if c.attempt == 2 {
			// The second worker gets a shorter trial run: the Nak made
			// the trial available at once (AckWait is 30s).
			reg.Register("wait", func(ctx context.Context, tr dist.Trial, dir string) ([]byte, error) { return noop(ctx, tr, dir) })
			stop2, wg2 := worker("second", 0)
			defer func() { stop2(); wg2.Wait() }()
		}
		select {
		case o := <-done:
			if o.err != nil {
				t.Fatal(o.err)
			}
			r := o.res[0]
			if r.Status != dist.Done || r.Attempts != c.attempt {
				t.Errorf("%s: %s after %d attempts (%s), want done on delivery %d", c.name, r.Status, r.Attempts, r.Error, c.attempt)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no result within 10s", c.name)
		}
	}
}
