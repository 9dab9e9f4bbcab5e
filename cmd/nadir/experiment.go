package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/nadir-ml/nadir/internal/toy"
	"github.com/nadir-ml/nadir/run"
)

func init() {
	register("experiment", "small exact experiments: toy (S2D vs baselines on a 1-D regression) | stuck (signed splitting escapes a splitting-stable minimum)", cmdExperiment)
}

func cmdExperiment(ctx context.Context, args []string) error {
	return runExperiment(ctx, args, os.Stdout)
}

// runExperiment dispatches `nadir experiment NAME [flags]`, writing the
// human summary (and with --json the JSON line, last) to w.
func runExperiment(ctx context.Context, args []string, w io.Writer) error {
	if len(args) == 0 {
		return errors.New("missing experiment name (want toy or stuck)")
	}
	switch args[0] {
	case "toy":
		return experimentToy(ctx, args[1:], w)
	case "stuck":
		return experimentStuck(ctx, args[1:], w)
	case "-h", "--help", "help":
		fmt.Fprintln(w, "usage: nadir experiment toy|stuck [flags]; `nadir experiment toy -h` lists the flags")
		return nil
	}
	return fmt.Errorf("unknown experiment %q (want toy or stuck)", args[0])
}

func experimentToy(ctx context.Context, args []string, w io.Writer) error {
	cfg := toy.DefaultToyConfig()
	fs := flag.NewFlagSet("experiment toy", flag.ContinueOnError)
	fs.StringVar(&cfg.Act, "act", cfg.Act, "activation: rbf | tanh (or softplus, sigmoid)")
	fs.StringVar(&cfg.Target, "target", cfg.Target, "target: sin (sin(3x)+x/2) | rbf-mix (random RBF mixture from --seed)")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of data, seed network and random baselines")
	fs.IntVar(&cfg.Points, "points", cfg.Points, "training points on [-3, 3]")
	fs.StringVar(&cfg.Optimizer, "opt", cfg.Optimizer, "optimiser: gd | adam (full batch, reset at every growth)")
	fs.Float64Var(&cfg.LR, "lr", cfg.LR, "learning rate")
	fs.IntVar(&cfg.StageSteps, "steps", cfg.StageSteps, "optimiser steps per stage (between growths)")
	fs.IntVar(&cfg.MaxWidth, "width", cfg.MaxWidth, "final width")
	fs.IntVar(&cfg.GrowBy, "grow-by", cfg.GrowBy, "neurons added per growth (0: double)")
	fs.Float64Var(&cfg.Eps, "eps", cfg.Eps, "split step ε")
	fs.BoolVar(&cfg.LineSearch, "line-search", cfg.LineSearch, "take the best of ε, ε/2, …, ε/16 at each split")
	fs.Float64Var(&cfg.SignedC, "signed-c", cfg.SignedC, "signed splitting: bound c on the total absolute off-spring weight")
	out := fs.String("out", ".", "directory for toy_loss.png and toy.json")
	asJSON := fs.Bool("json", false, "print a JSON summary as the last line")
	quietFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	res, err := toy.RunToy(ctx, cfg)
	if err != nil {
		return err
	}
	png, js := filepath.Join(*out, "toy_loss.png"), filepath.Join(*out, "toy.json")
	if err := toy.PlotLoss(res, png); err != nil {
		return failed(err)
	}
	const every = 10
	type run struct {
		Method    string       `json:"method"`
		FinalLoss float64      `json:"final_loss"`
		Width     int          `json:"final_width"`
		Growths   []toy.Growth `json:"growths"`
		Loss      []float64    `json:"loss"`
	}
	doc := struct {
		Config     toy.ToyConfig      `json:"config"`
		TotalSteps int                `json:"total_steps"`
		LossEvery  int                `json:"loss_every"`
		FinalLoss  map[string]float64 `json:"final_loss"`
		SplitBest  bool               `json:"split_best"`
		Runs       []run              `json:"runs"`
	}{Config: res.Config, TotalSteps: res.TotalSteps, LossEvery: every, FinalLoss: res.FinalLoss(), SplitBest: res.SplitBest()}
	for i := range res.Runs {
		r := &res.Runs[i]
		doc.Runs = append(doc.Runs, run{r.Method, r.FinalLoss, r.Width, r.Growths, r.Thin(every)})
	}
	if err := expJSONFile(js, doc); err != nil {
		return failed(err)
	}
	fmt.Fprintf(w, "toy: %s network on %s, %d points, %d steps (%s, lr %g), one neuron grown to %d, ε = %g\n",
		cfg.Act, cfg.Target, cfg.Points, res.TotalSteps, cfg.Optimizer, cfg.LR, cfg.MaxWidth, cfg.Eps)
	widths := map[string]int{}
	for _, r := range res.Runs {
		fmt.Fprintf(w, "  %-13s final loss %.4g  width %d\n", r.Method, r.FinalLoss, r.Width)
		widths[r.Method] = r.Width
	}
	fmt.Fprintf(w, "split below random-split and new-neuron: %t\nwrote %s, %s\n", res.SplitBest(), png, js)
	if *asJSON {
		return expJSONLine(w, struct {
			FinalLoss  map[string]float64 `json:"final_loss"`
			FinalWidth map[string]int     `json:"final_width"`
			SplitBest  bool               `json:"split_best"`
			TotalSteps int                `json:"total_steps"`
			PNG        string             `json:"png"`
			JSON       string             `json:"json"`
		}{res.FinalLoss(), widths, res.SplitBest(), res.TotalSteps, png, js})
	}
	return nil
}

func experimentStuck(ctx context.Context, args []string, w io.Writer) error {
	cfg := toy.DefaultStuckConfig()
	fs := flag.NewFlagSet("experiment stuck", flag.ContinueOnError)
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the teacher-student problems and students")
	fs.IntVar(&cfg.SearchTries, "search-tries", cfg.SearchTries, "students trained and checked for splitting stability as they stand")
	fs.IntVar(&cfg.ConstructTries, "construct-tries", cfg.ConstructTries, "students made stable by construction if the search finds none (0: search only)")
	fs.Float64Var(&cfg.Tol, "tol", cfg.Tol, "relative tolerance of λ_min ≥ 0 (times the largest |λ|)")
	fs.Float64Var(&cfg.Eps, "eps", cfg.Eps, "split step ε of the signed splits")
	fs.Float64Var(&cfg.SignedC, "signed-c", cfg.SignedC, "bound c on the total absolute off-spring weight (> 1)")
	fs.IntVar(&cfg.AfterSteps, "after-steps", cfg.AfterSteps, "Adam steps (then a polish) of training after the split")
	out := fs.String("out", "", "directory for stuck.json (none if empty)")
	asJSON := fs.Bool("json", false, "print the result as JSON on the last line")
	quietFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	res, err := toy.RunStuck(ctx, cfg)
	if err != nil {
		return err
	}
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		if err := expJSONFile(filepath.Join(*out, "stuck.json"), res); err != nil {
			return failed(err)
		}
	}
	how := "found by seed search"
	if res.Construction == "constructed" {
		how = fmt.Sprintf("constructed (the %d searched students, %d of them converged, were not splitting-stable; targets rebuilt around student %d)",
			res.SearchTries, res.SearchConverged, res.Try)
	}
	fmt.Fprintf(w, "stuck: softplus student (input dimension %d, width %d), %s; %d students trained\n", cfg.In, res.WidthBefore, how, res.Tries)
	fmt.Fprintf(w, "  local minimum: gradient norm %.2g, Hessian min/max eigenvalue %.3g\n", res.GradNorm, res.HessianMin)
	fmt.Fprintf(w, "  min λ_min %.4g ≥ −%.2g (relative tolerance %g): S2D selects %d neurons; max λ_max %.4g\n",
		res.MinLambdaMin, res.Tolerance, cfg.Tol, res.S2DSelected, res.MaxLambdaMax)
	fmt.Fprintf(w, "  signed splitting (c = %g, ε = %g) splits %d neurons, width %d → %d\n", cfg.SignedC, cfg.Eps, res.SignedSelected, res.WidthBefore, res.WidthAfter)
	fmt.Fprintf(w, "  loss %.6g → %.6g: change %.4g, predicted (ε²/2)·Σgain %.4g\n", res.LossBefore, res.LossAfterSigned, res.MeasuredChange, res.PredictedChange)
	fmt.Fprintf(w, "  after training on: %.6g (the unsplit network trained as long: %.6g)\n", res.LossAfterTrain, res.LossControl)
	if *asJSON {
		return expJSONLine(w, res)
	}
	return nil
}

func expJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

func expJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return run.WriteFile(path, append(b, '\n'))
}

// quietFlag gives a command that draws no progress bar the --quiet flag
// of every long-running command, so scripts can pass it to all of them.
func quietFlag(fs *flag.FlagSet) {
	fs.Bool("quiet", false, "no progress output (this command draws none)")
}
