package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/nadir-ml/nadir/internal/perf"
	"github.com/nadir-ml/nadir/tensor"
)

func init() {
	register("bench", "time nadir's kernels on the PyTorch peer's workloads: nadir bench [--json] [--reps N]", cmdBench)
}

func cmdBench(ctx context.Context, args []string) error {
	return runBench(ctx, args, os.Stdout, false)
}

// runBench is the command with its output and the workloads' size
// (small: perf.Options.Small, for tests) as parameters.
func runBench(ctx context.Context, args []string, w io.Writer, small bool) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the figures as one JSON object on the last line")
	reps := fs.Int("reps", 5, "timed runs per figure (the median is reported)")
	steps := fs.Int("steps", 5, "train steps averaged in each timed run")
	quietFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return fmt.Errorf("unexpected argument %q (usage: nadir bench [--json] [--reps N])", pos[0])
	}
	if *reps < 1 {
		return fmt.Errorf("--reps %d: need at least 1", *reps)
	}
	if *steps < 1 {
		return fmt.Errorf("--steps %d: need at least 1", *steps)
	}
	fmt.Fprintf(w, "nadir bench: %s %s/%s, GOMAXPROCS=%d, kernel threads=%d, reps=%d, steps per run=%d\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), tensor.Threads(), *reps, *steps)
	ms, err := perf.Run(ctx, perf.Options{
		Reps:  *reps,
		Steps: *steps,
		Seed:  1,
		Small: small,
		OnDone: func(m perf.Measurement) {
			runs := make([]string, len(m.Runs))
			for i, v := range m.Runs {
				runs[i] = fmt.Sprintf("%.2f", v)
			}
			fmt.Fprintf(w, "nadir %s: median %.2f %s (runs [%s])\n", m.Name, m.Median, m.Unit, strings.Join(runs, " "))
		},
	})
	if errors.Is(err, context.Canceled) {
		return failed(errors.New("interrupted"))
	}
	if err != nil {
		return failed(err)
	}
	if !*asJSON {
		return nil
	}
	fig := make(map[string]float64, len(ms))
	for _, m := range ms {
		fig[m.Key] = m.Median
	}
	b, err := json.Marshal(fig)
	if err != nil {
		return failed(err)
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}
