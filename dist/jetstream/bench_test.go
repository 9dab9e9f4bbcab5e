package jetstream_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nadir-ml/nadir/dist"
	"github.com/nadir-ml/nadir/dist/jetstream"
)

// noopTrials are n distinct no-op trials (batch b makes them new).
func noopTrials(b, n int) []dist.Trial {
	ts := make([]dist.Trial, n)
	for i := range ts {
		ts[i] = dist.Trial{Command: "noop", Args: []string{"--batch", fmt.Sprint(b)}, Seed: uint64(i)}
	}
	return ts
}

// BenchmarkNoopTrials measures the executor's own cost per trial: 100 no-op
// trials per iteration through the embedded JetStream queue (submit, pull,
// run, upload the run directory, store the result, ack, watch, unpack), with
// 1 and 4 workers, against the in-process pool.
func BenchmarkNoopTrials(b *testing.B) {
	const n = 100
	for _, workers := range []int{1, 4} {
		b.Run(fmt.Sprintf("jetstream/workers=%d", workers), func(b *testing.B) {
			ns, err := jetstream.Embedded(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
			ctx, cancel := context.WithCancel(context.Background())
			open := func(name string) *jetstream.Queue {
				nc, err := jetstream.ConnectEmbedded(ns, name)
				if err != nil {
					b.Fatal(err)
				}
				q, err := jetstream.Open(ctx, nc, jetstream.Options{}, true)
				if err != nil {
					b.Fatal(err)
				}
				return q
			}
			x := &jetstream.Executor{Q: open("submitter")}
			var wg sync.WaitGroup
			for i := range workers {
				w := &jetstream.Worker{Q: open(fmt.Sprint("w", i)), Dir: b.TempDir(), Log: quiet}
				wg.Add(1)
				go func() { defer wg.Done(); w.Run(ctx) }()
			}
			it := 0
			start := time.Now()
			for b.Loop() {
				if _, err := x.Execute(ctx, b.TempDir(), noopTrials(it, n), nil); err != nil {
					b.Fatal(err)
				}
				it++
			}
			b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(it*n), "ms/trial")
			cancel()
			wg.Wait()
		})
	}
	b.Run("pool/workers=1", func(b *testing.B) {
		it := 0
		start := time.Now()
		for b.Loop() {
			if _, err := (&dist.Pool{Workers: 1}).Execute(context.Background(), b.TempDir(), noopTrials(it, n), nil); err != nil {
				b.Fatal(err)
			}
			it++
		}
		b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(it*n), "ms/trial")
	})
}
