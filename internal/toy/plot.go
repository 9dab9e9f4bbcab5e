package toy

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// PlotLoss writes a PNG of the training loss against the optimiser step,
// log scale, one line per method, with a mark on each line at every growth
// step.
func PlotLoss(res *ToyResult, path string) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("toy regression (%s, %s target): growing from one neuron", res.Config.Act, res.Config.Target)
	p.X.Label.Text = "gradient step"
	p.Y.Label.Text = "training loss"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	for i, run := range res.Runs {
		pts := make(plotter.XYs, 0, len(run.Loss))
		// Thin to ~2000 points per line; the curves are smooth.
		every := max(1, len(run.Loss)/2000)
		for s := 0; s < len(run.Loss); s += every {
			pts = append(pts, plotter.XY{X: float64(s), Y: positive(run.Loss[s])})
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return fmt.Errorf("plot %s: %w", run.Method, err)
		}
		col := plotutil.Color(i)
		line.Color = col
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(fmt.Sprintf("%s (final %.3g, %d neurons)", run.Method, run.FinalLoss, run.Width), line)
		if len(run.Growths) == 0 {
			continue
		}
		marks := make(plotter.XYs, len(run.Growths))
		for k, g := range run.Growths {
			marks[k] = plotter.XY{X: float64(g.Step), Y: positive(g.LossAfter)}
		}
		sc, err := plotter.NewScatter(marks)
		if err != nil {
			return fmt.Errorf("plot %s growth marks: %w", run.Method, err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(3), Shape: plotutil.Shape(i)}
		p.Add(sc)
	}
	p.Add(plotter.NewGrid())
	if err := p.Save(9*vg.Inch, 5.5*vg.Inch, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// positive keeps a log-scale plot finite for an exact fit.
func positive(v float64) float64 { return math.Max(v, 1e-300) }
