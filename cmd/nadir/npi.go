package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/nadir-ml/nadir/npi"
)

const npiUsage = `usage:
  nadir npi train --task addition|bubblesort|toposort|quicksort [--no-recursion] --out DIR [flags]
  nadir npi eval DIR [--sizes 5,10,50,100] [--n 20] [--json]
  nadir npi verify DIR [--json]
  nadir npi run DIR --input INPUT
inputs: addition 123+4567; bubblesort/quicksort 5,3,9,1; toposort N:u>v,u>v (e.g. 4:0>1,0>2,2>3)`

func init() {
	register("npi", "recursive neural programs: nadir npi train|eval|verify|run (see nadir npi help)",
		func(ctx context.Context, args []string) error { return runNPI(ctx, args) })
}

// runNPI runs `nadir npi ...`; args are what follows "npi". Errors a user
// causes (flags, inputs, a missing or corrupt run directory) exit with 2,
// failures to write the run directory with 1.
func runNPI(ctx context.Context, args []string) error {
	return npiMainCtx(ctx, args, os.Stdout, os.Stderr)
}

func npiMain(args []string, stdout, stderr io.Writer) error {
	return npiMainCtx(context.Background(), args, stdout, stderr)
}

// npiMainCtx is npiMain with the context that signals cancel: training
// then stops, and `nadir resume DIR` continues it.
func npiMainCtx(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("want a subcommand: train, eval, verify or run\n" + npiUsage)
	}
	switch args[0] {
	case "train":
		return npiTrain(ctx, args[1:], stdout, stderr)
	case "eval":
		return npiEval(args[1:], stdout, stderr)
	case "verify":
		return npiVerify(args[1:], stdout)
	case "run":
		return npiRun(args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, npiUsage)
		return nil
	}
	return fmt.Errorf("unknown subcommand %q (want train, eval, verify or run)", args[0])
}

// npiFlags parses flags that may come before or after positional
// arguments and returns the positional ones. errHelp reports -h.
func npiFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%s: %v", strings.TrimPrefix(fs.Name(), "npi "), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func npiHelp(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintf(w, "usage of %s:\n", fs.Name())
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// npiDir takes the single run-directory argument of eval, verify and run.
// npiRunDir parses the flags of a command that takes one run directory;
// help is true when -h was asked for (and printed).
func npiRunDir(fs *flag.FlagSet, args []string, stdout io.Writer, cmd string) (dir string, help bool, err error) {
	pos, err := npiFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		npiHelp(fs, stdout)
		return "", true, nil
	}
	if err != nil {
		return "", false, err
	}
	dir, err = npiDir(cmd, pos)
	return dir, false, err
}

func npiDir(cmd string, pos []string) (string, error) {
	if len(pos) != 1 {
		return "", fmt.Errorf("%s: want one run directory, got %d arguments", cmd, len(pos))
	}
	return pos[0], nil
}

// npiProgress returns a callback drawing a progress bar on stderr when stderr
// is a terminal and quiet is false (nil otherwise), and a function that
// finishes the bar.
func npiProgress(desc string, quiet bool, stderr io.Writer) (func(done, total int), func()) {
	f, ok := stderr.(*os.File)
	if quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, func() {}
	}
	var bar *progressbar.ProgressBar
	update := func(done, total int) {
		if bar == nil {
			bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(stderr),
				progressbar.OptionSetDescription(desc), progressbar.OptionShowCount(),
				progressbar.OptionSetElapsedTime(true), progressbar.OptionClearOnFinish())
		}
		bar.Set(done)
	}
	return update, func() {
		if bar != nil {
			bar.Finish()
		}
	}
}

func npiVariant(recursive bool) string {
	if recursive {
		return "recursive"
	}
	return "non-recursive"
}

// npiPrintJSON writes v as one line: the last line of stdout.
func npiPrintJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// npiTrainRecord is DIR/config.json: every setting of the run, resolved.
type npiTrainRecord struct {
	Command   string          `json:"command"`
	Task      string          `json:"task"`
	Recursive bool            `json:"recursive"`
	Seed      uint64          `json:"seed"`
	Traces    int             `json:"traces"`
	MaxSize   int             `json:"max_size"`
	Batch     int             `json:"batch"`
	LR        float64         `json:"lr"`
	MaxEpochs int             `json:"max_epochs"`
	TimeLimit string          `json:"time_limit"`
	Patience  int             `json:"patience"`
	Model     npi.ModelConfig `json:"model"`
	Started   string          `json:"started"`
	Out       string          `json:"out"`
}

func npiTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("npi train", flag.ContinueOnError)
	task := fs.String("task", "", "task: "+strings.Join(npi.TaskNames, ", "))
	noRec := fs.Bool("no-recursion", false, "train the non-recursive (looping) variant")
	out := fs.String("out", "", "run directory to write (model.npi, config.json, summary.json)")
	seed := fs.Uint64("seed", 1, "random seed (data, initialisation, order)")
	hidden := fs.Int("hidden", 64, "LSTM units")
	traces := fs.Int("traces", 0, "random training inputs (0: task default)")
	maxSize := fs.Int("max-size", 0, "largest training input size (0: task default: 5 digits, 7 elements, 6 vertices)")
	batch := fs.Int("batch", 32, "invocations per update")
	lr := fs.Float64("lr", 0.003, "Adam learning rate")
	epochs := fs.Int("epochs", 400, "maximum epochs")
	limit := fs.Duration("time-limit", 4*time.Minute+30*time.Second, "maximum training time")
	quiet := fs.Bool("quiet", false, "no progress bar")
	asJSON := fs.Bool("json", false, "print the summary as one JSON object")
	pos, err := npiFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		npiHelp(fs, stdout)
		return nil
	}
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("train: unexpected argument %q", pos[0])
	}
	if *task == "" {
		return errors.New("train: --task is required (" + strings.Join(npi.TaskNames, ", ") + ")")
	}
	if *out == "" {
		return errors.New("train: --out DIR is required")
	}
	t, err := npi.NewTask(*task, !*noRec)
	if err != nil {
		return fmt.Errorf("train: --task: %v", err)
	}
	if *hidden < 1 || *traces < 0 || *maxSize < 0 || *batch < 1 || *lr <= 0 || *epochs < 1 || *limit <= 0 {
		return errors.New("train: --hidden, --batch, --lr, --epochs and --time-limit must be positive; --traces and --max-size non-negative")
	}
	mc := npi.DefaultModelConfig(*task, !*noRec)
	mc.Hidden = *hidden
	cfg := npi.TrainConfig{Model: mc, Seed: *seed, Traces: *traces, MaxSize: *maxSize, Batch: *batch,
		LR: *lr, MaxEpochs: *epochs, TimeLimit: *limit}.WithDefaults(t)
	abs, _ := filepath.Abs(*out)
	rec := npiTrainRecord{Command: "nadir npi train", Task: *task, Recursive: !*noRec, Seed: cfg.Seed,
		Traces: cfg.Traces, MaxSize: cfg.MaxSize, Batch: cfg.Batch, LR: cfg.LR, MaxEpochs: cfg.MaxEpochs,
		TimeLimit: cfg.TimeLimit.String(), Patience: cfg.Patience, Model: cfg.Model,
		Started: time.Now().UTC().Format(time.RFC3339), Out: abs}
	if err := npi.WriteJSON(filepath.Join(*out, "config.json"), rec); err != nil {
		return failed(fmt.Errorf("train: %v", err))
	}
	return npiRunTraining(ctx, *out, t, cfg, *quiet, *asJSON, stdout, stderr)
}

// npiRunTraining trains (or, with cfg.Resume, continues training) with a
// state checkpoint after every epoch, then writes the model and summary.
func npiRunTraining(ctx context.Context, out string, t npi.Task, cfg npi.TrainConfig, quiet, asJSON bool, stdout, stderr io.Writer) error {
	update, finish := npiProgress("training "+t.Name(), quiet, stderr)
	cfg.Progress = update
	cfg.Context = ctx
	var saveErr error
	cfg.Checkpoint = func(st *npi.TrainState) error {
		saveErr = npi.SaveTrainState(out, st)
		return saveErr
	}
	m, sum, err := npi.Train(t, cfg)
	finish()
	if err != nil {
		if ie := interrupted(ctx, err, out); ie != nil {
			return ie
		}
		if saveErr != nil {
			return failed(fmt.Errorf("train: %v", err))
		}
		return fmt.Errorf("train: %v", err)
	}
	if err := npi.Save(out, m); err != nil {
		return failed(fmt.Errorf("train: %v", err))
	}
	if err := npi.WriteJSON(filepath.Join(out, "summary.json"), sum); err != nil {
		return failed(fmt.Errorf("train: %v", err))
	}
	os.Remove(filepath.Join(out, npi.StateFile)) // finished: nothing left to resume
	if asJSON {
		return npiPrintJSON(stdout, sum)
	}
	state := "converged"
	if !sum.Converged {
		state = "stopped before 100% training step accuracy"
	}
	fmt.Fprintf(stdout, "%s (%s): %d distinct invocations from %d inputs of size ≤ %d\n",
		t.Name(), npiVariant(t.Recursive()), sum.Sequences, sum.Inputs, cfg.MaxSize)
	fmt.Fprintf(stdout, "trained in %.1f s, %d epochs: step accuracy %.2f%%, loss %.3g (%s)\n",
		sum.Seconds, sum.Epochs, 100*sum.StepAccuracy, sum.Loss, state)
	fmt.Fprintf(stdout, "model written to %s\n", filepath.Join(out, npi.ModelFile))
	return nil
}

// isNPITrainRun reports whether dir holds a `nadir npi train` run (finished
// or not: an interrupted one has no model file yet).
func isNPITrainRun(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	var rec npiTrainRecord
	return err == nil && json.Unmarshal(b, &rec) == nil && rec.Command == "nadir npi train"
}

// npiResume continues an interrupted `nadir npi train` run from its
// training state (what `nadir resume DIR` does for an NPI run directory).
func npiResume(ctx context.Context, dir string, quiet, asJSON bool) error {
	var rec npiTrainRecord
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return fmt.Errorf("%s/config.json: %v", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "summary.json")); err == nil {
		return fmt.Errorf("%s: the run has finished (summary.json exists)", dir)
	}
	st, err := npi.LoadTrainState(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: no training state yet (%s); start the run again", dir, npi.StateFile)
	} else if err != nil {
		return err
	}
	t, err := npi.NewTask(rec.Task, rec.Recursive)
	if err != nil {
		return fmt.Errorf("%s/config.json: %v", dir, err)
	}
	limit, err := time.ParseDuration(rec.TimeLimit)
	if err != nil {
		return fmt.Errorf("%s/config.json: time_limit: %v", dir, err)
	}
	cfg := npi.TrainConfig{Model: rec.Model, Seed: rec.Seed, Traces: rec.Traces, MaxSize: rec.MaxSize, Batch: rec.Batch,
		LR: rec.LR, MaxEpochs: rec.MaxEpochs, TimeLimit: limit, Patience: rec.Patience, Resume: st}.WithDefaults(t)
	return npiRunTraining(ctx, dir, t, cfg, quiet, asJSON, os.Stdout, os.Stderr)
}

func npiParseSizes(s string) ([]int, error) {
	var sizes []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("--sizes: %q is not a positive integer", f)
		}
		sizes = append(sizes, v)
	}
	return sizes, nil
}

// npiEvalRecord is the eval command's JSON output and DIR/eval.json.
type npiEvalRecord struct {
	Task         string             `json:"task"`
	Recursive    bool               `json:"recursive"`
	Inputs       int                `json:"inputs_per_size"`
	Seed         uint64             `json:"seed"`
	Accuracy     map[string]float64 `json:"accuracy"`
	StepAccuracy map[string]float64 `json:"step_accuracy"`
	Results      []npi.SizeResult   `json:"results"`
}

func npiEval(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("npi eval", flag.ContinueOnError)
	sizesFlag := fs.String("sizes", "5,10,50,100", "comma-separated input sizes (digits, elements, vertices)")
	n := fs.Int("n", 20, "random inputs per size")
	seed := fs.Uint64("seed", 1, "seed of the evaluation inputs")
	workers := fs.Int("workers", 2, "inputs evaluated in parallel")
	asJSON := fs.Bool("json", false, "print one JSON object (accuracy per size)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	dir, help, err := npiRunDir(fs, args, stdout, "eval")
	if help || err != nil {
		return err
	}
	sizes, err := npiParseSizes(*sizesFlag)
	if err != nil {
		return fmt.Errorf("eval: %v", err)
	}
	if *n < 1 || *workers < 1 {
		return errors.New("eval: --n and --workers must be positive")
	}
	m, err := npi.Load(dir)
	if err != nil {
		return fmt.Errorf("eval: %v", err)
	}
	update, finish := npiProgress("evaluating", *quiet, stderr)
	res, err := npi.Evaluate(m, npi.EvalConfig{Sizes: sizes, N: *n, Seed: *seed, Workers: *workers, Progress: update})
	finish()
	if err != nil {
		return fmt.Errorf("eval: %v", err)
	}
	rec := npiEvalRecord{Task: m.Config.Task, Recursive: m.Config.Recursive, Inputs: *n, Seed: *seed,
		Accuracy: map[string]float64{}, StepAccuracy: map[string]float64{}, Results: res}
	for _, r := range res {
		k := strconv.Itoa(r.Size)
		rec.Accuracy[k] = r.Accuracy
		rec.StepAccuracy[k] = r.StepAccuracy
	}
	if err := npi.WriteJSON(filepath.Join(dir, "eval.json"), rec); err != nil {
		return failed(fmt.Errorf("eval: %v", err))
	}
	if *asJSON {
		return npiPrintJSON(stdout, rec)
	}
	fmt.Fprintf(stdout, "%s (%s), %d random inputs per size\n", rec.Task, npiVariant(rec.Recursive), *n)
	fmt.Fprintf(stdout, "%6s  %8s  %9s  %8s  %8s  %10s\n", "size", "exact", "steps", "runaway", "invalid", "ref steps")
	for _, r := range res {
		fmt.Fprintf(stdout, "%6d  %7.1f%%  %8.3f%%  %8d  %8d  %10.0f\n", r.Size, 100*r.Accuracy, 100*r.StepAccuracy, r.Runaways, r.Failures, r.RefSteps)
	}
	for _, r := range res {
		if r.Example != "" {
			fmt.Fprintf(stdout, "first wrong input at size %d: %s\n", r.Size, r.Example)
			break
		}
	}
	return nil
}

// npiVerifyRecord is the verify command's JSON output and DIR/verify.json.
type npiVerifyRecord struct {
	Task      string `json:"task"`
	Recursive bool   `json:"recursive"`
	*npi.Verification
}

func npiVerify(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("npi verify", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print one JSON object (verified, cases, failed)")
	dir, help, err := npiRunDir(fs, args, stdout, "verify")
	if help || err != nil {
		return err
	}
	m, err := npi.Load(dir)
	if err != nil {
		return fmt.Errorf("verify: %v", err)
	}
	v := npi.Verify(m)
	rec := npiVerifyRecord{Task: m.Config.Task, Recursive: m.Config.Recursive, Verification: v}
	if err := npi.WriteJSON(filepath.Join(dir, "verify.json"), rec); err != nil {
		return failed(fmt.Errorf("verify: %v", err))
	}
	if *asJSON {
		return npiPrintJSON(stdout, rec)
	}
	name := fmt.Sprintf("%s (%s)", rec.Task, npiVariant(rec.Recursive))
	if v.Verified {
		fmt.Fprintf(stdout, "%s: verified: all %d cases of the verification set pass\n", name, v.Cases)
		return nil
	}
	fmt.Fprintf(stdout, "%s: NOT verified\n", name)
	if v.Reason != "" {
		fmt.Fprintf(stdout, "  %s\n", v.Reason)
	}
	fmt.Fprintf(stdout, "  %d of %d cases fail", v.Failures, v.Cases)
	if v.Failed != "" {
		fmt.Fprintf(stdout, "; first: %s\n  %s\n", v.Failed, v.Detail)
	} else {
		fmt.Fprintln(stdout)
	}
	return nil
}

func npiRun(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("npi run", flag.ContinueOnError)
	input := fs.String("input", "", "the problem: 123+4567 | 5,3,9,1 | N:u>v,u>v")
	dir, help, err := npiRunDir(fs, args, stdout, "run")
	if help || err != nil {
		return err
	}
	if *input == "" {
		return errors.New("run: --input is required")
	}
	m, err := npi.Load(dir)
	if err != nil {
		return fmt.Errorf("run: %v", err)
	}
	t := m.Task()
	in, err := t.ParseInput(*input)
	if err != nil {
		return fmt.Errorf("run: --input: %v", err)
	}
	progs := t.Programs()
	lim, _ := npi.ReferenceLimits(t, in)
	env := t.NewEnv(in)
	steps, runErr := npi.NewRunner(m).Run(env, lim, func(depth int, c npi.Call) {
		fmt.Fprintf(stdout, "%s%s\n", strings.Repeat("  ", depth), npi.FormatCall(progs, c))
	})
	if runErr != nil {
		return fmt.Errorf("run: %v", runErr)
	}
	_, ref := npi.Trace(t, in)
	verdict := "correct"
	if !t.Correct(in, env) {
		verdict = "WRONG; the reference gives " + ref.Output()
	}
	fmt.Fprintf(stdout, "result: %s (%s, %d steps)\n", env.Output(), verdict, steps)
	return nil
}
