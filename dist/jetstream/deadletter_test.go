package jetstream_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nadir-ml/nadir/dist"
	"github.com/nadir-ml/nadir/dist/jetstream"
)

// TestLostEveryTime: a trial whose every worker dies holding it reaches
// MaxDeliver without any worker reporting; the next worker that receives
// it stores it as failed instead of running it, so the sweep ends instead
// of waiting forever.
func TestLostEveryTime(t *testing.T) {
	ns := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	q, err := jetstream.Open(ctx, connect(t, ns, "submitter"), jetstream.Options{AckWait: time.Second, MaxDeliver: 2}, true)
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan struct{}, 4)
	reg := dist.NewRegistry()
	reg.Register("hang", func(ctx context.Context, tr dist.Trial, dir string) ([]byte, error) {
		held <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	})
	var wg sync.WaitGroup
	workers, stopWorkers := context.WithCancel(ctx)
	go func() {
		// Start a worker, kill it once it holds the trial; twice.
		for range 2 {
			nc, err := jetstream.ConnectEmbedded(ns, "doomed")
			if err != nil {
				t.Error(err)
				return
			}
			wq, err := jetstream.Open(workers, nc, jetstream.Options{}, false)
			if err != nil {
				t.Error(err)
				return
			}
			wctx, stop := context.WithCancel(workers)
			w := &jetstream.Worker{Q: wq, Registry: reg, Dir: t.TempDir(), Log: quiet}
			wg.Add(1)
			go func() { defer wg.Done(); w.Run(wctx) }()
			select {
			case <-held:
			case <-ctx.Done():
				stop()
				return
			}
			nc.Close()
			stop()
		}
		// A healthy worker receives delivery 3 of a trial allowed 2.
		wq, err := jetstream.Open(workers, connect(t, ns, "healthy"), jetstream.Options{}, false)
		if err != nil {
			t.Error(err)
			return
		}
		w := &jetstream.Worker{Q: wq, Registry: reg, Dir: t.TempDir(), Log: quiet}
		wg.Add(1)
		go func() { defer wg.Done(); w.Run(workers) }()
	}()
	tr := dist.Trial{Command: "hang", Seed: 1}
	res, err := (&jetstream.Executor{Q: q}).Execute(ctx, t.TempDir(), []dist.Trial{tr}, nil)
	stopWorkers()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if r.Status != dist.Failed || r.Attempts != 2 || !strings.Contains(r.Error, "delivered 2 times without a result") {
		t.Errorf("result %+v; want failed after 2 deliveries", r)
	}
	// The dead trial's message leaves the queue. The worker stores the
	// result before it terminates the message (so that a worker dying in
	// between costs a redelivery, never a lost result) and a Term is not
	// confirmed by the server: the submitter may see the result first.
	var left uint64
	for deadline := time.Now().Add(5 * time.Second); ; {
		info, err := q.Stream.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if left = info.State.Msgs; left == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if left != 0 {
		t.Errorf("%d messages left in the stream 5 s after the result", left)
	}
}
