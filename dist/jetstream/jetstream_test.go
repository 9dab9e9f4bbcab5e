package jetstream_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/nadir-ml/nadir/dist"
	"github.com/nadir-ml/nadir/dist/jetstream"
)

// counts records, per trial ID, how often a trial started and how often a
// runner completed it.
type counts struct {
	mu        sync.Mutex
	starts    map[string]int
	completes map[string]int
}

func (c *counts) add(m map[string]int, id string) {
	c.mu.Lock()
	m[id]++
	c.mu.Unlock()
}

func (c *counts) get(m map[string]int, id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return m[id]
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func startServer(t *testing.T) *server.Server {
	t.Helper()
	ns, err := jetstream.Embedded(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

func connect(t *testing.T, ns *server.Server, name string) *nats.Conn {
	t.Helper()
	nc, err := jetstream.ConnectEmbedded(ns, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// TestWorkersKillRedeliverDeadLetter is the executor's integration test: an
// embedded server without a port, three workers, 24 trials (one listed
// twice). One worker is killed while it holds a trial; that trial must be
// redelivered and finish elsewhere; a trial that outlives AckWait must be
// kept alive by heartbeats; a failing trial must end as a dead-letter
// record carrying its error; every result must be stored exactly once.
func TestWorkersKillRedeliverDeadLetter(t *testing.T) {
	ns := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	// AckWait 2 s: heartbeats come every AckWait/3, and the 1.3 s left
	// over must absorb a loaded 2-core CI machine's scheduling delays.
	opts := jetstream.Options{AckWait: 2 * time.Second, MaxDeliver: 3}
	q, err := jetstream.Open(ctx, connect(t, ns, "submitter"), opts, true)
	if err != nil {
		t.Fatal(err)
	}
	if ns.Addr() != nil {
		t.Fatalf("embedded server listens on %v", ns.Addr())
	}

	c := &counts{starts: map[string]int{}, completes: map[string]int{}}
	noop, _ := dist.Default.Lookup("noop")
	fail, _ := dist.Default.Lookup("fail")
	reg := dist.NewRegistry()
	done := func(fn dist.Runner) dist.Runner {
		return func(ctx context.Context, tr dist.Trial, dir string) ([]byte, error) {
			b, err := fn(ctx, tr, dir)
			if err == nil {
				c.add(c.completes, tr.ID())
			}
			return b, err
		}
	}
	reg.Register("noop", done(noop))
	reg.Register("fail", fail)
	// hang blocks on its first delivery until its worker dies.
	var hangRuns sync.Map
	reg.Register("hang", done(func(ctx context.Context, tr dist.Trial, dir string) ([]byte, error) {
		if _, again := hangRuns.LoadOrStore(tr.ID(), true); !again {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return noop(ctx, tr, dir)
	}))
	// slow outlives AckWait 2.5 times; only heartbeats keep it with its
	// worker.
	reg.Register("slow", done(func(ctx context.Context, tr dist.Trial, dir string) ([]byte, error) {
		select {
		case <-time.After(opts.AckWait * 5 / 2):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return noop(ctx, tr, dir)
	}))

	var trials []dist.Trial
	for s := uint64(1); s <= 20; s++ {
		trials = append(trials, dist.Trial{Command: "noop", Args: []string{"--x", fmt.Sprint(s)}, Seed: s})
	}
	trials = append(trials,
		dist.Trial{Command: "noop", Args: []string{"--x", "1"}, Seed: 1}, // listed twice
		dist.Trial{Command: "hang", Seed: 7},
		dist.Trial{Command: "slow", Seed: 8},
		dist.Trial{Command: "fail", Args: []string{"boom: deliberate failure"}, Seed: 9})
	hangID, slowID, failID := trials[21].ID(), trials[22].ID(), trials[23].ID()

	type held struct {
		worker   int
		delivery int
	}
	hangHeld := make(chan held, 4)
	var wg sync.WaitGroup
	cancels := make([]context.CancelFunc, 3)
	conns := make([]*nats.Conn, 3)
	for i := range 3 {
		nc := connect(t, ns, fmt.Sprintf("worker-%d", i))
		wq, err := jetstream.Open(ctx, nc, jetstream.Options{}, false)
		if err != nil {
			t.Fatal(err)
		}
		if wq.Opts.AckWait != opts.AckWait {
			t.Fatalf("worker sees AckWait %v, submitter set %v", wq.Opts.AckWait, opts.AckWait)
		}
		wctx, wcancel := context.WithCancel(ctx)
		cancels[i], conns[i] = wcancel, nc
		w := &jetstream.Worker{Q: wq, Registry: reg, Dir: t.TempDir(), Name: fmt.Sprintf("worker-%d", i), Log: quiet,
			OnStart: func(tr dist.Trial, delivery int) {
				c.add(c.starts, tr.ID())
				if tr.Command == "hang" {
					hangHeld <- held{i, delivery}
				}
			}}
		wg.Add(1)
		go func() { defer wg.Done(); w.Run(wctx) }()
	}
	killed := make(chan int, 1)
	go func() {
		h := <-hangHeld
		// Kill: the connection goes first, so nothing is acknowledged or
		// handed back; the server only notices through AckWait.
		conns[h.worker].Close()
		cancels[h.worker]()
		killed <- h.worker
	}()

	out := t.TempDir()
	start := time.Now()
	res, err := (&jetstream.Executor{Q: q}).Execute(ctx, out, trials, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("24 trials (23 distinct) in %.1fs", time.Since(start).Seconds())
	victim := <-killed
	if len(res) != len(trials) {
		t.Fatalf("%d results for %d trials", len(res), len(trials))
	}
	for i, r := range res {
		id := trials[i].ID()
		if r.ID != id {
			t.Fatalf("result %d has ID %s, want %s", i, r.ID, id)
		}
		if id == failID {
			continue
		}
		if r.Status != dist.Done {
			t.Fatalf("trial %s: %s (%s)", trials[i], r.Status, r.Error)
		}
		if n := c.get(c.completes, id); n != 1 {
			t.Errorf("trial %s completed %d times, want once", trials[i], n)
		}
		var sum struct{ Seed uint64 }
		b, err := os.ReadFile(filepath.Join(out, id, "summary.json"))
		if err != nil || json.Unmarshal(b, &sum) != nil || sum.Seed != trials[i].Seed {
			t.Errorf("trial %s: run directory not fetched (%v, %s)", trials[i], err, b)
		}
		if string(r.Summary) != string(b) {
			t.Errorf("trial %s: result summary %s, run directory %s", trials[i], r.Summary, b)
		}
	}
	// Exactly once: each trial's key was written once.
	for _, tr := range trials {
		h, err := q.Results.History(ctx, tr.ID())
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != 1 {
			t.Errorf("trial %s: %d result writes, want 1", tr, len(h))
		}
	}
	if n := c.get(c.starts, trials[0].ID()); n != 1 {
		t.Errorf("trial listed twice started %d times", n)
	}
	hang := res[21]
	if n := c.get(c.starts, hangID); n != 2 || hang.Attempts != 2 || hang.Worker == fmt.Sprintf("worker-%d", victim) {
		t.Errorf("killed trial: %d starts, attempts %d, finished by %s (killed worker-%d); want 2 starts on another worker",
			n, hang.Attempts, hang.Worker, victim)
	}
	if n := c.get(c.starts, slowID); n != 1 || res[22].Attempts != 1 {
		t.Errorf("slow trial started %d times (attempts %d): heartbeats did not hold it", n, res[22].Attempts)
	}
	f := res[23]
	if f.Status != dist.Failed || !strings.Contains(f.Error, "boom: deliberate failure") || f.Attempts != 3 {
		t.Errorf("failing trial: status %s, attempts %d, error %q; want failed after 3 with its error", f.Status, f.Attempts, f.Error)
	}
	if local, err := dist.ReadResult(out, failID); err != nil || local == nil || local.Error != f.Error {
		t.Errorf("dead-letter record not in %s: %v %v", out, local, err)
	}

	// A duplicate delivery of a done trial (published past the duplicate
	// window) is acknowledged without running.
	m := nats.NewMsg(jetstream.Subject)
	m.Data = trials[0].JSON()
	m.Header.Set(jetstream.TrialHeader, trials[0].ID())
	if _, err := q.JS.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	for {
		info, err := q.Consumer.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.NumPending == 0 && info.NumAckPending == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := c.get(c.starts, trials[0].ID()); n != 1 {
		t.Errorf("duplicate delivery ran a done trial again (%d starts)", n)
	}
	// A second submission into a fresh directory fetches stored results
	// and runs nothing.
	before := c.get(c.starts, trials[5].ID())
	if _, err := (&jetstream.Executor{Q: q}).Execute(ctx, t.TempDir(), trials[:20], nil); err != nil {
		t.Fatal(err)
	}
	if after := c.get(c.starts, trials[5].ID()); after != before {
		t.Errorf("resubmitted done trial ran again")
	}
	for _, cf := range cancels {
		cf()
	}
	wg.Wait()
}
