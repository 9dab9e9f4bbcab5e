package report

import (
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/nadir-ml/nadir/linalg"
)

// colours is the Okabe–Ito palette: distinct to colour-blind readers too.
var colours = []color.NRGBA{
	{0, 114, 178, 255},   // blue
	{213, 94, 0, 255},    // vermillion
	{0, 158, 115, 255},   // green
	{204, 121, 167, 255}, // purple
	{230, 159, 0, 255},   // orange
	{86, 180, 233, 255},  // sky blue
	{0, 0, 0, 255},       // black
	{240, 228, 66, 255},  // yellow
}

func colour(i int) color.NRGBA { return colours[i%len(colours)] }

var glyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.PyramidGlyph{}, draw.RingGlyph{}, draw.BoxGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{}}

// addSeries adds a line with marked points, styled as series i, to p and
// its legend.
func addSeries(p *plot.Plot, i int, label string, xys plotter.XYs) error {
	l, s, err := plotter.NewLinePoints(xys)
	if err != nil {
		return err
	}
	l.Color = colour(i)
	l.Width = vg.Points(1.5)
	l.Dashes = nil
	s.Color = colour(i)
	s.Shape = glyphs[i%len(glyphs)]
	s.Radius = vg.Points(3.5)
	p.Add(l, s)
	p.Legend.Add(label, l, s)
	return nil
}

// AccuracyVsMACs plots each run's test accuracy against its MACs per
// example: a point per round for grow runs (labelled with the round number
// for the first run), a single point for train runs. Runs are labelled by
// method. It returns an error for no runs, a run with no rounds, or a
// non-finite value.
func AccuracyVsMACs(runs ...*Run) (*Figure, error) {
	if len(runs) == 0 {
		return nil, ErrNoData
	}
	p := newPlot("Test accuracy vs MACs", "MACs per example", "test accuracy (%)")
	p.Legend.Top = false // accuracy rises with MACs: the bottom right is free
	for i, r := range runs {
		pts, rounds, err := accuracyPoints(r)
		if err != nil {
			return nil, err
		}
		if err := addSeries(p, i, labels(runs)[i], pts); err != nil {
			return nil, fmt.Errorf("report: run %s: %v", r.Dir, err)
		}
		if i == 0 && len(rounds) > 1 {
			lbl := make([]string, len(rounds))
			for j, k := range rounds {
				lbl[j] = "r" + strconv.Itoa(k)
			}
			ls, err := plotter.NewLabels(plotter.XYLabels{XYs: pts, Labels: lbl})
			if err != nil {
				return nil, err
			}
			for j := range ls.TextStyle {
				ls.TextStyle[j].Color = colour(0)
				ls.TextStyle[j].Font.Size = vg.Points(8)
			}
			ls.Offset = vg.Point{X: vg.Points(4), Y: vg.Points(-10)}
			p.Add(ls)
		}
	}
	padRange(&p.X, 0.05)
	padRange(&p.Y, 0.08)
	p.Y.Max = math.Min(p.Y.Max, 100.5) // no room above 100% is needed
	caption := "Test accuracy of the network after each round against its multiply–accumulates per example " +
		"(rN: round N of " + labels(runs)[0] + "); a train run is a single point."
	return newFigure("accuracy_vs_macs.png", caption, p), nil
}

// accuracyPoints are a run's (MACs, accuracy %) points and their rounds.
func accuracyPoints(r *Run) (plotter.XYs, []int, error) {
	if r.Summary.Command == "train" {
		if err := checkFinite("run "+r.Dir+": test accuracy", r.Summary.TestAccuracy); err != nil {
			return nil, nil, err
		}
		return plotter.XYs{{X: float64(r.Summary.MACs), Y: 100 * r.Summary.TestAccuracy}}, nil, nil
	}
	if len(r.Summary.Rounds) == 0 {
		return nil, nil, fmt.Errorf("report: run %s: no rounds", r.Dir)
	}
	pts := make(plotter.XYs, len(r.Summary.Rounds))
	rounds := make([]int, len(r.Summary.Rounds))
	for j, rd := range r.Summary.Rounds {
		if err := checkFinite(fmt.Sprintf("run %s: round %d: test accuracy", r.Dir, rd.Round), rd.TestAccuracy); err != nil {
			return nil, nil, err
		}
		pts[j] = plotter.XY{X: float64(rd.MACs), Y: 100 * rd.TestAccuracy}
		rounds[j] = rd.Round
	}
	return pts, rounds, nil
}

// padRange widens an axis by frac of its span on each side (around a single
// value, by frac of half its magnitude, at least frac/2), so that markers at
// the ends are not cut.
func padRange(a *plot.Axis, frac float64) {
	span := a.Max - a.Min
	if span <= 0 {
		span = math.Max(math.Abs(a.Max), 1) / 2
	}
	a.Min -= frac * span
	a.Max += frac * span
}

// plural is "n thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}

// Widths plots the width of each growable layer of a grow run over its
// rounds. Layers are named by their index in the network where the eigen
// events identify them, by their position among the growable layers
// otherwise. It returns an error for a run with no rounds or with rounds
// that disagree on the number of growable layers.
func Widths(r *Run) (*Figure, error) {
	rounds := r.Summary.Rounds
	if len(rounds) == 0 {
		return nil, fmt.Errorf("report: run %s: no rounds: %w", r.Dir, ErrNoData)
	}
	n := len(rounds[0].Widths)
	if n == 0 {
		return nil, fmt.Errorf("report: run %s: round %d has no widths", r.Dir, rounds[0].Round)
	}
	for _, rd := range rounds {
		if len(rd.Widths) != n {
			return nil, fmt.Errorf("report: run %s: round %d has %d growable layers, round %d has %d",
				r.Dir, rd.Round, len(rd.Widths), rounds[0].Round, n)
		}
	}
	names := layerNames(r, n)
	p := newPlot("Width of each growable layer", "round", "units (neurons or channels)")
	p.X.Tick.Marker = integerTicks{}
	p.Y.Tick.Marker = integerTicks{}
	p.Legend.Left = true
	for l := 0; l < n; l++ {
		pts := make(plotter.XYs, len(rounds))
		for j, rd := range rounds {
			pts[j] = plotter.XY{X: float64(rd.Round), Y: float64(rd.Widths[l])}
		}
		if err := addSeries(p, l, names[l], pts); err != nil {
			return nil, err
		}
	}
	p.Y.Min = 0
	padRange(&p.X, 0.04)
	p.Y.Max *= 1.1
	caption := fmt.Sprintf("Units of each growable layer after each round of %s (round 0: the seed network).", r.Method())
	return newFigure("widths.png", caption, p), nil
}

// layerNames names the n growable layers: "layer K" with K the network
// index when the eigen events (which cover every candidate neuron) name
// exactly n layers, "growable layer i" otherwise.
func layerNames(r *Run, n int) []string {
	seen := map[int]bool{}
	var idx []int
	for _, e := range r.Eigen {
		if !seen[e.Layer] {
			seen[e.Layer] = true
			idx = append(idx, e.Layer)
		}
	}
	sort.Ints(idx)
	names := make([]string, n)
	for i := range names {
		if len(idx) == n {
			names[i] = "layer " + strconv.Itoa(idx[i])
		} else {
			names[i] = "growable layer " + strconv.Itoa(i+1)
		}
	}
	return names
}

// LambdaHistogram plots the distribution of the smallest and largest
// eigenvalues of the neurons' splitting matrices in one round, or in all
// rounds when round ≤ 0. It returns an error when there are no eigen
// events for the round or an eigenvalue is not finite.
func LambdaHistogram(r *Run, round int) (*Figure, error) {
	var lmin, lmax plotter.Values
	for _, e := range r.Eigen {
		if round > 0 && e.Round != round {
			continue
		}
		what := fmt.Sprintf("run %s: round %d layer %d neuron %d: eigenvalue", r.Dir, e.Round, e.Layer, e.Neuron)
		if err := checkFinite(what, e.LambdaMin, e.LambdaMax); err != nil {
			return nil, err
		}
		lmin = append(lmin, e.LambdaMin)
		lmax = append(lmax, e.LambdaMax)
	}
	if len(lmin) == 0 {
		if round > 0 {
			return nil, fmt.Errorf("report: run %s: no eigen events in round %d: %w", r.Dir, round, ErrNoData)
		}
		return nil, fmt.Errorf("report: run %s: no eigen events: %w", r.Dir, ErrNoData)
	}
	// A few neurons have eigenvalues far out in the tails; spanning them
	// would squeeze the bulk into a couple of bins. With enough neurons the
	// range is cut at the 0.5% and 99.5% quantiles and the values beyond
	// are counted in the end bins.
	all := append(append(make([]float64, 0, 2*len(lmin)), lmin...), lmax...)
	sort.Float64s(all)
	lo, hi := all[0], all[len(all)-1]
	if len(all) >= 200 {
		lo, hi = all[len(all)/200], all[len(all)-1-len(all)/200]
	}
	clipped := 0
	for _, v := range all {
		if v < lo || v > hi {
			clipped++
		}
	}
	if hi == lo {
		lo, hi = lo-0.5, hi+0.5
	}
	nbins := int(math.Round(2 * math.Sqrt(float64(len(lmin)))))
	nbins = max(10, min(nbins, 50))
	title := "Splitting-matrix eigenvalues, all rounds"
	if round > 0 {
		title = fmt.Sprintf("Splitting-matrix eigenvalues, round %d", round)
	}
	p := newPlot(title, "eigenvalue λ", "neurons")
	p.Y.Tick.Marker = integerTicks{}
	for i, s := range []struct {
		label string
		vs    plotter.Values
	}{{"λ_min", lmin}, {"λ_max", lmax}} {
		h := histogram(s.vs, lo, hi, nbins)
		c := colour(i)
		c.A = 140
		h.FillColor = c
		h.LineStyle.Color = colour(i)
		h.LineStyle.Width = vg.Points(0.75)
		p.Add(h)
		p.Legend.Add(fmt.Sprintf("%s (%s)", s.label, plural(len(s.vs), "neuron")), h)
	}
	if lo < 0 && hi > 0 {
		p.Add(verticalLine(0))
	}
	p.Y.Min = 0
	p.Y.Max *= 1.08
	caption := "Smallest (λ_min) and largest (λ_max) eigenvalue of each candidate neuron's splitting matrix. " +
		"A neuron with λ_min < 0 has a split that lowers the loss by about ε²|λ_min|/2 for step ε (S2D); " +
		"signed splitting can also use λ_max > 0 through off-spring of negative weight."
	if clipped > 0 {
		caption += fmt.Sprintf(" The %s outside [%.3g, %.3g] are counted in the end bins.", plural(clipped, "eigenvalue"), lo, hi)
	}
	return newFigure("lambda_hist.png", caption, p), nil
}

// histogram counts vs in n equal bins over [lo, hi].
func histogram(vs []float64, lo, hi float64, n int) *plotter.Histogram {
	w := (hi - lo) / float64(n)
	bins := make([]plotter.HistogramBin, n)
	for i := range bins {
		bins[i].Min = lo + float64(i)*w
		bins[i].Max = lo + float64(i+1)*w
	}
	for _, v := range vs {
		i := int((v - lo) / w)
		i = max(0, min(i, n-1))
		bins[i].Weight++
	}
	return &plotter.Histogram{Bins: bins, Width: w, LineStyle: plotter.DefaultLineStyle}
}

// verticalLine is a thin dashed grey line at x, spanning the plot.
type verticalLine float64

func (x verticalLine) Plot(c draw.Canvas, p *plot.Plot) {
	tx, _ := p.Transforms(&c)
	xx := tx(float64(x))
	c.StrokeLine2(draw.LineStyle{Color: color.Gray{120}, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}},
		xx, c.Min.Y, xx, c.Max.Y)
}

// PredictedVsMeasured plots, for each split that made a prediction, the
// second-order predicted loss change against the one measured after the
// split, with the line y = x. Baseline splits (no prediction) are left out.
// It returns an error when no split has a prediction or a value is not
// finite.
func PredictedVsMeasured(r *Run) (*Figure, error) {
	byLayer := map[int]plotter.XYs{}
	var layers []int
	var pred, meas []float64
	for _, s := range r.Splits {
		if s.Predicted == nil || s.Joint {
			continue
		}
		what := fmt.Sprintf("run %s: round %d layer %d neuron %d: loss change", r.Dir, s.Round, s.Layer, s.Neuron)
		if err := checkFinite(what, *s.Predicted, s.Measured); err != nil {
			return nil, err
		}
		if _, ok := byLayer[s.Layer]; !ok {
			layers = append(layers, s.Layer)
		}
		byLayer[s.Layer] = append(byLayer[s.Layer], plotter.XY{X: *s.Predicted, Y: s.Measured})
		pred = append(pred, *s.Predicted)
		meas = append(meas, s.Measured)
	}
	if len(pred) == 0 {
		return nil, fmt.Errorf("report: run %s: no split with a predicted loss change: %w", r.Dir, ErrNoData)
	}
	sort.Ints(layers)
	act := r.Config.Act
	if act == "" {
		act = "unknown activation"
	}
	// Loss changes of single splits are small (1e-5 is typical): plot them
	// in units of a power of ten so that tick labels stay short.
	unit := ""
	var big float64
	for i := range pred {
		big = math.Max(big, math.Max(math.Abs(pred[i]), math.Abs(meas[i])))
	}
	// (For big = 0, e is some integer and unused.)
	if e := int(math.Floor(math.Log10(big))); big > 0 && (e < -2 || e > 3) {
		scale := math.Pow10(-e)
		for i := range pred {
			pred[i] *= scale
			meas[i] *= scale
		}
		for _, xys := range byLayer {
			for j := range xys {
				xys[j].X *= scale
				xys[j].Y *= scale
			}
		}
		unit = fmt.Sprintf(" (×1e%d)", e)
	}
	p := newPlot("Predicted vs measured loss change per split ("+act+")", "predicted Δloss"+unit, "measured Δloss"+unit)
	p.Legend.Left = true
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range pred {
		lo = math.Min(lo, math.Min(pred[i], meas[i]))
		hi = math.Max(hi, math.Max(pred[i], meas[i]))
	}
	pad := 0.05 * (hi - lo)
	if pad == 0 {
		pad = math.Max(math.Abs(hi), 1e-12) / 10
	}
	lo, hi = lo-pad, hi+pad
	diag, err := plotter.NewLine(plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}})
	if err != nil {
		return nil, err
	}
	diag.Color = color.Gray{110}
	diag.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	p.Add(diag)
	p.Legend.Add("y = x", diag)
	for i, l := range layers {
		s, err := plotter.NewScatter(byLayer[l])
		if err != nil {
			return nil, err
		}
		s.Color = colour(i)
		s.Shape = glyphs[i%len(glyphs)]
		s.Radius = vg.Points(3)
		p.Add(s)
		p.Legend.Add(fmt.Sprintf("layer %d (%s)", l, plural(len(byLayer[l]), "split")), s)
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lo, hi, lo, hi
	caption := fmt.Sprintf("Loss change of each split predicted by the second-order model against the change measured "+
		"on the statistics batches; %s", plural(len(pred), "split"))
	if len(pred) > 2 {
		caption += fmt.Sprintf(", Spearman rank correlation %.2f", linalg.Spearman(pred, meas))
	}
	caption += ". For ReLU the prediction uses σ'' of the softplus (β = 3) surrogate, as ReLU's is zero almost " +
		"everywhere, so agreement is only expected for smooth activations (tanh, sigmoid, softplus)."
	f := newFigure("predicted_vs_measured.png", caption, p)
	f.Width, f.Height = 600, 560 // nearly square, so that y = x is near the diagonal
	return f, nil
}

// TrainingCurves plots a run's loss and accuracy per epoch (train and
// test, and validation when the run held a split out), side by side. It
// returns an error when the run logged no epochs or a metric is not finite.
func TrainingCurves(r *Run) (*Figure, error) {
	if len(r.Epochs) == 0 {
		return nil, fmt.Errorf("report: run %s: no epoch events: %w", r.Dir, ErrNoData)
	}
	hasVal := false
	for _, e := range r.Epochs {
		what := fmt.Sprintf("run %s: epoch %d: metric", r.Dir, e.Epoch)
		if err := checkFinite(what, e.TrainLoss, e.TrainAccuracy, e.TestLoss, e.TestAccuracy, e.ValLoss, e.ValAccuracy); err != nil {
			return nil, err
		}
		hasVal = hasVal || e.ValLoss != 0
	}
	loss := newPlot("Loss per epoch", "epoch", "cross-entropy loss")
	acc := newPlot("Accuracy per epoch", "epoch", "accuracy (%)")
	acc.Legend.Top = false
	loss.X.Tick.Marker = integerTicks{}
	acc.X.Tick.Marker = integerTicks{}
	type metric struct {
		label     string
		loss, acc func(Epoch) float64
	}
	ms := []metric{
		{"train", func(e Epoch) float64 { return e.TrainLoss }, func(e Epoch) float64 { return e.TrainAccuracy }},
		{"test", func(e Epoch) float64 { return e.TestLoss }, func(e Epoch) float64 { return e.TestAccuracy }},
	}
	if hasVal {
		ms = append(ms, metric{"validation", func(e Epoch) float64 { return e.ValLoss }, func(e Epoch) float64 { return e.ValAccuracy }})
	}
	for i, m := range ms {
		lp := make(plotter.XYs, len(r.Epochs))
		ap := make(plotter.XYs, len(r.Epochs))
		for j, e := range r.Epochs {
			lp[j] = plotter.XY{X: float64(e.Epoch), Y: m.loss(e)}
			ap[j] = plotter.XY{X: float64(e.Epoch), Y: 100 * m.acc(e)}
		}
		if err := addSeries(loss, i, m.label, lp); err != nil {
			return nil, err
		}
		if err := addSeries(acc, i, m.label, ap); err != nil {
			return nil, err
		}
	}
	for _, p := range []*plot.Plot{loss, acc} {
		padRange(&p.X, 0.05)
		padRange(&p.Y, 0.08)
	}
	caption := fmt.Sprintf("Loss and accuracy at the end of each epoch of %s (the train metrics are "+
		"running averages over the epoch's mini-batches).", r.Name())
	return newFigure("training.png", caption, loss, acc), nil
}
