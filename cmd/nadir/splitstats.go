package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/nadir-ml/nadir/grow"
	"github.com/nadir-ml/nadir/grow/split"
)

func init() {
	register("split-stats", "per-neuron splitting spectra of a run's network: nadir split-stats DIR|CKPT", cmdSplitStats)
}

func cmdSplitStats(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("split-stats", flag.ContinueOnError)
	solver := fs.String("solver", string(split.Lanczos), "eigen-solver: "+split.Solvers.Help())
	batches := fs.Int("split-batches", 20, "mini-batches of statistics")
	batch := fs.Int("batch", 64, "mini-batch size")
	epochs := fs.Int("rayleigh-epochs", 10, "passes for --solver rayleigh")
	dataFlag := fs.String("data", "", "dataset (default: the run's)")
	seed := fs.Uint64("seed", 1, "seed of the statistics batches and solvers")
	asJSON := fs.Bool("json", false, "print the spectra as JSON")
	round := fs.Int("round", 0, "growth round whose statistics batches to draw (a grow run draws round r's for its r-th growth step)")
	tol := fs.Float64("lanczos-tol", 0, "batched Lanczos tolerance (0: the exact solver's, 1e-4)")
	sample := fs.Float64("lanczos-sample", 1, "fraction of the examples the batched Lanczos iterates on before exact Rayleigh quotients")
	loose := fs.Float64("lanczos-loose-tol", 0, "with --min-only: tolerance for a λ_min of at least a tenth of the spectral scale (0: --lanczos-tol)")
	maxIter := fs.Int("lanczos-max-iter", 0, "cap on the batched Lanczos's products per neuron (0: none)")
	minOnly := fs.Bool("min-only", false, "batched Lanczos stops on λ_min alone (λ_max an estimate)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: nadir split-stats DIR|CKPT [--solver " + strings.Join(split.Solvers.Strings(), "|") + "]")
	}
	if *batches <= 0 || *batch <= 0 || *round < 0 {
		return errors.New("--split-batches and --batch must be positive, --round not negative")
	}
	if !(*tol >= 0 && *tol < 1) || !(*loose >= 0 && *loose < 1) || !(*sample > 0 && *sample <= 1) {
		return errors.New("--lanczos-tol and --lanczos-loose-tol must be in [0, 1), --lanczos-sample in (0, 1]")
	}
	solv, err := split.Solvers.Parse("solver", *solver)
	if err != nil {
		return err
	}
	net, ds, _, err := loadNetData(pos[0], *dataFlag)
	if err != nil {
		return err
	}
	layers := net.Growable()
	if len(layers) == 0 {
		return errors.New("the network has nothing splittable")
	}
	b, steps := grow.StatsBatches(ds.Train, *batch, *batches, *seed, *round)
	start := time.Now()
	stats, _, err := split.Collect(ctx, net, b, steps, layers)
	if err != nil {
		return err
	}
	statsSec := time.Since(start).Seconds()
	type neuron struct {
		Layer     int     `json:"layer"`
		Neuron    int     `json:"neuron"`
		LambdaMin float64 `json:"lambda_min"`
		LambdaMax float64 `json:"lambda_max"`
	}
	var out []neuron
	solveStart := time.Now()
	for _, st := range stats {
		eig, err := split.Solve(ctx, st, split.SolverOptions{Solver: solv, RayleighEpochs: *epochs, Seed: *seed, Tol: *tol, LooseTol: *loose, MaxIter: *maxIter, Sample: *sample, MinOnly: *minOnly})
		if err != nil {
			return err
		}
		for i, e := range eig {
			out = append(out, neuron{st.Layer, i, e.LambdaMin, e.LambdaMax})
		}
	}
	solveSec := time.Since(solveStart).Seconds()
	if *asJSON {
		return printJSON(struct {
			Solver       split.Solver `json:"solver"`
			Neurons      []neuron     `json:"neurons"`
			Seconds      float64      `json:"seconds"`
			StatsSeconds float64      `json:"stats_seconds"`
			SolveSeconds float64      `json:"solve_seconds"`
		}{solv, out, statsSec + solveSec, statsSec, solveSec})
	}
	fmt.Printf("%6s %7s %14s %14s\n", "layer", "neuron", "lambda_min", "lambda_max")
	for _, n := range out {
		fmt.Printf("%6d %7d %14.6g %14.6g\n", n.Layer, n.Neuron, n.LambdaMin, n.LambdaMax)
	}
	fmt.Printf("%s: %d neurons, statistics %.3fs, eigenpairs %.3fs\n", *solver, len(out), statsSec, solveSec)
	return nil
}
