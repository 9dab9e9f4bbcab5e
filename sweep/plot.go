package sweep

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Okabe–Ito colours, readable by colour-blind readers too.
var colours = []color.NRGBA{
	{0, 114, 178, 255}, {213, 94, 0, 255}, {0, 158, 115, 255}, {204, 121, 167, 255},
	{230, 159, 0, 255}, {86, 180, 233, 255}, {0, 0, 0, 255}, {240, 228, 66, 255},
}

var glyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.PyramidGlyph{}, draw.RingGlyph{}, draw.BoxGlyph{}}

// Axis chooses the x axis of Plot.
type Axis string

// The two cost axes.
const (
	MACs   Axis = "macs"
	Params Axis = "params"
)

// errBars is the points of one method with their error bars.
type errBars struct {
	plotter.XYs
	plotter.XErrors
	plotter.YErrors
}

// Plot draws test accuracy (mean ± sd over seeds) against mean MACs or
// parameters (± sd: grown networks differ in size between seeds), a line
// per method (and dataset, when there are several) through its budgets, and
// writes it as a PNG. Rows without a finished trial are left out; with none
// at all it returns an error.
func Plot(rows []Row, x Axis, path string) error {
	xv, xsd, label := func(r Row) float64 { return r.MeanMACs }, func(r Row) float64 { return r.SDMACs }, "MACs per example"
	if x == Params {
		xv, xsd, label = func(r Row) float64 { return r.MeanParams }, func(r Row) float64 { return r.SDParams }, "parameters"
	}
	p := plot.New()
	p.Title.Text = "Test accuracy against " + label + " (mean ± sd over seeds)"
	p.Title.Padding = vg.Millimeter * 2
	p.X.Label.Text = label
	p.Y.Label.Text = "test accuracy"
	p.Legend.Top = false
	p.Legend.Left = false
	p.Add(plotter.NewGrid())
	multiData := false
	for _, r := range rows {
		multiData = multiData || r.Data != rows[0].Data
	}
	type series struct{ data, method string }
	var keys []series
	seen := map[series]bool{}
	for _, r := range rows {
		k := series{r.Data, r.Method}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	n := 0
	for i, k := range keys {
		var e errBars
		var sel []Row
		for _, r := range rows {
			if r.Data == k.data && r.Method == k.method && r.N > 0 {
				sel = append(sel, r)
			}
		}
		for _, r := range byX(sel, xv) {
			if math.IsNaN(r.MeanAccuracy) || math.IsInf(xv(r), 0) {
				continue
			}
			e.XYs = append(e.XYs, plotter.XY{X: xv(r), Y: r.MeanAccuracy})
			e.XErrors = append(e.XErrors, struct{ Low, High float64 }{-xsd(r), xsd(r)})
			e.YErrors = append(e.YErrors, struct{ Low, High float64 }{-r.SDAccuracy, r.SDAccuracy})
		}
		if len(e.XYs) == 0 {
			continue
		}
		n++
		c := colours[i%len(colours)]
		l, s, err := plotter.NewLinePoints(e.XYs)
		if err != nil {
			return err
		}
		l.Color, l.Width = c, vg.Points(1.5)
		s.Color, s.Shape, s.Radius = c, glyphs[i%len(glyphs)], vg.Points(3.5)
		ye, err := plotter.NewYErrorBars(e)
		if err != nil {
			return err
		}
		xe, err := plotter.NewXErrorBars(e)
		if err != nil {
			return err
		}
		ye.Color, xe.Color = c, c
		p.Add(l, s, ye, xe)
		name := k.method
		if multiData {
			name = fmt.Sprintf("%s (%s)", k.method, k.data)
		}
		p.Legend.Add(name, l, s)
	}
	if n == 0 {
		return errors.New("sweep: no finished trial to plot")
	}
	pad(&p.X)
	pad(&p.Y)
	w, err := p.WriterTo(7*vg.Inch, 4.5*vg.Inch, "png")
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := w.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// pad widens an axis by 8% on each side so that points and error bars at
// the extremes stay clear of the frame (a single value gets ±5%).
func pad(a *plot.Axis) {
	d := (a.Max - a.Min) * 0.08
	if d == 0 {
		d = math.Max(math.Abs(a.Max)*0.05, 1e-3)
	}
	a.Min -= d
	a.Max += d
}
