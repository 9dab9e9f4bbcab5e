package coexplore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nadir-ml/nadir/cost/fpga"
	"github.com/nadir-ml/nadir/run"
)

// Point is one scored child with its hardware.
type Point struct {
	Episode    int          `json:"episode"`
	Arch       Arch         `json:"arch"`
	Accuracy   float64      `json:"accuracy"`
	Throughput float64      `json:"throughput"`        // images/s
	EnergyEff  float64      `json:"energy_efficiency"` // GOPS/W
	LatencyMS  float64      `json:"latency_ms"`
	PowerW     float64      `json:"power_w"`
	SpecMet    bool         `json:"spec_met"`
	Stages     []fpga.Stage `json:"stages,omitempty"`
}

// ModeState is one search's progress, all of it in the checkpoint.
type ModeState struct {
	Mode       string            `json:"mode"`
	Episode    int               `json:"episode"` // completed episodes
	Controller controllerState   `json:"controller"`
	Baseline   float64           `json:"baseline"`
	HasBase    bool              `json:"has_baseline"`
	Cache      map[string]Result `json:"cache"` // trained children by trial ID
	Sampled    int               `json:"children_sampled"`
	Trained    int               `json:"children_trained"`
	CacheHits  int               `json:"cache_hits"`
	Rejected   int               `json:"rejected"`
	Points     []Point           `json:"points"`
	Rewards    []float64         `json:"rewards"` // mean reward per episode
	Seconds    float64           `json:"seconds"`
}

type checkpoint struct {
	Version int          `json:"version"`
	LogSize int64        `json:"log_size"`
	Modes   []*ModeState `json:"modes"`
}

// Search is an open run directory: config.json, log.jsonl (one event per
// episode), ckpt/last.json (controller, cache and points of every mode,
// rewritten atomically after every episode) and summary.json.
type Search struct {
	Cfg  Config
	Dir  string
	Exec Executor
	// Progress, when set, receives one line per episode.
	Progress io.Writer

	log     *run.Log
	ck      checkpoint
	pool    []fpga.Board
	fixed   []fpga.Tiling
	eeRef   float64
	designs map[string]designResult
}

type designResult struct {
	d   fpga.Design
	err error
}

// Create starts a search in dir (refusing one that holds a run): it loads
// the data's shape, resolves the specification and writes config.json.
func Create(dir string, cfg Config, ex Executor) (*Search, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err == nil {
		return nil, fmt.Errorf("--out %s: already holds a run (resume it with --resume %s)", dir, dir)
	}
	t := baseTrial(cfg)
	ds, err := LoadTrialData(t)
	if err != nil {
		return nil, fmt.Errorf("--data: %v", err)
	}
	if len(ds.Train.Shape) != 3 {
		return nil, fmt.Errorf("--data %s: co-exploration searches CNNs and needs images, data has shape %v", cfg.Data, ds.Train.Shape)
	}
	cfg.InShape, cfg.Classes = ds.Train.Shape, ds.Train.Classes
	cfg.Command = Command
	s := &Search{Cfg: cfg, Dir: dir, Exec: ex}
	if err := s.setup(); err != nil {
		return nil, err
	}
	if s.Cfg.SpecThroughput == 0 {
		s.Cfg.SpecThroughput = s.quantileSpec()
	} else if best := s.fastest(); best < s.Cfg.SpecThroughput {
		return nil, fmt.Errorf("--spec-throughput %g: no network of the space reaches it on %s (fastest found: %.0f images/s)",
			s.Cfg.SpecThroughput, strings.Join(s.Cfg.Boards, "+"), best)
	}
	if err := os.MkdirAll(filepath.Join(dir, "ckpt"), 0o755); err != nil {
		return nil, err
	}
	if err := run.WriteJSON(filepath.Join(dir, "config.json"), s.Cfg); err != nil {
		return nil, err
	}
	s.log, err = run.OpenLog(filepath.Join(dir, "log.jsonl"), 0)
	if err != nil {
		return nil, err
	}
	s.ck = checkpoint{Version: 1}
	return s, nil
}

// Open reopens a run directory at its last checkpoint; events logged after
// it are dropped, so the resumed run's log equals an uninterrupted one's
// (wall times aside).
func Open(dir string, ex Executor) (*Search, error) {
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: not a co-exploration run (no config.json)", dir)
		}
		return nil, err
	}
	s := &Search{Dir: dir, Exec: ex}
	if err := json.Unmarshal(b, &s.Cfg); err != nil {
		return nil, fmt.Errorf("%s/config.json: %v", dir, err)
	}
	if err := s.Cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s/config.json: %v", dir, err)
	}
	if err := s.setup(); err != nil {
		return nil, err
	}
	s.ck = checkpoint{Version: 1}
	b, err = os.ReadFile(filepath.Join(dir, "ckpt", "last.json"))
	if err == nil {
		if err := json.Unmarshal(b, &s.ck); err != nil {
			return nil, fmt.Errorf("%s/ckpt/last.json: %v", dir, err)
		}
		if s.ck.Version != 1 {
			return nil, fmt.Errorf("%s/ckpt/last.json: unsupported version %d", dir, s.ck.Version)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	s.log, err = run.OpenLog(filepath.Join(dir, "log.jsonl"), s.ck.LogSize)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Close closes the event log.
func (s *Search) Close() error { return s.log.Close() }

func (s *Search) setup() error {
	var err error
	if s.pool, err = s.Cfg.pool(); err != nil {
		return err
	}
	s.designs = map[string]designResult{}
	// The hardware-aware baseline's accelerators: per board, the best
	// tiling for the space's reference network, all of it on that board.
	big := s.Cfg.Space.Reference().FPGALayers(s.Cfg.InShape)
	s.fixed = nil
	for _, b := range s.pool {
		t, _, _, err := fpga.BestTiling(big, b, s.Cfg.Bits)
		if err != nil {
			return fmt.Errorf("board %s cannot run the space's reference network: %v", b.Name, err)
		}
		s.fixed = append(s.fixed, t)
	}
	d, err := fpga.EvaluateFixed(big, s.pool, s.fixed, s.Cfg.Bits)
	if err != nil {
		return err
	}
	s.eeRef = d.EnergyEff
	return nil
}

// quantileSpec is the SpecQuantile of the best throughputs of random
// architectures on the full pool.
func (s *Search) quantileSpec() float64 {
	r := rand.New(rand.NewPCG(s.Cfg.Seed, 0x5bec))
	var thr []float64
	for range 200 {
		a := s.randomArch(r)
		d, err := s.explore(a, nil)
		if err == nil {
			thr = append(thr, d.Throughput)
		}
	}
	if len(thr) == 0 {
		return 1
	}
	sort.Float64s(thr)
	return thr[int(s.Cfg.SpecQuantile*float64(len(thr)))]
}

// fastest is the highest throughput among the space's smallest network
// and 200 random ones, each on its best design for the full pool.
func (s *Search) fastest() float64 {
	sp := s.Cfg.Space
	small := Arch{}
	for range slices.Min(sp.Depths) {
		small.Layers = append(small.Layers, ConvLayer{Kernel: slices.Min(sp.Kernels), Filters: slices.Min(sp.Filters), Stride: slices.Max(sp.Strides)})
	}
	var best float64
	if d, err := s.explore(small, nil); err == nil {
		best = d.Throughput
	}
	r := rand.New(rand.NewPCG(s.Cfg.Seed, 0x5bec))
	for range 200 {
		if d, err := s.explore(s.randomArch(r), nil); err == nil {
			best = max(best, d.Throughput)
		}
	}
	return best
}

// SpecFraction estimates the share of the space that meets the
// specification (200 random architectures): on its best design for the
// full pool, and on the hardware-aware baseline's fixed accelerators.
func (s *Search) SpecFraction() (explored, fixed float64) {
	r := rand.New(rand.NewPCG(s.Cfg.Seed, 0xf4ac))
	for range 200 {
		a := s.randomArch(r)
		if d, err := s.explore(a, nil); err == nil && d.Throughput >= s.Cfg.SpecThroughput {
			explored += 1.0 / 200
		}
		if d, err := s.fixedDesign(a); err == nil && d.Throughput >= s.Cfg.SpecThroughput {
			fixed += 1.0 / 200
		}
	}
	return explored, fixed
}

func (s *Search) randomArch(r *rand.Rand) Arch {
	sp := s.Cfg.Space
	var a Arch
	for range sp.Depths[r.IntN(len(sp.Depths))] {
		a.Layers = append(a.Layers, ConvLayer{Kernel: sp.Kernels[r.IntN(len(sp.Kernels))],
			Filters: sp.Filters[r.IntN(len(sp.Filters))], Stride: sp.Strides[r.IntN(len(sp.Strides))]})
	}
	return a
}

// hwLevels are the hardware decisions per board: the share of its DSPs
// the accelerator may use, 0 leaving the board out.
var hwLevels = []int{0, 50, 100}

// decisions lists the mode's decisions: network first (depth, then
// kernel, filters and stride of every possible layer), then, for
// co-exploration, one resource level per board of the pool.
func (s *Search) decisions(mode string) []Decision {
	sp := s.Cfg.Space
	ds := []Decision{{Name: "depth", Choices: sp.Depths}}
	for i := range sp.MaxDepth() {
		ds = append(ds,
			Decision{Name: fmt.Sprintf("kernel%d", i), Choices: sp.Kernels},
			Decision{Name: fmt.Sprintf("filters%d", i), Choices: sp.Filters},
			Decision{Name: fmt.Sprintf("stride%d", i), Choices: sp.Strides})
	}
	if mode == ModeCoexplore {
		for b, bd := range s.pool {
			ds = append(ds, Decision{Name: fmt.Sprintf("dsp%%%d:%s", b, bd.Name), Choices: hwLevels})
		}
	}
	return ds
}

func (s *Search) netDecisions() int { return 1 + 3*s.Cfg.Space.MaxDepth() }

// decode turns choice indices into the architecture and the mask of
// decisions that shaped the child (unused layers' decisions are not).
func (s *Search) decode(ds []Decision, c []int) (Arch, []bool) {
	used := make([]bool, len(c))
	used[0] = true
	depth := ds[0].Choices[c[0]]
	var a Arch
	for i := range depth {
		k := 1 + 3*i
		a.Layers = append(a.Layers, ConvLayer{Kernel: ds[k].Choices[c[k]], Filters: ds[k+1].Choices[c[k+1]], Stride: ds[k+2].Choices[c[k+2]]})
		used[k], used[k+1], used[k+2] = true, true, true
	}
	for d := s.netDecisions(); d < len(c); d++ {
		used[d] = true
	}
	return a, used
}

// explore is the fast exploration: the best design of a on the pool with
// each board limited to its level (nil: every board at 100%).
func (s *Search) explore(a Arch, levels []int) (fpga.Design, error) {
	key := fmt.Sprint(a.Model(), levels)
	if r, ok := s.designs[key]; ok {
		return r.d, r.err
	}
	var pool []fpga.Board
	for b, bd := range s.pool {
		lv := 100
		if levels != nil {
			lv = levels[b]
		}
		if lv == 0 {
			continue
		}
		bd.DSP = bd.DSP * lv / 100
		pool = append(pool, bd)
	}
	var r designResult
	if len(pool) == 0 {
		r.err = fpga.ErrInfeasible
	} else {
		r.d, r.err = fpga.Explore(a.FPGALayers(s.Cfg.InShape), pool, s.Cfg.Bits)
	}
	s.designs[key] = r
	return r.d, r.err
}

func (s *Search) fixedDesign(a Arch) (fpga.Design, error) {
	return fpga.EvaluateFixed(a.FPGALayers(s.Cfg.InShape), s.pool, s.fixed, s.Cfg.Bits)
}

func clip(v float64) float64 { return max(-1, min(1, v)) }

// accReward maps accuracy linearly from [AccLow, AccHigh] to [−1, 1].
func (s *Search) accReward(acc float64) float64 {
	return clip(2*(acc-s.Cfg.AccLow)/(s.Cfg.AccHigh-s.Cfg.AccLow) - 1)
}

// hwReward is the normalised hardware efficiency: the mean of the
// throughput's margin over the specification and the energy efficiency's
// margin over the fixed design's on the reference network, each relative
// and clipped to [−1, 1].
func (s *Search) hwReward(d fpga.Design) float64 {
	spec := s.Cfg.SpecThroughput
	return (clip((d.Throughput-spec)/spec) + clip((d.EnergyEff-s.eeRef)/s.eeRef)) / 2
}

func baseTrial(cfg Config) Trial {
	return Trial{Act: cfg.Act, Data: cfg.Data, MaxTrain: cfg.MaxTrain, ValFrac: cfg.ValFrac, DataSeed: cfg.Seed, Epochs: cfg.Epochs, Train: cfg.Train}
}

// trial is the training job of architecture a. Its weights' seed comes
// from the search seed only, so one architecture is one trial.
func (s *Search) trial(a Arch) Trial {
	t := baseTrial(s.Cfg)
	t.Model = a.Model()
	t.Train.Seed = s.Cfg.Seed
	return NewTrial(t)
}

func point(ep int, a Arch, acc float64, d fpga.Design, spec float64) Point {
	return Point{Episode: ep, Arch: a, Accuracy: acc, Throughput: d.Throughput, EnergyEff: d.EnergyEff,
		LatencyMS: d.Latency * 1e3, PowerW: d.PowerW, SpecMet: d.Throughput >= spec, Stages: d.Stages}
}

// child is one sampled child during an episode.
type child struct {
	choices []int
	used    []bool
	arch    Arch
	design  fpga.Design
	hwErr   error
	tries   int
	trial   Trial
	train   bool // needs a trained accuracy
	result  Result
	cached  bool
	reward  float64
}

// Run runs (or continues) every mode of the config and writes
// summary.json.
func (s *Search) Run(ctx context.Context) (*Summary, error) {
	for _, mode := range s.Cfg.Modes {
		st := s.state(mode)
		if err := s.runMode(ctx, st); err != nil {
			return nil, err
		}
	}
	sum := s.Summary()
	if err := run.WriteJSON(filepath.Join(s.Dir, "summary.json"), sum); err != nil {
		return nil, err
	}
	return sum, nil
}

func (s *Search) state(mode string) *ModeState {
	for _, m := range s.ck.Modes {
		if m.Mode == mode {
			return m
		}
	}
	m := &ModeState{Mode: mode, Cache: map[string]Result{}}
	s.ck.Modes = append(s.ck.Modes, m)
	return m
}

func modeKey(mode string) uint64 {
	var h uint64 = 0xcbf29ce484222325
	for _, c := range []byte(mode) {
		h = (h ^ uint64(c)) * 0x100000001b3
	}
	return h
}

func (s *Search) runMode(ctx context.Context, st *ModeState) error {
	ds := s.decisions(st.Mode)
	ctrl := NewController(ds, s.Cfg.Hidden, s.Cfg.CtrlLR, s.Cfg.Decay, rand.New(rand.NewPCG(s.Cfg.Seed, modeKey(st.Mode))))
	if st.Controller.Params != nil {
		if err := ctrl.restore(st.Controller); err != nil {
			return err
		}
	}
	nNet := s.netDecisions()
	for st.Episode < s.Cfg.Episodes {
		if err := ctx.Err(); err != nil {
			return err
		}
		start := time.Now()
		ep := st.Episode
		r := rand.New(rand.NewPCG(s.Cfg.Seed^modeKey(st.Mode), uint64(ep)))
		kids := make([]*child, s.Cfg.Children)
		var jobs []Trial
		queued := map[string]bool{}
		for i := range kids {
			k := &child{choices: ctrl.Sample(r, nil)}
			kids[i] = k
			k.arch, k.used = s.decode(ds, k.choices)
			switch st.Mode {
			case ModeCoexplore:
				// Fast exploration: re-sample only the hardware until the
				// specification is met or the retries are spent.
				for k.tries = 1; ; k.tries++ {
					k.design, k.hwErr = s.explore(k.arch, levelsOf(ds, k.choices[nNet:], nNet))
					if k.hwErr == nil && k.design.Throughput >= s.Cfg.SpecThroughput {
						k.train = true
						break
					}
					if k.tries > s.Cfg.HWRetries {
						break
					}
					k.choices = ctrl.Sample(r, k.choices[:nNet])
				}
			case ModeHWAware:
				k.design, k.hwErr = s.fixedDesign(k.arch)
				k.train = true
			case ModeAccuracyOnly:
				k.train = true
			}
			st.Sampled++
			if !k.train {
				st.Rejected++
				continue
			}
			k.trial = s.trial(k.arch)
			// Identical architectures are trained once: earlier episodes'
			// results come from the cache, and a duplicate within this
			// episode shares the one job.
			if _, ok := st.Cache[k.trial.ID]; ok || queued[k.trial.ID] {
				k.cached = true
				st.CacheHits++
			} else {
				queued[k.trial.ID] = true
				jobs = append(jobs, k.trial)
			}
		}
		if len(jobs) > 0 {
			res, err := s.Exec.Run(ctx, jobs)
			if err != nil {
				return err
			}
			for i, rs := range res {
				st.Cache[jobs[i].ID] = rs
				st.Trained++
			}
		}
		var mean float64
		for i, k := range kids {
			if k.train {
				k.result = st.Cache[k.trial.ID]
			}
			switch {
			case !k.train:
				k.reward = -1
			case k.result.Err != "":
				k.reward = -1
			case st.Mode == ModeAccuracyOnly:
				k.reward = s.accReward(k.result.ValAccuracy)
			case k.hwErr != nil:
				k.reward = s.Cfg.Alpha*s.accReward(k.result.ValAccuracy) - (1 - s.Cfg.Alpha)
			default:
				k.reward = s.Cfg.Alpha*s.accReward(k.result.ValAccuracy) + (1-s.Cfg.Alpha)*s.hwReward(k.design)
			}
			if !st.HasBase {
				st.Baseline, st.HasBase = k.reward, true
			}
			ctrl.Update(k.choices, k.used, k.reward-st.Baseline)
			st.Baseline = s.Cfg.EMA*st.Baseline + (1-s.Cfg.EMA)*k.reward
			mean += k.reward / float64(len(kids))
			ev := run.Episode{Mode: st.Mode, Episode: ep + 1, Child: i, Arch: k.arch.String(), ArchHash: k.arch.Hash(),
				Reward: k.reward, Baseline: st.Baseline, Trained: k.train && !k.cached, Cached: k.cached,
				Rejected: !k.train, HWTries: k.tries}
			if st.Mode == ModeCoexplore {
				ev.DSPPercent = levelsOf(ds, k.choices[nNet:], nNet)
			}
			if k.train && k.result.Err == "" {
				acc := k.result.ValAccuracy
				ev.ValAccuracy = &acc
				if st.Mode != ModeAccuracyOnly && k.hwErr == nil {
					p := point(ep+1, k.arch, k.result.ValAccuracy, k.design, s.Cfg.SpecThroughput)
					st.addPoint(p)
					ev.Throughput, ev.EnergyEfficiency, ev.SpecMet = &p.Throughput, &p.EnergyEff, &p.SpecMet
				} else if st.Mode == ModeAccuracyOnly {
					st.addPoint(Point{Episode: ep + 1, Arch: k.arch, Accuracy: k.result.ValAccuracy})
				}
			}
			ev.Error = k.result.Err
			if err := s.log.Append(ev); err != nil {
				return err
			}
		}
		st.Rewards = append(st.Rewards, mean)
		st.Episode++
		st.Seconds += time.Since(start).Seconds()
		st.Controller = ctrl.state()
		if err := s.save(); err != nil {
			return err
		}
		if s.Progress != nil {
			fmt.Fprintf(s.Progress, "%-13s episode %3d/%d  reward %+.3f  trained %d  rejected %d  cached %d\n",
				st.Mode, st.Episode, s.Cfg.Episodes, mean, st.Trained, st.Rejected, st.CacheHits)
		}
	}
	return nil
}

// addPoint records a scored child unless the same network on a design
// of the same throughput is already recorded (a cached child sampled
// again).
func (st *ModeState) addPoint(p Point) {
	m := p.Arch.Model()
	for _, q := range st.Points {
		if q.Throughput == p.Throughput && q.PowerW == p.PowerW && q.Arch.Model() == m {
			return
		}
	}
	st.Points = append(st.Points, p)
}

func levelsOf(ds []Decision, c []int, offset int) []int {
	out := make([]int, len(c))
	for i, v := range c {
		out[i] = ds[offset+i].Choices[v]
	}
	return out
}

func (s *Search) save() error {
	if err := s.log.Sync(); err != nil {
		return err
	}
	s.ck.LogSize = s.log.Size()
	return run.WriteJSON(filepath.Join(s.Dir, "ckpt", "last.json"), s.ck)
}

// ModeSummary is one mode's result in summary.json; package run owns the
// format, so that reports read it without this package.
type ModeSummary = run.CoexploreMode

// MatchTolerance is the accuracy gap (0.5 points) within which a design
// counts as matching hardware-aware NAS's best.
const MatchTolerance = 0.005

// Summary is summary.json.
type Summary = run.CoexploreSummary

// Design is the point in summary.json's form.
func (p Point) Design() *run.CoexploreDesign {
	d := &run.CoexploreDesign{Episode: p.Episode, Accuracy: p.Accuracy, Throughput: p.Throughput, EnergyEff: p.EnergyEff,
		LatencyMS: p.LatencyMS, PowerW: p.PowerW, SpecMet: p.SpecMet}
	for _, l := range p.Arch.Layers {
		d.Arch.Layers = append(d.Arch.Layers, run.ConvLayer(l))
	}
	for _, st := range p.Stages {
		d.Stages = append(d.Stages, run.FPGAStage{Board: run.FPGABoard(st.Board), First: st.First, Last: st.Last,
			Tiling: run.FPGATiling(st.Tiling), Usage: run.FPGAUsage(st.Usage), Cycles: st.Cycles, PowerW: st.PowerW})
	}
	return d
}

// Summary condenses the modes run so far: the best design of a mode is
// its most accurate child that meets the specification (ties: higher
// throughput); for accuracy-only NAS, the most accurate child on the best
// hardware found for it afterwards, whether or not that meets the
// specification.
func (s *Search) Summary() *Summary {
	sum := &Summary{Command: "coexplore", SpecThroughput: s.Cfg.SpecThroughput, Boards: s.Cfg.Boards, Modes: map[string]ModeSummary{}}
	sum.SpecFraction, sum.SpecFractionFixed = s.SpecFraction()
	for _, st := range s.ck.Modes {
		ms := ModeSummary{ChildrenSampled: st.Sampled, ChildrenTrained: st.Trained, Rejected: st.Rejected,
			CacheHits: st.CacheHits, Seconds: st.Seconds}
		if n := len(st.Rewards); n > 0 {
			k := max(1, n/10)
			for _, r := range st.Rewards[n-k:] {
				ms.FinalReward += r / float64(k)
			}
		}
		best := bestPoint(st.Points, st.Mode != ModeAccuracyOnly)
		if best != nil && st.Mode == ModeAccuracyOnly {
			if d, err := s.explore(best.Arch, nil); err == nil {
				p := point(best.Episode, best.Arch, best.Accuracy, d, s.Cfg.SpecThroughput)
				best = &p
			}
		}
		if best != nil {
			ms.Best = best.Design()
			ms.BestAccuracy, ms.BestThroughput, ms.BestEnergyEff = best.Accuracy, best.Throughput, best.EnergyEff
			ms.BestLatencyMS, ms.BestPowerW, ms.SpecMet = best.LatencyMS, best.PowerW, best.SpecMet
		}
		sum.Modes[st.Mode] = ms
	}
	if hw, ok := sum.Modes[ModeHWAware]; ok && hw.Best != nil {
		for _, st := range s.ck.Modes {
			if st.Mode != ModeCoexplore {
				continue
			}
			ms := sum.Modes[st.Mode]
			for _, p := range st.Points {
				if p.SpecMet && p.Accuracy >= hw.BestAccuracy-MatchTolerance && (ms.Matched == nil || p.Throughput > ms.Matched.Throughput) {
					ms.Matched = p.Design()
				}
			}
			sum.Modes[st.Mode] = ms
		}
	}
	return sum
}

// bestPoint is the most accurate point (among those meeting the spec when
// needSpec and any does; ties: higher throughput).
func bestPoint(ps []Point, needSpec bool) *Point {
	var best *Point
	anyMet := false
	for i := range ps {
		anyMet = anyMet || ps[i].SpecMet
	}
	for i := range ps {
		p := &ps[i]
		if needSpec && anyMet && !p.SpecMet {
			continue
		}
		if best == nil || p.Accuracy > best.Accuracy || (p.Accuracy == best.Accuracy && p.Throughput > best.Throughput) {
			best = p
		}
	}
	return best
}

// Modes returns the state of every mode started so far.
func (s *Search) Modes() []*ModeState { return s.ck.Modes }
