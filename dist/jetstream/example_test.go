package jetstream_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/nadir-ml/nadir/dist"
	"github.com/nadir-ml/nadir/dist/jetstream"
)

// An embedded server (no port), one worker and a submitter: the
// single-machine path through the same code as a cluster's.
func Example() {
	store, _ := os.MkdirTemp("", "nats")
	defer os.RemoveAll(store)
	ns, err := jetstream.Embedded(store)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ns.Shutdown()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	open := func(name string) *jetstream.Queue {
		nc, _ := jetstream.ConnectEmbedded(ns, name)
		q, err := jetstream.Open(ctx, nc, jetstream.Options{MaxDeliver: 2}, true)
		if err != nil {
			panic(err)
		}
		return q
	}
	w := &jetstream.Worker{Q: open("worker"), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	go w.Run(ctx)

	out, _ := os.MkdirTemp("", "trials")
	defer os.RemoveAll(out)
	trials := []dist.Trial{
		{Command: "noop", Seed: 1},
		{Command: "noop", Seed: 2},
		{Command: "fail", Args: []string{"out of memory"}, Seed: 3},
	}
	res, err := (&jetstream.Executor{Q: open("submitter")}).Execute(ctx, out, trials, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res {
		fmt.Printf("%s seed %d: %s after %d deliveries", r.Trial.Command, r.Trial.Seed, r.Status, r.Attempts)
		if r.Error != "" {
			fmt.Print(": ", r.Error)
		}
		fmt.Println()
	}
	_, err = os.Stat(fmt.Sprintf("%s/%s/summary.json", out, trials[0].ID()))
	fmt.Println("run directory fetched:", err == nil)
	// Output:
	// noop seed 1: done after 1 deliveries
	// noop seed 2: done after 1 deliveries
	// fail seed 3: failed after 2 deliveries: out of memory
	// run directory fetched: true
}
