package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nadir-ml/nadir/dist"
	"github.com/nadir-ml/nadir/dist/jetstream"
	"github.com/nadir-ml/nadir/grow"
	"github.com/nadir-ml/nadir/run"
	"github.com/nadir-ml/nadir/sweep"
)

func init() {
	register("sweep", "methods × seeds × budgets × data over grow (any grow flag passes through), locally or on NATS workers", cmdSweep)
}

// sweepOwned are grow flags that sweep sets itself per trial.
var sweepOwned = map[string]string{"method": "--method", "seed": "--seed", "budget": "--budget", "data": "--data",
	"out": "--out", "json": "--json", "quiet": "--quiet", "from": "(scratch/prune need one run to match, not a sweep)"}

func cmdSweep(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	file := fs.String("file", "", "sweep file (JSON: methods, seeds, budgets, data, args); flags given too override its fields")
	methods := fs.String("method", "fast", "methods, comma-separated: grow methods and uniform-scratch (train --scratch-model for as many epochs as a grow run makes passes over the data)")
	seeds := fs.String("seed", "1", "seeds, comma-separated (or A-B)")
	budgets := fs.String("budget", "", "grow --budget values, comma-separated (empty: none)")
	datas := fs.String("data", "mnist", "datasets, comma-separated")
	scratch := fs.String("scratch-model", "", "model of the uniform-scratch baseline (e.g. mlp:32)")
	out := fs.String("out", "", "sweep directory (default runs/sweep, or -2, -3, ... when taken); rerun with the same --out to resume")
	natsURL := fs.String("nats", "", "run trials on NATS JetStream: URL of a server (workers join with nadir worker --nats URL) or embedded (in-process server + --workers local workers)")
	workers := fs.Int("workers", -1, "trials at once in this process (default: the number of CPUs; 0 with a --nats URL: remote workers only)")
	ackWait := fs.Duration("ack-wait", 30*time.Second, "NATS: redelivery timeout of a trial without heartbeat")
	maxDeliver := fs.Int("max-deliver", 3, "NATS: deliveries before a failing trial is dead-lettered")
	asJSON := fs.Bool("json", false, "print the result as JSON on the last line")
	quiet := fs.Bool("quiet", false, "no per-trial progress lines")
	own, pass, err := splitSweepArgs(fs, args)
	if err != nil {
		return err
	}
	pos, err := parseFlags(fs, own)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var spec sweep.Spec
	if *file != "" {
		if spec, err = sweep.ReadSpec(*file); err != nil {
			return err
		}
		// The file's args obey the same rules as passed-through flags.
		fileOwn, filePass, err := splitSweepArgs(flag.NewFlagSet("sweep file", flag.ContinueOnError), spec.Args)
		if err != nil {
			return fmt.Errorf("%s: args: %v", *file, err)
		}
		if len(fileOwn) > 0 {
			return fmt.Errorf("%s: args: unexpected %q", *file, fileOwn[0])
		}
		spec.Args = append(filePass, pass...)
	} else {
		spec.Args = pass
	}
	if *file == "" || set["method"] {
		spec.Methods = splitList(*methods)
	}
	if *file == "" || set["seed"] {
		if spec.Seeds, err = parseSeeds(*seeds); err != nil {
			return err
		}
	}
	if *file == "" || set["budget"] {
		spec.Budgets = splitList(*budgets)
	}
	if *file == "" || set["data"] {
		spec.Data = splitList(*datas)
	}
	spec.Baselines = map[string]string{"uniform-scratch": "train"}
	if err := spec.Check(); err != nil {
		return err
	}
	if *workers < -1 {
		return fmt.Errorf("--workers %d: must be >= 0", *workers)
	}
	if *natsURL == "embedded" && *workers == 0 {
		return errors.New("--nats embedded needs --workers >= 1")
	}
	if *maxDeliver < 1 || *ackWait < time.Second {
		return errors.New("--max-deliver must be >= 1 and --ack-wait >= 1s")
	}
	trials, err := sweepTrials(spec, *scratch)
	if err != nil {
		return err
	}
	points := spec.Points()

	if *out == "" {
		*out = "runs/sweep"
		for i := 2; ; i++ {
			if _, err := os.Stat(*out); err != nil {
				break
			}
			*out = fmt.Sprintf("runs/sweep-%d", i)
		}
	}
	if err := os.MkdirAll(filepath.Join(*out, "trials"), 0o755); err != nil {
		return fmt.Errorf("--out: %v", err)
	}
	if err := writeSweepIndex(*out, spec, points, trials); err != nil {
		return failed(err)
	}

	n := *workers
	if n < 0 {
		n = runtime.NumCPU()
		if *natsURL != "" && *natsURL != "embedded" {
			n = 0
		}
	}
	exec, closeExec, err := sweepExecutor(ctx, *natsURL, n, *out, jetstream.Options{AckWait: *ackWait, MaxDeliver: *maxDeliver})
	if err != nil {
		return err
	}
	defer closeExec()

	byID := map[string]sweep.Point{}
	for i, t := range trials {
		byID[t.ID()] = points[i]
	}
	distinct := len(byID)
	var mu sync.Mutex
	finished := 0
	start := time.Now()
	progress := func(r dist.Result) {
		mu.Lock()
		defer mu.Unlock()
		finished++
		if *quiet {
			return
		}
		p := byID[r.ID]
		what := r.Status
		if r.Status == dist.Failed {
			what += ": " + firstLineOf(r.Error)
		}
		fmt.Fprintf(os.Stderr, "[%d/%d %.0fs] %s %s seed %d %s: %s\n", finished, distinct, time.Since(start).Seconds(),
			p.Method, p.Budget, p.Seed, r.ID[:8], what)
	}
	if *natsURL != "" && *natsURL != "embedded" && !*quiet {
		fmt.Fprintf(os.Stderr, "submitting %d trials to %s; %d local workers (start more with `nadir worker --nats %s`)\n", distinct, *natsURL, n, *natsURL)
	}
	results, err := exec.Execute(ctx, filepath.Join(*out, "trials"), trials, progress)
	if err != nil {
		return failed(err)
	}
	rows, err := sweep.Aggregate(points, results)
	if err != nil {
		return failed(err)
	}
	o := sweep.NewOutput(results, rows)
	var md strings.Builder
	sweep.Markdown(&md, rows)
	if err := os.WriteFile(filepath.Join(*out, "table.md"), []byte(md.String()), 0o644); err != nil {
		return failed(err)
	}
	if err := run.WriteJSON(filepath.Join(*out, "summary.json"), o); err != nil {
		return failed(err)
	}
	var plotErr error
	if o.Done > 0 {
		for _, ax := range []sweep.Axis{sweep.MACs, sweep.Params} {
			if err := sweep.Plot(rows, ax, filepath.Join(*out, "accuracy_vs_"+string(ax)+".png")); err != nil {
				plotErr = err
			}
		}
	}
	w := stdout(ctx)
	fmt.Fprint(w, md.String())
	fmt.Fprintf(w, "%d trials: %d done, %d failed; %s\n", o.Trials, o.Done, o.Failed, *out)
	for _, r := range results {
		if r.Status == dist.Failed && byID[r.ID] != (sweep.Point{}) {
			p := byID[r.ID]
			fmt.Fprintf(w, "failed: %s %s seed %d (%s, %d attempts): %s\n", p.Method, p.Budget, p.Seed, r.ID, r.Attempts, firstLineOf(r.Error))
			delete(byID, r.ID)
		}
	}
	if *asJSON {
		if err := fprintJSON(w, o); err != nil {
			return err
		}
	}
	if plotErr != nil {
		return failed(plotErr)
	}
	if o.Failed > 0 {
		return failed(fmt.Errorf("%d of %d trials failed (see above; rerun the same command to retry them)", o.Failed, o.Trials))
	}
	return nil
}

func firstLineOf(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// parseSeeds reads "1,2,3" or "1-5".
func parseSeeds(s string) ([]uint64, error) {
	var out []uint64
	for _, x := range splitList(s) {
		lo, hi, isRange := strings.Cut(x, "-")
		a, err := strconv.ParseUint(lo, 10, 64)
		b := a
		if err == nil && isRange {
			b, err = strconv.ParseUint(hi, 10, 64)
		}
		if err != nil || b < a || b-a > 10000 {
			return nil, fmt.Errorf("--seed %q: want comma-separated seeds or a range A-B", s)
		}
		for v := a; v <= b; v++ {
			out = append(out, v)
		}
	}
	return out, nil
}

// splitSweepArgs separates sweep's own flags from grow flags to pass
// through, using both flag sets to tell which flags take a value.
func splitSweepArgs(fs *flag.FlagSet, args []string) (own, pass []string, err error) {
	gfs := flag.NewFlagSet("grow", flag.ContinueOnError)
	growFlags(gfs, new(runFlags), new(grow.Config))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
			own = append(own, a)
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == "h" || name == "help" || fs.Lookup(name) != nil {
			own = append(own, a)
			if fl := fs.Lookup(name); fl != nil && !hasValue && !isBool(fl) && i+1 < len(args) {
				i++
				own = append(own, args[i])
			}
			continue
		}
		fl := gfs.Lookup(name)
		if fl == nil {
			return nil, nil, fmt.Errorf("flag provided but not defined: -%s (sweep takes its own flags and those of grow)", name)
		}
		if why, ok := sweepOwned[name]; ok {
			return nil, nil, fmt.Errorf("--%s: set by sweep per trial %s", name, why)
		}
		pass = append(pass, a)
		if !hasValue && !isBool(fl) {
			if i+1 >= len(args) {
				return nil, nil, fmt.Errorf("flag needs an argument: -%s", name)
			}
			i++
			pass = append(pass, args[i])
		}
	}
	return own, pass, nil
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// canonicalArgs parses args with fs and returns every flag set, as
// --name=value sorted by name, so that a trial's ID does not depend on flag
// order or spelling.
func canonicalArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var out []string
	fs.Visit(func(f *flag.Flag) { out = append(out, "--"+f.Name+"="+f.Value.String()) })
	sort.Strings(out)
	return out, nil
}

// sweepTrials makes one trial per point: `grow` with the point's method,
// budget and data, or for uniform-scratch `train` of --scratch-model for
// the grow runs' passes over the data (grow.Config.Passes, rounded, as
// grow.PlanBaseline matches scratch and prune). Every trial's flags are checked here, so a
// typo fails at once instead of on every worker. Kernels run on one thread
// unless --threads is given: the sweep's parallelism is across trials, and
// a trial's result does not then depend on the machine that ran it.
func sweepTrials(spec sweep.Spec, scratchModel string) ([]dist.Trial, error) {
	var trials []dist.Trial
	for _, p := range spec.Points() {
		args := []string{"--data", p.Data}
		if !containsFlag(spec.Args, "threads") {
			args = append(args, "--threads", "1")
		}
		gfs := flag.NewFlagSet("grow", flag.ContinueOnError)
		var f runFlags
		var g grow.Config
		growFlags(gfs, &f, &g)
		gargs := append(append([]string{"--method", p.Method}, args...), spec.Args...)
		if p.Budget != "" {
			gargs = append(gargs, "--budget", p.Budget)
		}
		if p.Method == "uniform-scratch" {
			gargs[1] = "fast" // parse the growth schedule for its epochs
			// Baselines have no budget of their own, but the schedule may
			// need one to be valid (--grow-ratio auto); any of the grow
			// runs' budgets will do, the epochs do not depend on it.
			if b := spec.Budgets[0]; b != "" {
				gargs = append(gargs, "--budget", b)
			}
		}
		canon, err := canonicalArgs(gfs, gargs)
		if err != nil {
			return nil, err
		}
		f.out = "-"
		if err := f.resolve("grow"); err != nil {
			return nil, err
		}
		if g.SeedEpochs == 0 {
			g.SeedEpochs = f.cfg.Epochs
		}
		if g.Method == "scratch" || g.Method == "prune" {
			return nil, fmt.Errorf("--method %s needs --from (one grown run to match); use uniform-scratch in a sweep", g.Method)
		}
		if err := checkGrowConfig(&g); err != nil {
			return nil, err
		}
		if p.Method != "uniform-scratch" {
			trials = append(trials, dist.Trial{Command: "grow", Args: canon, Seed: p.Seed})
			continue
		}
		if scratchModel == "" {
			return nil, errors.New("--method uniform-scratch needs --scratch-model (e.g. mlp:32)")
		}
		// train takes grow's shared flags only.
		tfs := flag.NewFlagSet("train", flag.ContinueOnError)
		var tf runFlags
		tf.register(tfs, "mlp:128", 2, 0.05, "sgd")
		var targs []string
		for _, a := range canon {
			name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
			if tfs.Lookup(name) != nil && name != "model" && name != "epochs" {
				targs = append(targs, a)
			}
		}
		// As many passes over the data as a grow run makes: with
		// --growth-fraction its early epochs count a fraction each.
		total := int(math.Round(g.Passes()))
		targs = append(targs, "--model", scratchModel, "--epochs", strconv.Itoa(total))
		if canon, err = canonicalArgs(tfs, targs); err != nil {
			return nil, err
		}
		tf.out = "-"
		if err := tf.resolve("train"); err != nil {
			return nil, err
		}
		trials = append(trials, dist.Trial{Command: "train", Args: canon, Seed: p.Seed})
	}
	return trials, nil
}

func containsFlag(args []string, name string) bool {
	for _, a := range args {
		n, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && n == name {
			return true
		}
	}
	return false
}

// writeSweepIndex writes sweep.json: the spec and which trial is which
// point, so the directory explains itself.
func writeSweepIndex(out string, spec sweep.Spec, points []sweep.Point, trials []dist.Trial) error {
	type entry struct {
		sweep.Point
		ID    string     `json:"id"`
		Trial dist.Trial `json:"trial"`
	}
	idx := struct {
		Spec   sweep.Spec `json:"spec"`
		Trials []entry    `json:"trials"`
	}{Spec: spec}
	for i, t := range trials {
		idx.Trials = append(idx.Trials, entry{points[i], t.ID(), t})
	}
	return run.WriteJSON(filepath.Join(out, "sweep.json"), idx)
}

// sweepExecutor returns the executor for --nats and a function that stops
// what it started.
func sweepExecutor(ctx context.Context, url string, workers int, out string, opts jetstream.Options) (dist.Executor, func(), error) {
	if url == "" {
		return &dist.Pool{Workers: max(workers, 1)}, func() {}, nil
	}
	var stops []func()
	stop := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	var connect func(name string) (*jetstream.Queue, error)
	if url == "embedded" {
		ns, err := jetstream.Embedded(filepath.Join(out, "nats"))
		if err != nil {
			return nil, nil, failed(err)
		}
		stops = append(stops, func() { ns.Shutdown(); ns.WaitForShutdown() })
		connect = func(name string) (*jetstream.Queue, error) {
			nc, err := jetstream.ConnectEmbedded(ns, name)
			if err != nil {
				return nil, err
			}
			stops = append(stops, nc.Close)
			return jetstream.Open(ctx, nc, opts, true)
		}
	} else {
		connect = func(name string) (*jetstream.Queue, error) {
			nc, err := jetstream.Connect(url, name)
			if err != nil {
				return nil, err
			}
			stops = append(stops, nc.Close)
			return jetstream.Open(ctx, nc, opts, true)
		}
	}
	q, err := connect("nadir sweep")
	if err != nil {
		stop()
		return nil, nil, failed(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	for i := range workers {
		wq, err := connect(fmt.Sprintf("nadir sweep worker %d", i))
		if err != nil {
			cancel()
			stop()
			return nil, nil, failed(err)
		}
		w := &jetstream.Worker{Q: wq, Name: fmt.Sprintf("%s/local-%d", dist.WorkerName(), i), Log: log}
		wg.Add(1)
		go func() { defer wg.Done(); w.Run(wctx) }()
	}
	// Workers stop before their connections close (stops run in reverse).
	stops = append(stops, func() { cancel(); wg.Wait() })
	return &jetstream.Executor{Q: q}, stop, nil
}
