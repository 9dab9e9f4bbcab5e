package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/nadir-ml/nadir/grow/continual"
	"github.com/nadir-ml/nadir/run"
	"github.com/nadir-ml/nadir/train"
)

func init() {
	register("continual", "learn tasks in sequence: Firefly with frozen per-task masks against fine-tuning, EWC and independent networks", cmdContinual)
}

func parseWidths(name, s string) ([]int, error) {
	var w []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--%s %q: want comma-separated positive widths", name, s)
		}
		w = append(w, n)
	}
	return w, nil
}

func cmdContinual(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("continual", flag.ContinueOnError)
	dataSrc := fs.String("data", "mnist", "dataset: mnist | fashion-mnist | idx:DIR")
	tasks := fs.String("tasks", "split:5", "task sequence: split:N (classes cut into N tasks) | permuted:N")
	maxTrain := fs.Int("max-train", 0, "use the first N training examples before cutting tasks (0: all)")
	hidden := fs.String("hidden", "64,64", "hidden widths of the baselines' MLP (finetune, ewc, each independent network)")
	seedW := fs.String("seed-width", "8,8", "Firefly's seed widths on the first task")
	var c continual.Config
	fs.IntVar(&c.Epochs, "epochs", 2, "training epochs per task (and after each Firefly growth step)")
	fs.IntVar(&c.Batch, "batch", 64, "mini-batch size")
	fs.Float64Var(&c.LR, "lr", 0.05, "SGD learning rate (momentum 0.9, cosine schedule per phase)")
	fs.IntVar(&c.Rounds, "rounds", 3, "Firefly: growth steps per task at most")
	fs.Float64Var(&c.GrowRatio, "grow-ratio", 0.5, "Firefly: units added per growth step as a fraction of the task network's units")
	fs.Float64Var(&c.Target, "target", 0.99, "Firefly: stop growing a task once its training accuracy reaches this")
	fs.Float64Var(&c.Lambda, "ewc-lambda", 100, "EWC penalty strength")
	fs.IntVar(&c.Steps, "candidate-steps", 30, "Firefly: candidate-training mini-batches per growth step")
	seed := fs.Uint64("seed", 1, "random seed")
	out := fs.String("out", "", "output directory for results.json and the plots (default runs/continual-<seed>)")
	asJSON := fs.Bool("json", false, "print the results as JSON on the last line")
	quiet := fs.Bool("quiet", false, "no progress bars")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	if c.Hidden, err = parseWidths("hidden", *hidden); err != nil {
		return err
	}
	if c.Seed, err = parseWidths("seed-width", *seedW); err != nil {
		return err
	}
	c.RandSeed = *seed
	if err := c.Validate(); err != nil {
		return err
	}
	if *maxTrain < 0 {
		return fmt.Errorf("--max-train %d: must be >= 0", *maxTrain)
	}
	if !strings.HasPrefix(*tasks, "split:") && !strings.HasPrefix(*tasks, "permuted:") {
		return fmt.Errorf("--tasks %q: want split:N or permuted:N", *tasks)
	}
	ds, err := train.LoadData(train.RunConfig{Data: *dataSrc, MaxTrain: *maxTrain, Train: train.Config{Seed: *seed}})
	if err != nil {
		return err
	}
	ts, err := continual.MakeTasks(ds.Train, ds.Test, *tasks, *seed)
	if err != nil {
		return err
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("runs", fmt.Sprintf("continual-%d", *seed))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return failed(err)
	}
	hooks := train.Hooks(train.NewProgress(*quiet || *asJSON))
	prog := func(m string, t int, acc []float64, params int) {
		if *asJSON {
			return
		}
		fmt.Printf("%-11s after task %d: params %7d, accuracy", m, t, params)
		for _, a := range acc {
			fmt.Printf(" %.4f", a)
		}
		fmt.Println()
	}
	// state.json holds the methods finished so far: rerunning the same
	// command with the same --out continues an interrupted comparison.
	statePath := filepath.Join(dir, "state.json")
	key := continualKey{Data: *dataSrc, Tasks: *tasks, MaxTrain: *maxTrain, Config: c}
	keyJSON, _ := json.Marshal(key)
	var state run.ContinualState
	if b, err := os.ReadFile(statePath); err == nil {
		var a, k any
		json.Unmarshal(keyJSON, &k)
		if json.Unmarshal(b, &state) != nil || json.Unmarshal(state.Key, &a) != nil || !reflect.DeepEqual(a, k) {
			return fmt.Errorf("--out %s holds a comparison with other settings (state.json); choose another --out", dir)
		}
		if !*asJSON && len(state.Methods) > 0 {
			fmt.Printf("continuing %s: %d of %d methods done\n", dir, len(state.Methods), len(continual.Methods))
		}
	}
	save := func(m map[string]*continual.Result) error {
		return run.WriteJSON(statePath, run.ContinualState{Key: keyJSON, Methods: m})
	}
	res, err := continual.Run(ctx, c, ts, hooks, prog, state.Methods, save)
	if err != nil {
		if ie := interrupted(ctx, err, dir); ie != nil {
			// Finished methods are in state.json; the same command
			// continues with the next.
			ie.(*exitError).err = fmt.Errorf("interrupted; continue with: nadir continual %s", continueArgs(args, *out, dir))
			return ie
		}
		return failed(err)
	}
	order := continual.Methods
	var list []*continual.Result
	for _, m := range order {
		list = append(list, res[m])
		if err := continual.PlotHeatmap(res[m], filepath.Join(dir, "heatmap-"+m+".png")); err != nil {
			return failed(err)
		}
	}
	if err := continual.PlotParams(list, filepath.Join(dir, "params.png")); err != nil {
		return failed(err)
	}
	sum := run.ContinualSummary{Command: "continual", Data: *dataSrc, Tasks: *tasks, Methods: res}
	if err := run.WriteJSON(filepath.Join(dir, "results.json"), sum); err != nil {
		return failed(err)
	}
	if *asJSON {
		return printJSON(struct {
			Methods map[string]*run.ContinualResult `json:"methods"`
		}{res})
	}
	fmt.Printf("\n%-11s %10s %10s %9s\n", "method", "avg acc", "forgetting", "params")
	for _, m := range order {
		r := res[m]
		fmt.Printf("%-11s %10.4f %10.4f %9d\n", m, r.AverageAccuracy, r.Forgetting, r.Params)
	}
	fmt.Printf("plots and results.json: %s\n", dir)
	return nil
}

// continualKey is state.json's key: the settings a continued comparison
// must share with the interrupted one.
type continualKey struct {
	Data     string           `json:"data"`
	Tasks    string           `json:"tasks"`
	MaxTrain int              `json:"max_train"`
	Config   continual.Config `json:"config"`
}

// continueArgs is the command line that continues an interrupted
// comparison: the same arguments, with --out DIR when it was defaulted,
// quoted for a POSIX shell where needed.
func continueArgs(args []string, out, dir string) string {
	if out == "" {
		args = append(slices.Clone(args), "--out", dir)
	}
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = a
		if a == "" || strings.ContainsFunc(a, func(r rune) bool {
			return !(r == '-' || r == '_' || r == '.' || r == '/' || r == ':' || r == ',' || r == '=' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}
