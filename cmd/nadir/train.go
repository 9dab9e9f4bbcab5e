package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/nadir-ml/nadir/coexplore"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
	"github.com/nadir-ml/nadir/run"
	"github.com/nadir-ml/nadir/tensor"
	"github.com/nadir-ml/nadir/train"
)

func init() {
	register("train", "train a network on a dataset", cmdTrain)
	register("eval", "evaluate a run's network: nadir eval DIR", cmdEval)
	register("inspect", "architecture, parameters and MACs per layer: nadir inspect DIR|CKPT", cmdInspect)
	register("resume", "continue an interrupted run: nadir resume DIR", cmdResume)
}

// runFlags are the flags shared by train and grow.
type runFlags struct {
	cfg       train.RunConfig
	defaultLR float64
	seed      uint64
	json      bool
	quiet     bool
	out       string
	init      string
	maxMemory string
}

func (f *runFlags) register(fs *flag.FlagSet, model string, epochs int, lr float64, opt string) {
	c := &f.cfg
	f.defaultLR = lr
	fs.StringVar(&c.Data, "data", "mnist", "dataset: mnist | fashion-mnist | idx:DIR | csv:FILE")
	fs.StringVar(&c.Label, "label", "", "csv label column (name or index; default last)")
	fs.IntVar(&c.MaxTrain, "max-train", 0, "use the first N training examples (0: all)")
	fs.Float64Var(&c.ValFrac, "val", 0, "fraction of training data held out for validation / early stopping")
	fs.StringVar(&c.Model, "model", model, "model: mlp:H1,H2,... or cnn:TOKENS (c<N>[k<K>][s2], d<N>, p, g, f<N>)")
	fs.StringVar(&c.Act, "act", "relu", "activation: relu, leakyrelu[:slope], softplus[:beta], tanh, sigmoid, swish, identity")
	fs.IntVar(&c.Epochs, "epochs", epochs, "training epochs")
	fs.IntVar(&c.Threads, "threads", 0, "kernel threads (0: all cores)")
	fs.StringVar(&c.Train.Optimizer, "optimizer", opt, "optimizer: sgd | adam | rmsprop")
	fs.Float64Var(&c.Train.LR, "lr", 0, fmt.Sprintf("learning rate (0: %g for sgd on mlp, %g for sgd on cnn, 0.001 for adam/rmsprop)", lr, train.DefaultLR("cnn:", "sgd", lr)))
	fs.StringVar(&c.Train.Schedule, "schedule", "cosine", "lr schedule: const | cosine | step")
	fs.Float64Var(&c.Train.WeightDecay, "wd", 0, "L2 weight decay")
	fs.IntVar(&c.Train.Batch, "batch", 64, "mini-batch size")
	fs.IntVar(&c.Train.Augment, "augment", 0, "random image shifts of up to N pixels")
	fs.IntVar(&c.Train.Patience, "patience", 0, "early stopping patience in epochs (needs --val)")
	fs.IntVar(&c.Train.CkptSteps, "ckpt-steps", 200, "also checkpoint every N steps inside an epoch (0: epoch ends only)")
	fs.Uint64Var(&f.seed, "seed", 1, "random seed: the same seed gives the same run")
	fs.StringVar(&f.out, "out", "", "run directory (default runs/<command>-<seed>, or -2, -3, ... when taken)")
	fs.BoolVar(&f.json, "json", false, "print summary.json as the last line of stdout")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bars")
	fs.StringVar(&f.init, "init", "", "start from the weights of a file nadir exported (FILE.safetensors or FILE.onnx; shapes must match --model)")
	fs.StringVar(&f.maxMemory, "max-memory", "", "memory training may use, e.g. 8G (default: what the system has available)")
}

func (f *runFlags) resolve(command string) error {
	c := &f.cfg
	c.Command = command
	c.Train.Seed = f.seed
	if f.out == "" {
		// Without --out, a repeated command gets a fresh directory rather
		// than refusing to overwrite the previous run.
		base := filepath.Join("runs", fmt.Sprintf("%s-%d", command, f.seed))
		f.out = base
		for i := 2; ; i++ {
			if _, err := os.Stat(f.out); err != nil {
				break
			}
			f.out = fmt.Sprintf("%s-%d", base, i)
		}
	}
	if err := train.Resolve(c, f.defaultLR); err != nil {
		return asFlags(err)
	}
	if f.maxMemory != "" {
		var err error
		if c.MaxMemory, err = train.ParseBytes(f.maxMemory); err != nil {
			return fmt.Errorf("--max-memory: %v", err)
		}
	}
	tensor.SetThreads(c.Threads)
	return nil
}

func buildModel(cfg train.RunConfig, ds train.Datasets) (*nn.Net, error) {
	return train.BuildModel(cfg, ds)
}

func cmdTrain(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	var f runFlags
	f.register(fs, "mlp:128", 2, 0.05, "sgd")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	if err := f.resolve("train"); err != nil {
		return err
	}
	ds, err := train.LoadData(f.cfg)
	if err != nil {
		return err
	}
	net, err := buildModel(f.cfg, ds)
	if err != nil {
		return err
	}
	if err := applyInit(net, f.init); err != nil {
		return err
	}
	opt, _ := optim.New(f.cfg.Train.Optimizer, f.cfg.Train.WeightDecay)
	s, err := createSession(f.out, f.cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := logInit(s, f.init); err != nil {
		return failed(err)
	}
	t, err := s.NewTrainer(net, opt, ds)
	if err != nil {
		return err
	}
	t.BeginPhase(f.cfg.Epochs)
	return finishTraining(ctx, s, t, f.json, f.quiet)
}

func finishTraining(ctx context.Context, s *train.Session, t *train.Trainer, asJSON, quiet bool) error {
	t.Hooks = train.Hooks(train.NewProgress(quiet), epochPrinter{quiet: asJSON || quiet})
	sum, err := train.RunTraining(ctx, s, t)
	if err != nil {
		if ie := interrupted(ctx, err, s.Dir); ie != nil {
			return ie
		}
		var d *train.DivergedError
		if errors.As(err, &d) {
			return failed(err)
		}
		return err
	}
	if asJSON {
		return fprintJSON(stdout(ctx), sum)
	}
	fmt.Fprintf(stdout(ctx), "test accuracy %.4f  loss %.4f  params %d  MACs %d  (%.1fs)  run: %s\n",
		sum.TestAccuracy, sum.TestLoss, sum.Params, sum.MACs, sum.Seconds, s.Dir)
	return nil
}

// epochPrinter prints nothing per step; the trainer logs epochs itself.
type epochPrinter struct{ quiet bool }

func (epochPrinter) PhaseStart(string, int) {}
func (epochPrinter) StepDone(int, float64)  {}
func (epochPrinter) PhaseEnd()              {}

func printJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}

func cmdResume(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("resume", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print summary.json as the last line of stdout")
	quiet := fs.Bool("quiet", false, "no progress bars")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: nadir resume DIR")
	}
	switch c, _ := run.Command(pos[0]); c {
	case npiTrainCommand:
		return npiResume(ctx, pos[0], *quiet, *asJSON, os.Stdout, os.Stderr)
	case coexplore.Command:
		return coexploreResume(ctx, pos[0], *quiet, *asJSON)
	}
	s, ck, err := train.OpenSession(pos[0])
	if err != nil {
		return err
	}
	defer s.Close()
	if ck.Warning != "" {
		fmt.Fprintln(os.Stderr, "nadir resume: warning:", ck.Warning)
	}
	tensor.SetThreads(s.Cfg.Threads)
	switch s.Cfg.Command {
	case "train":
		t, _, err := restoreTrainer(s, ck)
		if err != nil {
			return err
		}
		return finishTraining(ctx, s, t, *asJSON, *quiet)
	case "grow":
		return resumeGrow(ctx, s, ck, *asJSON, *quiet)
	}
	return fmt.Errorf("%s: unknown command %q in config.json", pos[0], s.Cfg.Command)
}

// restoreTrainer rebuilds a run's data, network, optimiser and position
// from its last checkpoint.
func restoreTrainer(s *train.Session, ck *train.Checkpoint) (*train.Trainer, train.Datasets, error) {
	ds, err := train.LoadData(s.Cfg)
	if err != nil {
		return nil, ds, err
	}
	net, opt, err := ck.Restore()
	if err != nil {
		return nil, ds, err
	}
	t, err := s.NewTrainer(net, opt, ds)
	if err != nil {
		return nil, ds, err
	}
	t.Pos = ck.Pos
	return t, ds, nil
}

// loadNetData reads a run's (or checkpoint's) network and the data it was
// trained on, or the data named by dataFlag.
func loadNetData(path, dataFlag string) (*nn.Net, train.Datasets, string, error) {
	net, cfg, err := loadNet(path)
	if err != nil {
		return nil, train.Datasets{}, "", err
	}
	rc := train.RunConfig{Data: "mnist"}
	if cfg != nil {
		rc = *cfg
	}
	if dataFlag != "" {
		rc.Data = dataFlag
	}
	ds, err := train.LoadData(rc)
	if err != nil {
		return nil, ds, "", err
	}
	if got, want := ds.Test.Dim(), tensor.Numel(net.In); got != want {
		return nil, ds, "", fmt.Errorf("data %s has %d inputs per example, the network takes %d", rc.Data, got, want)
	}
	return net, ds, rc.Data, nil
}

// loadNet reads a network from a run directory (its last checkpoint) or a
// checkpoint file.
func loadNet(path string) (*nn.Net, *train.RunConfig, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	var cfg *train.RunConfig
	var ck *train.Checkpoint
	if st.IsDir() {
		if c, _ := run.Command(path); c == npiTrainCommand {
			return nil, nil, fmt.Errorf("%s: an NPI run, not a network (see nadir npi eval|verify|run)", path)
		}
		if c, err := run.ReadConfig(path); err == nil {
			cfg = &c
		}
		ck, err = train.LoadRunCheckpoint(path)
	} else {
		ck, err = train.LoadCheckpoint(path)
	}
	if err != nil {
		return nil, nil, err
	}
	if ck.Warning != "" {
		fmt.Fprintln(os.Stderr, "nadir: warning:", ck.Warning)
	}
	net, _, err := ck.Restore()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", path, err)
	}
	return net, cfg, nil
}

func cmdEval(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	dataFlag := fs.String("data", "", "dataset (default: the run's)")
	asJSON := fs.Bool("json", false, "print the metrics as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: nadir eval DIR|CKPT [--data SRC]")
	}
	net, ds, _, err := loadNetData(pos[0], *dataFlag)
	if err != nil {
		return err
	}
	m := train.Evaluate(net, ds.Test, 500)
	if *asJSON {
		return printJSON(struct {
			TestAccuracy float64 `json:"test_accuracy"`
			TestLoss     float64 `json:"test_loss"`
			Confusion    [][]int `json:"confusion"`
		}{m.Accuracy, m.Loss, m.Confusion})
	}
	fmt.Printf("test accuracy %.4f  loss %.4f  (%d examples)\nconfusion (rows: true, columns: predicted):\n", m.Accuracy, m.Loss, ds.Test.Len())
	for _, row := range m.Confusion {
		for _, v := range row {
			fmt.Printf("%6d", v)
		}
		fmt.Println()
	}
	return nil
}

func cmdInspect(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: nadir inspect DIR|CKPT")
	}
	net, _, err := loadNet(pos[0])
	if err != nil {
		return err
	}
	type row struct {
		Index  int    `json:"index"`
		Kind   string `json:"kind"`
		Out    []int  `json:"out"`
		Params int    `json:"params"`
		MACs   int64  `json:"macs"`
		Detail string `json:"detail"`
	}
	var rows []row
	for i, l := range net.Layers {
		p := 0
		for _, q := range l.Params() {
			p += q.Len()
		}
		sp := l.Spec()
		var d []string
		if sp.Kernel > 0 {
			d = append(d, fmt.Sprintf("k%d s%d p%d", sp.Kernel, max(sp.Stride, 1), sp.Pad))
		}
		if sp.Groups > 1 {
			d = append(d, fmt.Sprintf("groups %d", sp.Groups))
		}
		if sp.Act != "" {
			d = append(d, sp.Act)
		}
		if sp.Origin != "" {
			d = append(d, "("+sp.Origin+")")
		}
		rows = append(rows, row{i, sp.Kind, l.OutShape(), p, nn.LayerMACs(l), strings.Join(d, " ")})
	}
	if *asJSON {
		return printJSON(struct {
			Input  []int `json:"input"`
			Layers []row `json:"layers"`
			Params int   `json:"params"`
			MACs   int64 `json:"macs"`
		}{net.In, rows, net.NumParams(), net.MACs()})
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "#\tlayer\toutput\tparams\tMACs\t\t")
	for _, r := range rows {
		fmt.Fprintf(w, "%d\t%s\t%v\t%d\t%d\t%s\t\n", r.Index, r.Kind, r.Out, r.Params, r.MACs, r.Detail)
	}
	fmt.Fprintf(w, "\ttotal\t%v\t%d\t%d\t\t\n", net.OutShape(), net.NumParams(), net.MACs())
	return w.Flush()
}
