package report

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/plot"
)

// checkPNG decodes a figure's PNG and checks its size and that something
// was drawn on it (a fair share of pixels is not the white background).
func checkPNG(t *testing.T, f *Figure) {
	t.Helper()
	b, err := f.PNG()
	if err != nil {
		t.Fatalf("%s: %v", f.Name, err)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil || format != "png" {
		t.Fatalf("%s: DecodeConfig: %v (format %q)", f.Name, err, format)
	}
	if cfg.Width != f.Width || cfg.Height != f.Height {
		t.Errorf("%s: image is %d×%d, want %d×%d", f.Name, cfg.Width, cfg.Height, f.Width, f.Height)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	inked := 0
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			if r, g, b, _ := img.At(x, y).RGBA(); r < 0xe000 || g < 0xe000 || b < 0xe000 {
				inked++
			}
		}
	}
	if frac := float64(inked) / float64(bd.Dx()*bd.Dy()); frac < 0.01 {
		t.Errorf("%s: only %.2f%% of the pixels are drawn", f.Name, 100*frac)
	}
}

func TestFigures(t *testing.T) {
	g := loadRun(t, "g1", growConfig, growSummary, growLog)
	tr := loadRun(t, "t1", trainConfig, trainSummary, trainLog)
	build := []struct {
		name string
		f    func() (*Figure, error)
	}{
		{"accuracy_vs_macs.png", func() (*Figure, error) { return AccuracyVsMACs(g, tr) }},
		{"widths.png", func() (*Figure, error) { return Widths(g) }},
		{"lambda_hist.png", func() (*Figure, error) { return LambdaHistogram(g, 0) }},
		{"lambda_hist.png", func() (*Figure, error) { return LambdaHistogram(g, 2) }},
		{"predicted_vs_measured.png", func() (*Figure, error) { return PredictedVsMeasured(g) }},
		{"training.png", func() (*Figure, error) { return TrainingCurves(tr) }},
		{"training.png", func() (*Figure, error) { return TrainingCurves(g) }},
	}
	for _, b := range build {
		f, err := b.f()
		if err != nil {
			t.Fatalf("%s: %v", b.name, err)
		}
		if f.Name != b.name {
			t.Errorf("figure named %q, want %q", f.Name, b.name)
		}
		if f.Caption == "" {
			t.Errorf("%s has no caption", f.Name)
		}
		for _, row := range f.Plots {
			for _, p := range row {
				if p.Title.Text == "" || p.X.Label.Text == "" || p.Y.Label.Text == "" {
					t.Errorf("%s: a panel lacks a title or an axis label", f.Name)
				}
			}
		}
		checkPNG(t, f)
	}
}

func TestPredictedVsMeasuredCaption(t *testing.T) {
	g := loadRun(t, "g1", growConfig, growSummary, growLog)
	f, err := PredictedVsMeasured(g)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"softplus (β = 3)", "smooth activations", "3 splits", "Spearman rank correlation 1.00"} {
		if !strings.Contains(f.Caption, w) {
			t.Errorf("caption %q lacks %q", f.Caption, w)
		}
	}
	// The baseline split made no prediction and is left out; the values
	// are plotted in units of 1e-5.
	if x := f.Plots[0][0].X.Label.Text; !strings.Contains(x, "×1e-5") {
		t.Errorf("x label %q: want units of 1e-5", x)
	}
}

func TestFigureErrors(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	grow := func(rounds ...Round) *Run {
		return &Run{Dir: "g", Summary: Summary{Command: "grow", Method: "fast", Rounds: rounds}}
	}
	pred := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		name   string
		f      func() (*Figure, error)
		noData bool   // the error wraps ErrNoData
		want   string // substring of the error
	}{
		{"accuracy no runs", func() (*Figure, error) { return AccuracyVsMACs() }, true, ""},
		{"accuracy no rounds", func() (*Figure, error) { return AccuracyVsMACs(grow()) }, false, "no rounds"},
		{"accuracy NaN", func() (*Figure, error) {
			return AccuracyVsMACs(grow(Round{Round: 0, Widths: []int{4}, TestAccuracy: 0.5}, Round{Round: 1, Widths: []int{5}, TestAccuracy: nan}))
		}, false, "round 1: test accuracy is NaN"},
		{"accuracy train Inf", func() (*Figure, error) {
			return AccuracyVsMACs(&Run{Dir: "t", Summary: Summary{Command: "train", TestAccuracy: inf}})
		}, false, "infinite"},
		{"widths no rounds", func() (*Figure, error) { return Widths(grow()) }, true, ""},
		{"widths empty", func() (*Figure, error) { return Widths(grow(Round{})) }, false, "no widths"},
		{"widths ragged", func() (*Figure, error) {
			return Widths(grow(Round{Round: 0, Widths: []int{4, 3}}, Round{Round: 1, Widths: []int{5}}))
		}, false, "round 1 has 1 growable layers"},
		{"lambda none", func() (*Figure, error) { return LambdaHistogram(grow(), 0) }, true, ""},
		{"lambda round none", func() (*Figure, error) {
			return LambdaHistogram(&Run{Eigen: []Eigen{{Round: 1, LambdaMin: -1, LambdaMax: 1}}}, 2)
		}, true, "round 2"},
		{"lambda NaN", func() (*Figure, error) {
			return LambdaHistogram(&Run{Eigen: []Eigen{{Round: 1, Layer: 1, Neuron: 7, LambdaMin: nan}}}, 0)
		}, false, "neuron 7: eigenvalue is NaN"},
		{"pvm no predictions", func() (*Figure, error) {
			return PredictedVsMeasured(&Run{Splits: []Split{{Measured: 1e-5}}})
		}, true, ""},
		{"pvm Inf", func() (*Figure, error) {
			return PredictedVsMeasured(&Run{Splits: []Split{{Round: 2, Measured: inf, Predicted: pred(-1e-5)}}})
		}, false, "round 2"},
		{"pvm NaN prediction", func() (*Figure, error) {
			return PredictedVsMeasured(&Run{Splits: []Split{{Measured: 1, Predicted: pred(nan)}}})
		}, false, "NaN"},
		{"training none", func() (*Figure, error) { return TrainingCurves(&Run{}) }, true, ""},
		{"training NaN", func() (*Figure, error) {
			return TrainingCurves(&Run{Epochs: []Epoch{{Epoch: 1}, {Epoch: 2, TrainLoss: nan}}})
		}, false, "epoch 2"},
	} {
		f, err := tc.f()
		if err == nil {
			t.Errorf("%s: no error (figure %v)", tc.name, f.Name)
			continue
		}
		if tc.noData != errors.Is(err, ErrNoData) {
			t.Errorf("%s: errors.Is(%q, ErrNoData) = %t", tc.name, err, !tc.noData)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q lacks %q", tc.name, err, tc.want)
		}
	}
}

func TestFigureWritePNGErrors(t *testing.T) {
	p := plot.New()
	for _, f := range []*Figure{
		{Name: "empty.png", Width: 10, Height: 10},
		{Name: "zero.png", Plots: [][]*plot.Plot{{p}}},
		{Name: "ragged.png", Plots: [][]*plot.Plot{{p, p}, {p}}, Width: 10, Height: 10},
	} {
		if _, err := f.PNG(); err == nil || !strings.Contains(err.Error(), f.Name) {
			t.Errorf("%s: error %v, want one naming the figure", f.Name, err)
		}
	}
}

func TestSinglePoints(t *testing.T) {
	// One round, one epoch, equal eigenvalues, one split: degenerate
	// ranges must still give a readable plot, not a panic.
	r := &Run{Dir: "one", Config: loadRun(t, "g", growConfig, growSummary, growLog).Config,
		Summary: Summary{Command: "grow", Method: "scratch", Rounds: []Round{{Widths: []int{33}, MACs: 26202, TestAccuracy: 0.96}}},
		Epochs:  []Epoch{{Epoch: 1, TrainLoss: 0.3, TestLoss: 0.3, TrainAccuracy: 0.9, TestAccuracy: 0.9}},
		Eigen:   []Eigen{{Round: 1, LambdaMin: 0.5, LambdaMax: 0.5}},
		Splits:  []Split{{Measured: 0, Predicted: new(float64)}},
	}
	for _, f := range []func() (*Figure, error){
		func() (*Figure, error) { return AccuracyVsMACs(r) },
		func() (*Figure, error) { return Widths(r) },
		func() (*Figure, error) { return LambdaHistogram(r, 1) },
		func() (*Figure, error) { return PredictedVsMeasured(r) },
		func() (*Figure, error) { return TrainingCurves(r) },
	} {
		fig, err := f()
		if err != nil {
			t.Fatal(err)
		}
		checkPNG(t, fig)
	}
}

func TestTicks(t *testing.T) {
	labels := func(ts []plot.Tick) string {
		var s []string
		for _, t := range ts {
			if t.Label != "" {
				s = append(s, t.Label)
			}
		}
		return strings.Join(s, " ")
	}
	for _, tc := range []struct {
		ticker plot.Ticker
		lo, hi float64
		want   string
	}{
		{integerTicks{}, -0.12, 3.12, "0 1 2 3"},
		{integerTicks{}, 0, 40, "0 5 10 15 20 25 30 35 40"},
		{integerTicks{}, 0, 250, "0 50 100 150 200 250"},
		{niceTicks{}, 94.2, 98.1, "94.5 95.0 95.5 96.0 96.5 97.0 97.5 98.0"},
		{niceTicks{}, 9000, 110000, "20,000 40,000 60,000 80,000 100,000"},
		{niceTicks{}, -0.45, 0.4, "-0.4 -0.2 0.0 0.2 0.4"},
		{niceTicks{}, 25600, 26900, "25,600 25,800 26,000 26,200 26,400 26,600 26,800"},
		{niceTicks{}, 25500, 27000, "25,500 25,750 26,000 26,250 26,500 26,750 27,000"},
		{niceTicks{}, -1.6, -0.2, "-1.50 -1.25 -1.00 -0.75 -0.50 -0.25"},
		{niceTicks{}, -1.3e-7, 2e-8, "-1.25e-07 -1e-07 -7.5e-08 -5e-08 -2.5e-08 0"},
	} {
		if got := labels(tc.ticker.Ticks(tc.lo, tc.hi)); got != tc.want {
			t.Errorf("%T.Ticks(%g, %g) = %q, want %q", tc.ticker, tc.lo, tc.hi, got, tc.want)
		}
	}
}
