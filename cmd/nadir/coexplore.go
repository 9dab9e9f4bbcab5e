package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nadir-ml/nadir/coexplore"
	"github.com/nadir-ml/nadir/cost/fpga"
	"github.com/nadir-ml/nadir/dist"
	"github.com/nadir-ml/nadir/dist/coexec"
	"github.com/nadir-ml/nadir/dist/jetstream"
	"github.com/nadir-ml/nadir/report"
	"github.com/nadir-ml/nadir/tensor"
)

func init() {
	register("coexplore", "search a CNN and its multi-FPGA design together (and the NAS baselines)", cmdCoexplore)
	// Workers (nadir worker, and the local ones of --nats) train children.
	dist.Register(coexec.Command, coexec.Runner())
}

func cmdCoexplore(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("coexplore", flag.ContinueOnError)
	c := coexplore.DefaultConfig()
	mode := fs.String("mode", "coexplore", "coexplore | hw-aware | accuracy-only | all, or a comma list")
	space := fs.String("space", "default", "search space: default | paper | FILE.json")
	depths := fs.String("depths", "", "override the space's depths, e.g. 1,2,3")
	kernels := fs.String("kernels", "", "override the space's kernel sizes, e.g. 1,3,5,7")
	filters := fs.String("filters", "", "override the space's filter counts, e.g. 24,36,48,64")
	strides := fs.String("strides", "", "override the space's strides, e.g. 1,2")
	boards := fs.String("boards", strings.Join(c.Boards, ","), "board pool, comma list of: "+strings.Join(fpga.BoardNames(), ", "))
	accRange := fs.String("acc-range", fmt.Sprintf("%g,%g", c.AccLow, c.AccHigh), "accuracies mapped to reward -1 and +1")
	fs.IntVar(&c.Bits, "bits", c.Bits, "accelerator data width: 16 (fixed point) or 32 (float)")
	fs.Float64Var(&c.SpecThroughput, "spec-throughput", 0, "required images/s (0: the --spec-quantile of the space)")
	fs.Float64Var(&c.SpecQuantile, "spec-quantile", c.SpecQuantile, "without --spec-throughput: require the throughput this quantile of random architectures reaches")
	fs.IntVar(&c.Episodes, "episodes", c.Episodes, "controller episodes per mode")
	fs.IntVar(&c.Children, "children", c.Children, "children sampled per episode (trained together by the workers)")
	fs.Float64Var(&c.Alpha, "alpha", c.Alpha, "reward weight of accuracy (1-alpha: hardware efficiency)")
	fs.IntVar(&c.HWRetries, "hw-retries", c.HWRetries, "hardware re-samples per child before it is rejected")
	fs.IntVar(&c.Hidden, "hidden", c.Hidden, "controller LSTM units")
	fs.Float64Var(&c.CtrlLR, "controller-lr", c.CtrlLR, "controller RMSprop learning rate (halved every --controller-decay updates)")
	fs.IntVar(&c.Decay, "controller-decay", c.Decay, "updates between learning-rate halvings (0: none)")
	fs.Float64Var(&c.EMA, "baseline-decay", c.EMA, "moving-average decay of the reward baseline")
	fs.IntVar(&c.Workers, "workers", c.Workers, "children trained at once (with --nats: local workers on the queue; 0 with a --nats URL: remote workers only)")
	natsURL := fs.String("nats", "", "train children on NATS JetStream: URL of a server (workers join with nadir worker --nats URL) or embedded (in-process server + --workers local workers)")
	ackWait := fs.Duration("ack-wait", 30*time.Second, "NATS: redelivery timeout of a child without heartbeat")
	maxDeliver := fs.Int("max-deliver", 3, "NATS: deliveries before a failing child is dead-lettered")
	threads := fs.Int("threads", 0, "kernel threads (0: all cores)")
	fs.StringVar(&c.Data, "data", c.Data, "dataset: mnist | fashion-mnist | idx:DIR")
	fs.IntVar(&c.MaxTrain, "max-train", c.MaxTrain, "training examples used (first N; 0: all)")
	fs.Float64Var(&c.ValFrac, "val", c.ValFrac, "fraction of them held out to score children")
	fs.IntVar(&c.Epochs, "epochs", c.Epochs, "training epochs per child")
	fs.IntVar(&c.Train.Batch, "batch", c.Train.Batch, "children's mini-batch size")
	fs.Float64Var(&c.Train.LR, "lr", c.Train.LR, "children's learning rate")
	fs.StringVar(&c.Train.Optimizer, "optimizer", c.Train.Optimizer, "children's optimizer: sgd | adam | rmsprop")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "random seed: the same seed gives the same search")
	out := fs.String("out", "", "run directory (default runs/coexplore-<seed>, or -2, -3, ... when taken)")
	resume := fs.String("resume", "", "continue the interrupted search in this run directory (its config is kept: only --nats, --ack-wait, --max-deliver, --threads and output flags apply)")
	asJSON := fs.Bool("json", false, "print summary.json as the last line of stdout")
	quiet := fs.Bool("quiet", false, "no per-episode lines")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	if *threads < 0 {
		return fmt.Errorf("--threads %d: must be >= 0", *threads)
	}
	if *maxDeliver < 1 || *ackWait < time.Second {
		return errors.New("--max-deliver must be >= 1 and --ack-wait >= 1s")
	}
	// Remote workers only: the config still needs one worker to validate;
	// the executor gets none.
	remoteOnly := *natsURL != "" && *natsURL != "embedded" && c.Workers == 0
	if remoteOnly {
		c.Workers = 1
	}
	if *natsURL == "embedded" && c.Workers < 1 {
		return errors.New("--nats embedded needs --workers >= 1")
	}
	var s *coexplore.Search
	if *resume != "" {
		s, err = coexplore.Open(*resume, nil)
		if err != nil {
			return err
		}
	} else {
		if c.Modes, err = coexplore.ParseModes(*mode); err != nil {
			return err
		}
		if c.Space, err = coexplore.LoadSpace(*space); err != nil {
			return err
		}
		c.SpaceName = *space
		for _, o := range []struct {
			flag string
			dst  *[]int
		}{{*depths, &c.Space.Depths}, {*kernels, &c.Space.Kernels}, {*filters, &c.Space.Filters}, {*strides, &c.Space.Strides}} {
			if o.flag != "" {
				if *o.dst, err = coexplore.ParseInts(o.flag); err != nil {
					return fmt.Errorf("search space: %v", err)
				}
			}
		}
		c.Boards = splitList(*boards)
		lo, hi, ok := strings.Cut(*accRange, ",")
		var e1, e2 error
		c.AccLow, e1 = strconv.ParseFloat(strings.TrimSpace(lo), 64)
		c.AccHigh, e2 = strconv.ParseFloat(strings.TrimSpace(hi), 64)
		if !ok || e1 != nil || e2 != nil {
			return fmt.Errorf("--acc-range %q: want LOW,HIGH", *accRange)
		}
		if err := c.Validate(); err != nil {
			return err
		}
		dir := *out
		if dir == "" {
			base := filepath.Join("runs", fmt.Sprintf("coexplore-%d", c.Seed))
			dir = base
			for i := 2; ; i++ {
				if _, err := os.Stat(dir); err != nil {
					break
				}
				dir = fmt.Sprintf("%s-%d", base, i)
			}
		}
		if s, err = coexplore.Create(dir, c, nil); err != nil {
			return err
		}
	}
	defer s.Close()
	return runCoexplore(ctx, s, coexploreOpts{nats: *natsURL, remoteOnly: remoteOnly, threads: *threads,
		jet: jetstream.Options{AckWait: *ackWait, MaxDeliver: *maxDeliver}, quiet: *quiet, asJSON: *asJSON})
}

// coexploreOpts are the flags that apply to a new and a resumed search.
type coexploreOpts struct {
	nats          string
	remoteOnly    bool
	threads       int
	jet           jetstream.Options
	quiet, asJSON bool
}

// coexploreResume continues the search in dir with local workers (nadir
// resume DIR); --resume DIR keeps the other executor flags.
func coexploreResume(ctx context.Context, dir string, quiet, asJSON bool) error {
	s, err := coexplore.Open(dir, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	return runCoexplore(ctx, s, coexploreOpts{quiet: quiet, asJSON: asJSON})
}

// runCoexplore runs (or continues) an open search and prints its results.
// A signal stops it before the next episode (or drops the episode in
// flight), so the last checkpoint is consistent and resuming equals an
// uninterrupted run.
func runCoexplore(ctx context.Context, s *coexplore.Search, o coexploreOpts) error {
	workers := s.Cfg.Workers
	tensor.SetThreads(o.threads)
	if workers > 1 {
		tensor.SetThreads(max(1, tensor.Threads()/workers))
	}
	if o.nats == "" {
		s.Exec = coexplore.NewLocal(workers)
	} else {
		n := workers
		if o.remoteOnly {
			n = 0
		}
		ex, stop, err := sweepExecutor(ctx, o.nats, n, s.Dir, o.jet)
		if err != nil {
			return err
		}
		defer stop()
		s.Exec = &coexec.Executor{Exec: ex, Dir: filepath.Join(s.Dir, "trials")}
		if !o.quiet && o.nats != "embedded" {
			fmt.Fprintf(os.Stderr, "children go to %s; %d local workers (start more with `nadir worker --nats %s`)\n", o.nats, n, o.nats)
		}
	}
	if !o.quiet {
		s.Progress = os.Stderr
		fmt.Fprintf(os.Stderr, "run %s: space %s (%.0f networks), boards %s, spec %.0f img/s\n",
			s.Dir, s.Cfg.SpaceName, s.Cfg.Space.Size(), strings.Join(s.Cfg.Boards, "+"), s.Cfg.SpecThroughput)
	}
	sum, err := s.Run(ctx)
	if err != nil {
		if ie := interrupted(ctx, err, s.Dir); ie != nil {
			return ie
		}
		if errors.Is(err, context.Canceled) {
			return failed(fmt.Errorf("interrupted; continue with --resume %s", s.Dir))
		}
		return failed(err)
	}
	// The report (reward and Pareto plots, design table) is nadir report's.
	rep, err := report.Load(s.Dir)
	if err == nil {
		err = report.WriteHTML(s.Dir, rep)
	}
	if err != nil {
		return failed(fmt.Errorf("report: %v", err))
	}
	printCoexplore(sum, s.Cfg.Modes)
	fmt.Printf("run directory: %s (report: %s with reward.png, pareto.png and %s; nadir report %s remakes them)\n",
		s.Dir, filepath.Join(s.Dir, "report.html"), report.DesignsFile, s.Dir)
	if o.asJSON {
		b, err := json.Marshal(sum)
		if err != nil {
			return failed(err)
		}
		fmt.Println(string(b))
	}
	return nil
}

func printCoexplore(sum *coexplore.Summary, modes []string) {
	fmt.Printf("specification: >= %.0f images/s, met by %.0f%% of random networks on %s (%.0f%% on the fixed accelerators of hw-aware)\n",
		sum.SpecThroughput, 100*sum.SpecFraction, strings.Join(sum.Boards, "+"), 100*sum.SpecFractionFixed)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "mode\ttrained\tsampled\trejected\tval acc\timg/s\tGOPS/W\tlatency ms\tspec\tseconds\tbest network")
	for _, m := range modes {
		r, ok := sum.Modes[m]
		if !ok {
			continue
		}
		arch := "-"
		if r.Best != nil {
			arch = r.Best.Arch.String()
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%.4f\t%.0f\t%.2f\t%.3f\t%v\t%.1f\t%s\n", m, r.ChildrenTrained, r.ChildrenSampled,
			r.Rejected, r.BestAccuracy, r.BestThroughput, r.BestEnergyEff, r.BestLatencyMS, r.SpecMet, r.Seconds, arch)
	}
	w.Flush()
	if co, ok := sum.Modes[coexplore.ModeCoexplore]; ok && co.Matched != nil {
		hw := sum.Modes[coexplore.ModeHWAware]
		fmt.Printf("co-exploration within %.1f points of hw-aware's best accuracy (%.4f): %s at %.4f, %.0f img/s (%+.0f%%), %.2f GOPS/W (%+.0f%%)\n",
			100*coexplore.MatchTolerance, hw.BestAccuracy, co.Matched.Arch, co.Matched.Accuracy, co.Matched.Throughput,
			100*(co.Matched.Throughput/hw.BestThroughput-1), co.Matched.EnergyEff, 100*(co.Matched.EnergyEff/hw.BestEnergyEff-1))
	}
	for _, m := range modes {
		r, ok := sum.Modes[m]
		if ok && r.Best == nil {
			fmt.Printf("%s: no child met the specification\n", m)
		}
		if !ok || r.Best == nil {
			continue
		}
		fmt.Printf("%s best design %s:\n", m, r.Best.Arch.String())
		for _, st := range r.Best.Stages {
			fmt.Printf("  layers %d-%d on %s (%s): %v  %d DSP %d BRAM18K  %.0f cycles\n", st.First, st.Last-1,
				st.Board.Name, st.Board.Part, st.Tiling, st.Usage.DSP, st.Usage.BRAM18K, st.Cycles)
		}
	}
}
