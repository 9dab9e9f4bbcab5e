package coexplore

import (
	"fmt"
	"image/color"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/nadir-ml/nadir/run"
)

var modeColours = map[string]color.NRGBA{
	ModeCoexplore:    {0, 114, 178, 255}, // blue
	ModeHWAware:      {213, 94, 0, 255},  // vermillion
	ModeAccuracyOnly: {0, 158, 115, 255}, // green
}

// WritePlots writes reward.png (mean reward per episode, every mode) and
// pareto.png (validation accuracy against throughput of every scored
// child with hardware, the Pareto front of each mode as a line and the
// specification as a vertical rule) into the run directory and returns
// their paths.
func (s *Search) WritePlots() ([]string, error) {
	rp := plot.New()
	rp.Title.Text = "controller reward per episode"
	rp.X.Label.Text = "episode"
	rp.Y.Label.Text = "mean reward"
	pp := plot.New()
	pp.Title.Text = "children: accuracy vs throughput (lines: Pareto fronts)"
	pp.X.Label.Text = "throughput (images/s)"
	pp.Y.Label.Text = "validation accuracy"
	pp.X.Scale = plot.LogScale{}
	pp.X.Tick.Marker = plot.LogTicks{Prec: -1}
	lo, hi := 0.0, 0.0
	for i, st := range s.ck.Modes {
		col := modeColours[st.Mode]
		xys := make(plotter.XYs, len(st.Rewards))
		for e, r := range st.Rewards {
			xys[e] = plotter.XY{X: float64(e + 1), Y: r}
		}
		if len(xys) > 0 {
			l, err := plotter.NewLine(xys)
			if err != nil {
				return nil, err
			}
			l.Color = col
			rp.Add(l)
			rp.Legend.Add(st.Mode, l)
		}
		var pts plotter.XYs
		var withHW []Point
		for _, p := range st.Points {
			if p.Throughput > 0 {
				pts = append(pts, plotter.XY{X: p.Throughput, Y: p.Accuracy})
				withHW = append(withHW, p)
				if lo == 0 || p.Throughput < lo {
					lo = p.Throughput
				}
				hi = max(hi, p.Throughput)
			}
		}
		if len(pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, err
		}
		sc.Color = col
		sc.Shape = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}}[i%3]
		pp.Add(sc)
		pp.Legend.Add(st.Mode, sc)
		var front plotter.XYs
		for _, p := range Pareto(withHW) {
			front = append(front, plotter.XY{X: p.Throughput, Y: p.Accuracy})
		}
		fl, err := plotter.NewLine(front)
		if err != nil {
			return nil, err
		}
		fl.Color = col
		fl.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		pp.Add(fl)
	}
	if hi > 0 {
		spec := s.Cfg.SpecThroughput
		pp.X.Min, pp.X.Max = min(lo, spec)/1.2, max(hi, spec)*1.2
		vl, err := plotter.NewLine(plotter.XYs{{X: spec, Y: pp.Y.Min}, {X: spec, Y: pp.Y.Max}})
		if err == nil {
			vl.Color = color.Gray{Y: 120}
			pp.Add(vl)
			pp.Legend.Add(fmt.Sprintf("spec %.0f img/s", spec), vl)
		}
	}
	rp.Legend.Top = false // rewards rise; early −1 dips are at the left
	pp.Legend.Left = true
	var out []string
	for _, f := range []struct {
		name string
		p    *plot.Plot
	}{{"reward.png", rp}, {"pareto.png", pp}} {
		path := filepath.Join(s.Dir, f.name)
		if err := f.p.Save(7*vg.Inch, 4.5*vg.Inch, path); err != nil {
			return nil, err
		}
		out = append(out, path)
	}
	return out, nil
}

// WriteDesigns writes designs.md into the run directory: per mode, the
// best design's network, figures and per-stage board, layers and tiling.
func (s *Search) WriteDesigns(sum *Summary) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "# Best designs\n\nSpecification: at least %.0f images/s on %s (met by %.0f%% of random networks; %.0f%% on the fixed accelerators of hw-aware).\n\n",
		sum.SpecThroughput, strings.Join(sum.Boards, " + "), 100*sum.SpecFraction, 100*sum.SpecFractionFixed)
	b.WriteString("| mode | network | val. accuracy | images/s | GOPS/W | latency (ms) | power (W) | spec met | trained | sampled | seconds |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, m := range s.Cfg.Modes {
		r, ok := sum.Modes[m]
		if !ok || r.Best == nil {
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %.4f | %.0f | %.2f | %.4f | %.2f | %v | %d | %d | %.1f |\n", m, r.Best.Arch, r.BestAccuracy,
			r.BestThroughput, r.BestEnergyEff, r.BestLatencyMS, r.BestPowerW, r.SpecMet, r.ChildrenTrained, r.ChildrenSampled, r.Seconds)
	}
	b.WriteString("\n| mode | stage | board (part) | layers | tiling ⟨Tm,Tn,Tr,Tc,Tk⟩ | ports W/I/O (words) | DSP | BRAM18K | cycles |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, m := range s.Cfg.Modes {
		r, ok := sum.Modes[m]
		if !ok || r.Best == nil {
			continue
		}
		for i, st := range r.Best.Stages {
			t := st.Tiling
			fmt.Fprintf(&b, "| %s | %d | %s (%s) | %d–%d | ⟨%d,%d,%d,%d,%d⟩ | %d/%d/%d | %d | %d | %.0f |\n", m, i+1, st.Board.Name, st.Board.Part,
				st.First, st.Last-1, t.Tm, t.Tn, t.Tr, t.Tc, t.Tk, t.Wp, t.Ip, t.Op, st.Usage.DSP, st.Usage.BRAM18K, st.Cycles)
		}
	}
	path := filepath.Join(s.Dir, "designs.md")
	return path, run.WriteFile(path, []byte(b.String()))
}
