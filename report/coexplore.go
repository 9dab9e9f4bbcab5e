package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/nadir-ml/nadir/run"
)

// coexploreModes is the order modes are shown in; modes of later versions
// follow, sorted.
var coexploreModes = []string{"coexplore", "hw-aware", "accuracy-only"}

// loadCoexplore fills a co-exploration run's summary, episodes and modes.
func loadCoexplore(r *Run, rr *run.Run) error {
	var sum run.CoexploreSummary
	if err := run.ReadSummary(r.Dir, &sum); err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(r.Dir, run.ConfigFile))
	if err != nil {
		return err
	}
	var cfg struct {
		Modes []string `json:"modes"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return fmt.Errorf("%s: %v", filepath.Join(r.Dir, run.ConfigFile), err)
	}
	r.Coexplore, r.rawConfig = &sum, b
	r.Episodes = run.Events[run.Episode](rr.Records)
	seen := map[string]bool{}
	add := func(m string) {
		if !seen[m] {
			seen[m] = true
			r.Modes = append(r.Modes, m)
		}
	}
	var rest []string
	for m := range sum.Modes {
		if !slices.Contains(coexploreModes, m) && !slices.Contains(cfg.Modes, m) {
			rest = append(rest, m)
		}
	}
	sort.Strings(rest)
	for _, m := range append(append(slices.Clone(cfg.Modes), coexploreModes...), rest...) {
		if _, ok := sum.Modes[m]; ok {
			add(m)
		}
	}
	return nil
}

// modeRewards is a mode's mean reward per episode, from its episode
// events (one per child), in episode order.
func modeRewards(eps []run.Episode, mode string) plotter.XYs {
	sum, n := map[int]float64{}, map[int]int{}
	for _, e := range eps {
		if e.Mode == mode {
			sum[e.Episode] += e.Reward
			n[e.Episode]++
		}
	}
	var xys plotter.XYs
	for ep := range sum {
		xys = append(xys, plotter.XY{X: float64(ep), Y: sum[ep] / float64(n[ep])})
	}
	sort.Slice(xys, func(i, j int) bool { return xys[i].X < xys[j].X })
	return xys
}

// Rewards plots a co-exploration run's mean controller reward per episode,
// a line per mode. It returns an error wrapping ErrNoData for a run that is
// not one or logged no episode, and one for a non-finite reward.
func Rewards(r *Run) (*Figure, error) {
	if r.Coexplore == nil {
		return nil, fmt.Errorf("report: run %s is not a co-exploration run: %w", r.Dir, ErrNoData)
	}
	p := newPlot("Controller reward per episode", "episode", "mean reward of the episode's children")
	p.X.Tick.Marker = integerTicks{}
	p.Legend.Top = false // rewards rise; the early −1 dips are at the left
	any := false
	for i, m := range r.Modes {
		xys := modeRewards(r.Episodes, m)
		if len(xys) == 0 {
			continue
		}
		for _, xy := range xys {
			if err := checkFinite(fmt.Sprintf("run %s: %s episode %.0f: reward", r.Dir, m, xy.X), xy.Y); err != nil {
				return nil, err
			}
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.Color, l.Width = colour(i), vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(m, l)
		any = true
	}
	if !any {
		return nil, fmt.Errorf("report: run %s: no episode events: %w", r.Dir, ErrNoData)
	}
	padRange(&p.Y, 0.05)
	caption := "Mean reward of each episode's children, per mode. A child the fast exploration rejects (it misses the " +
		"throughput specification) scores −1; a trained child scores α·accuracy + (1−α)·hardware efficiency, both normalised to [−1, 1]."
	return newFigure("reward.png", caption, p), nil
}

// accThr is a scored child with hardware.
type accThr struct{ Accuracy, Throughput float64 }

// paretoFront returns the points not dominated in (accuracy, throughput),
// one of each set of equal points, sorted by throughput.
func paretoFront(ps []accThr) []accThr {
	var out []accThr
	for i, p := range ps {
		dom := false
		for j, q := range ps {
			if i != j && q.Accuracy >= p.Accuracy && q.Throughput >= p.Throughput &&
				(q.Accuracy > p.Accuracy || q.Throughput > p.Throughput || j < i) {
				dom = true
				break
			}
		}
		if !dom {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Throughput < out[j].Throughput })
	return out
}

// modePoints are the (accuracy, throughput) of a mode's trained children
// that have a hardware design, from the episode events.
func modePoints(eps []run.Episode, mode string) []accThr {
	var ps []accThr
	for _, e := range eps {
		if e.Mode == mode && e.ValAccuracy != nil && e.Throughput != nil && *e.Throughput > 0 {
			ps = append(ps, accThr{*e.ValAccuracy, *e.Throughput})
		}
	}
	return ps
}

// ParetoFronts plots a co-exploration run's children, validation accuracy
// against throughput (log scale), a marker style per mode, each mode's
// Pareto front as a dashed line and the throughput specification as a grey
// vertical rule. Accuracy-only NAS picks hardware for its winner only, so
// its children have no throughput and are not shown. It returns an error
// wrapping ErrNoData when no child has both.
func ParetoFronts(r *Run) (*Figure, error) {
	if r.Coexplore == nil {
		return nil, fmt.Errorf("report: run %s is not a co-exploration run: %w", r.Dir, ErrNoData)
	}
	p := newPlot("Children: accuracy vs throughput (dashed: Pareto fronts)", "throughput (images/s)", "validation accuracy (%)")
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Left = true
	lo, hi := 0.0, 0.0
	for i, m := range r.Modes {
		ps := modePoints(r.Episodes, m)
		if len(ps) == 0 {
			continue
		}
		var pts plotter.XYs
		for _, q := range ps {
			if err := checkFinite(fmt.Sprintf("run %s: %s child", r.Dir, m), q.Accuracy, q.Throughput); err != nil {
				return nil, err
			}
			pts = append(pts, plotter.XY{X: q.Throughput, Y: 100 * q.Accuracy})
			if lo == 0 || q.Throughput < lo {
				lo = q.Throughput
			}
			hi = max(hi, q.Throughput)
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, err
		}
		sc.Color, sc.Shape, sc.Radius = colour(i), glyphs[i%len(glyphs)], vg.Points(3)
		var front plotter.XYs
		for _, q := range paretoFront(ps) {
			front = append(front, plotter.XY{X: q.Throughput, Y: 100 * q.Accuracy})
		}
		fl, err := plotter.NewLine(front)
		if err != nil {
			return nil, err
		}
		fl.Color, fl.Width = colour(i), vg.Points(1.2)
		fl.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		p.Add(sc, fl)
		p.Legend.Add(m, sc, fl)
	}
	if hi == 0 {
		return nil, fmt.Errorf("report: run %s: no child with accuracy and throughput: %w", r.Dir, ErrNoData)
	}
	spec := r.Coexplore.SpecThroughput
	if spec > 0 {
		lo, hi = min(lo, spec), max(hi, spec)
		p.Add(verticalLine(spec))
		vl, _ := plotter.NewLine(plotter.XYs{{X: spec, Y: 0}, {X: spec, Y: 1}})
		vl.Color, vl.Dashes = color.Gray{Y: 120}, []vg.Length{vg.Points(4), vg.Points(3)}
		p.Legend.Add(fmt.Sprintf("spec %.0f img/s", spec), vl)
	}
	p.X.Min, p.X.Max = lo/1.2, hi*1.2
	padRange(&p.Y, 0.08)
	caption := "Validation accuracy of every trained child with a hardware design against the throughput of that design " +
		"(co-exploration: the design the controller chose; hw-aware: the fixed accelerators), per mode; the dashed line joins " +
		"each mode's Pareto-optimal children and the grey rule is the throughput specification."
	return newFigure("pareto.png", caption, p), nil
}

// DesignsFile is the name of the best-design table in a co-exploration
// run's report.
const DesignsFile = "designs.md"

// Designs writes a co-exploration run's best designs as Markdown: per
// mode, the best network with its accuracy and hardware figures, then
// every stage of its pipeline with board, layers, tiling, ports and
// resources.
func Designs(w io.Writer, r *Run) error {
	sum := r.Coexplore
	if sum == nil {
		return fmt.Errorf("report: run %s is not a co-exploration run", r.Dir)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Best designs\n\nSpecification: at least %.0f images/s on %s (met by %.0f%% of random networks; %.0f%% on the fixed accelerators of hw-aware).\n\n",
		sum.SpecThroughput, strings.Join(sum.Boards, " + "), 100*sum.SpecFraction, 100*sum.SpecFractionFixed)
	b.WriteString("| mode | network | val. accuracy | images/s | GOPS/W | latency (ms) | power (W) | spec met | trained | sampled | seconds |\n|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|\n")
	for _, m := range r.Modes {
		ms := sum.Modes[m]
		if ms.Best == nil {
			fmt.Fprintf(&b, "| %s | — (no child scored) | | | | | | | %d | %d | %.1f |\n", mdEscape(m), ms.ChildrenTrained, ms.ChildrenSampled, ms.Seconds)
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %.4f | %.0f | %.2f | %.4f | %.2f | %v | %d | %d | %.1f |\n", mdEscape(m), ms.Best.Arch, ms.BestAccuracy,
			ms.BestThroughput, ms.BestEnergyEff, ms.BestLatencyMS, ms.BestPowerW, ms.SpecMet, ms.ChildrenTrained, ms.ChildrenSampled, ms.Seconds)
	}
	b.WriteString("\n| mode | stage | board (part) | layers | tiling ⟨Tm,Tn,Tr,Tc,Tk⟩ | ports W/I/O (words) | DSP | BRAM18K | cycles |\n|---|---:|---|---|---|---|---:|---:|---:|\n")
	for _, row := range stageRows(r) {
		fmt.Fprintf(&b, "| %s |\n", strings.Join(row, " | "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// stageRows are the cells of the per-stage table of every mode's best
// design.
func stageRows(r *Run) [][]string {
	var out [][]string
	for _, m := range r.Modes {
		best := r.Coexplore.Modes[m].Best
		if best == nil {
			continue
		}
		for i, st := range best.Stages {
			t := st.Tiling
			out = append(out, []string{mdEscape(m), fmt.Sprint(i + 1), fmt.Sprintf("%s (%s)", st.Board.Name, st.Board.Part),
				fmt.Sprintf("%d–%d", st.First, st.Last-1), fmt.Sprintf("⟨%d,%d,%d,%d,%d⟩", t.Tm, t.Tn, t.Tr, t.Tc, t.Tk),
				fmt.Sprintf("%d/%d/%d", t.Wp, t.Ip, t.Op), fmt.Sprint(st.Usage.DSP), fmt.Sprint(st.Usage.BRAM18K), fmt.Sprintf("%.0f", st.Cycles)})
		}
	}
	return out
}

// coexploreFigures are the figures of a co-exploration run: the rewards,
// and the Pareto plot when some child has a throughput.
func coexploreFigures(r *Run) ([]*Figure, error) {
	f, err := Rewards(r)
	if err != nil {
		return nil, err
	}
	figs := []*Figure{f}
	f, err = ParetoFronts(r)
	switch {
	case err == nil:
		figs = append(figs, f)
	case !errors.Is(err, ErrNoData):
		return nil, err
	}
	return figs, nil
}
