package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// DPI is the resolution figures are rendered at.
const DPI = 96

// Default figure size in pixels.
const (
	defaultWidth  = 720
	defaultHeight = 450
)

// Figure is one image of a report: a plot, or a grid of plots drawn with
// aligned axes, with the file name and caption it is published under.
type Figure struct {
	// Name is the PNG's file name in the report directory, e.g. "widths.png".
	Name string
	// Caption is a sentence or two for the report, saying how to read the
	// figure (and what it cannot show).
	Caption string
	// Plots are the panels, by row then column.
	Plots [][]*plot.Plot
	// Width and Height are the image size in pixels.
	Width, Height int
}

func newFigure(name, caption string, panels ...*plot.Plot) *Figure {
	w := defaultWidth
	if len(panels) > 1 {
		w = defaultWidth * 3 / 2
	}
	return &Figure{Name: name, Caption: caption, Plots: [][]*plot.Plot{panels}, Width: w, Height: defaultHeight}
}

// WritePNG draws the figure as a Width×Height PNG image.
func (f *Figure) WritePNG(w io.Writer) error {
	if f.Width <= 0 || f.Height <= 0 {
		return fmt.Errorf("report: figure %s: size %d×%d pixels", f.Name, f.Width, f.Height)
	}
	if len(f.Plots) == 0 || len(f.Plots[0]) == 0 {
		return fmt.Errorf("report: figure %s has no plots", f.Name)
	}
	px := func(n int) vg.Length { return vg.Length(n) * vg.Inch / DPI }
	img := vgimg.NewWith(vgimg.UseWH(px(f.Width), px(f.Height)), vgimg.UseDPI(DPI))
	dc := draw.New(img)
	rows, cols := len(f.Plots), len(f.Plots[0])
	for _, row := range f.Plots {
		if len(row) != cols {
			return fmt.Errorf("report: figure %s: ragged grid of plots", f.Name)
		}
	}
	if rows == 1 && cols == 1 {
		f.Plots[0][0].Draw(dc)
	} else {
		t := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
			PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
		canvases := plot.Align(f.Plots, t, dc)
		for i, row := range f.Plots {
			for j, p := range row {
				p.Draw(canvases[i][j])
			}
		}
	}
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

// PNG returns the figure encoded as PNG.
func (f *Figure) PNG() ([]byte, error) {
	var b bytes.Buffer
	if err := f.WritePNG(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ErrNoData is returned by a figure constructor given nothing to plot.
var ErrNoData = errors.New("report: no data to plot")

// checkFinite rejects NaN and infinite values, naming what they are.
func checkFinite(what string, vs ...float64) error {
	for _, v := range vs {
		if math.IsNaN(v) {
			return fmt.Errorf("report: %s is NaN", what)
		}
		if math.IsInf(v, 0) {
			return fmt.Errorf("report: %s is infinite", what)
		}
	}
	return nil
}

// newPlot is a plot with a title, axis labels and a legend in the corner
// least likely to hide data (set by the caller).
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.Title.Padding = vg.Millimeter * 2
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.Top = true
	p.Legend.Padding = vg.Millimeter
	p.X.Tick.Marker = niceTicks{}
	p.Y.Tick.Marker = niceTicks{}
	p.Add(plotter.NewGrid())
	return p
}

// integerTicks labels whole numbers only (rounds, epochs, widths), at a
// step chosen so that there are at most about ten labels.
type integerTicks struct{}

func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	first, last := math.Ceil(lo), math.Floor(hi)
	if last < first {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	step := 1.0
	for i := 1; (last-first)/step > 10; i++ {
		step = []float64{1, 2, 5}[i%3] * math.Pow10(i/3) // 1, 2, 5, 10, 20, 50, ...
	}
	first = math.Ceil(first/step) * step
	var ticks []plot.Tick
	for v := first; v <= last; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatInt(int64(v), 10)})
	}
	return ticks
}

// niceTicks places about six labelled ticks at steps of 1, 2, 2.5 or 5
// times a power of ten, with minor ticks between; whole numbers of five or
// more digits get thousands separators (MACs and parameter counts run to
// millions). gonum's DefaultTicks aims at three labels, too few to read
// values off a report's plots.
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	// The step of 1, 2, 2.5 or 5 times a power of ten that gives the
	// number of labels closest to six.
	raw := (hi - lo) / 6
	mag := math.Pow10(int(math.Floor(math.Log10(raw))))
	m, best := 1.0, math.Inf(1)
	for _, c := range []float64{1, 2, 2.5, 5, 10} {
		if d := math.Abs((hi-lo)/(c*mag) - 6); d < best {
			m, best = c, d
		}
	}
	if m == 10 {
		m, mag = 1, mag*10
	}
	step := m * mag
	exp := int(math.Floor(math.Log10(step) + 1e-9))
	prec := max(0, -exp)
	if m == 2.5 && exp <= 0 { // 2.5, 0.25, ...: one more digit
		prec++
	}
	minor := step / 5
	if m == 2 {
		minor = step / 4
	}
	var ticks []plot.Tick
	for i := math.Ceil(lo / minor); i*minor <= hi*(1+1e-12); i++ {
		v := i * minor
		k := v / step
		if math.Abs(k-math.Round(k)) > 1e-6 {
			ticks = append(ticks, plot.Tick{Value: v})
			continue
		}
		v = math.Round(k) * step
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		var label string
		switch {
		case prec > 5:
			label = strconv.FormatFloat(v, 'g', 3, 64)
		case prec == 0 && math.Abs(v) >= 1e4 && math.Abs(v) < 1e18:
			label = thousands(int64(v))
		default:
			label = strconv.FormatFloat(v, 'f', prec, 64)
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: label})
	}
	return ticks
}

// thousands formats n with a thin separator every three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var b []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	if neg {
		return "-" + string(b)
	}
	return string(b)
}
