package continual

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// PlotHeatmap writes the accuracy matrix of one method as a PNG: row =
// after learning task t (top: first), column = task evaluated.
func PlotHeatmap(r *Result, path string) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: test accuracy (avg %.3f, forgetting %.3f)", r.Method, r.AverageAccuracy, r.Forgetting)
	p.X.Label.Text = "task evaluated"
	p.Y.Label.Text = "after learning task"
	pal := moreland.SmoothBlueRed()
	pal.SetMin(0.5)
	pal.SetMax(1)
	T := len(r.Acc)
	// One filled square per learned (t, j) cell; row t = 0 on top.
	for t := 0; t < T; t++ {
		for j := 0; j <= t; j++ {
			x, y := float64(j), float64(T-1-t)
			sq, err := plotter.NewPolygon(plotter.XYs{{X: x - 0.5, Y: y - 0.5}, {X: x + 0.5, Y: y - 0.5},
				{X: x + 0.5, Y: y + 0.5}, {X: x - 0.5, Y: y + 0.5}})
			if err != nil {
				return err
			}
			c, err := pal.At(math.Max(0.5, math.Min(1, r.Acc[t][j])))
			if err != nil {
				return err
			}
			sq.Color = c
			sq.LineStyle.Color = color.White
			p.Add(sq)
		}
	}
	var yt, xt []plot.Tick
	for t := 0; t < T; t++ {
		yt = append(yt, plot.Tick{Value: float64(T - 1 - t), Label: fmt.Sprint(t)})
		xt = append(xt, plot.Tick{Value: float64(t), Label: fmt.Sprint(t)})
	}
	p.Y.Tick.Marker = plot.ConstantTicks(yt)
	p.X.Tick.Marker = plot.ConstantTicks(xt)
	var labels plotter.XYLabels
	for t := 0; t < T; t++ {
		for j := 0; j <= t; j++ {
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(j), Y: float64(T - 1 - t)})
			labels.Labels = append(labels.Labels, fmt.Sprintf("%.3f", r.Acc[t][j]))
		}
	}
	l, err := plotter.NewLabels(labels)
	if err != nil {
		return err
	}
	p.Add(l)
	return p.Save(6*vg.Inch, 5*vg.Inch, path)
}

// PlotParams writes parameters against tasks learned, one line per method.
func PlotParams(rs []*Result, path string) error {
	p := plot.New()
	p.Title.Text = "parameters after each task"
	p.X.Label.Text = "tasks learned"
	p.Y.Label.Text = "parameters"
	p.Legend.Top = true
	p.Legend.Left = true
	for i, r := range rs {
		pts := make(plotter.XYs, len(r.ParamsPerTask))
		for t, n := range r.ParamsPerTask {
			pts[t] = plotter.XY{X: float64(t + 1), Y: float64(n)}
		}
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			return err
		}
		l.Color = plotutil.Color(i)
		s.Color = plotutil.Color(i)
		s.Shape = plotutil.Shape(i)
		p.Add(l, s)
		p.Legend.Add(r.Method, l, s)
	}
	p.Add(plotter.NewGrid())
	return p.Save(6*vg.Inch, 4*vg.Inch, path)
}
