package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/nadir-ml/nadir/dist"
	"github.com/nadir-ml/nadir/dist/jetstream"
)

func init() {
	register("worker", "run trials from a NATS JetStream queue: nadir worker --nats URL", cmdWorker)
	// Trials run in-process: the runners call the grow and train commands
	// with their stdout discarded and return summary.json.
	dist.Register("grow", func(ctx context.Context, t dist.Trial, dir string) ([]byte, error) {
		return runGrow(ctx, withSeed(t), dir)
	})
	dist.Register("train", func(ctx context.Context, t dist.Trial, dir string) ([]byte, error) {
		return runTrain(ctx, withSeed(t), dir)
	})
}

func withSeed(t dist.Trial) []string {
	return append(slices.Clone(t.Args), "--seed", fmt.Sprint(t.Seed))
}

type stdoutKey struct{}

// stdout is where a command prints its results: os.Stdout unless the
// context says otherwise (a trial run by a worker prints nothing).
func stdout(ctx context.Context) io.Writer {
	if w, ok := ctx.Value(stdoutKey{}).(io.Writer); ok {
		return w
	}
	return os.Stdout
}

func fprintJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// runGrow runs `nadir grow ARGS --out OUT` quietly and returns its
// summary.json.
func runGrow(ctx context.Context, args []string, out string) ([]byte, error) {
	return runQuiet(ctx, cmdGrow, args, out)
}

// runTrain runs `nadir train ARGS --out OUT` quietly and returns its
// summary.json.
func runTrain(ctx context.Context, args []string, out string) ([]byte, error) {
	return runQuiet(ctx, cmdTrain, args, out)
}

func runQuiet(ctx context.Context, cmd func(context.Context, []string) error, args []string, out string) ([]byte, error) {
	ctx = context.WithValue(ctx, stdoutKey{}, io.Discard)
	if err := cmd(ctx, append(slices.Clone(args), "--out", out, "--json", "--quiet")); err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(out, "summary.json"))
}

func cmdWorker(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	url := fs.String("nats", "", "NATS server URL (e.g. nats://host:4222); the server needs JetStream (nats-server -js)")
	name := fs.String("name", "", "worker name in results (default host/pid)")
	dir := fs.String("dir", "", "scratch directory for run directories before upload (default: a temporary one)")
	grace := fs.Duration("grace", 30*time.Second, "on SIGTERM, time the current trial may still finish before it is handed back")
	ackWait := fs.Duration("ack-wait", 0, "redelivery timeout, only if this worker creates the queue (default 30s)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	switch *url {
	case "":
		return errors.New("--nats URL is required")
	case "embedded":
		return errors.New("--nats embedded: a worker joins a running server; `nadir sweep --nats embedded --workers N` starts its own")
	}
	if *grace < 0 || *ackWait < 0 {
		return errors.New("--grace and --ack-wait must be >= 0")
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer stop()
	nc, err := jetstream.Connect(*url, "nadir worker")
	if err != nil {
		return failed(err)
	}
	defer nc.Close()
	q, err := jetstream.Open(ctx, nc, jetstream.Options{AckWait: *ackWait}, false)
	if err != nil {
		return failed(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	w := &jetstream.Worker{Q: q, Dir: *dir, Name: *name, Grace: *grace, Log: log}
	log.Info("worker ready", "nats", *url, "ack_wait", q.Opts.AckWait, "runners", dist.Default.Names())
	if err := w.Run(ctx); err != nil {
		return failed(err)
	}
	return nil
}
