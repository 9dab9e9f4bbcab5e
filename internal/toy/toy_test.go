package toy

import (
	"bytes"
	"context"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nadir-ml/nadir/grow/split"
)

// randomProblem returns a net of the given activation that is far from any
// stationary point (random targets), so its splitting matrices are
// indefinite and sizeable.
func randomProblem(t *testing.T, act string, seed uint64) (*Net, *Data) {
	t.Helper()
	a, err := ParseActivation(act)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 7))
	net := NewNet(2, 3, a, 1, 1, r)
	net.C = 0.3
	d := &Data{In: 2, X: make([]float64, 2*150), Y: make([]float64, 150)}
	for i := range d.X {
		d.X[i] = 1.5 * r.NormFloat64()
	}
	for n := range d.Y {
		d.Y[n] = math.Sin(2*d.X[2*n]) - 0.5*d.X[2*n+1] + 0.3*r.NormFloat64()
	}
	return net, d
}

func TestGradientMatchesFiniteDifferences(t *testing.T) {
	for _, act := range []string{"rbf", "tanh", "softplus"} {
		net, d := randomProblem(t, act, 1)
		p := net.Params(nil)
		g := make([]float64, len(p))
		net.Gradient(d, g)
		for k := range p {
			const h = 1e-6
			q := append([]float64(nil), p...)
			q[k] += h
			net.SetParams(q)
			lp := net.Loss(d)
			q[k] -= 2 * h
			net.SetParams(q)
			lm := net.Loss(d)
			net.SetParams(p)
			fd := (lp - lm) / (2 * h)
			if math.Abs(fd-g[k]) > 1e-6*math.Max(1, math.Abs(fd)) {
				t.Errorf("%s: ∂L/∂p[%d] = %v, finite difference %v", act, k, g[k], fd)
			}
		}
	}
}

// The defining property of the splitting matrix: a real split changes the
// loss by (ε²/2)·Σ w_j δ_jᵀ S δ_j to second order.
func TestSplitLossChangeMatchesSecondOrderPrediction(t *testing.T) {
	for _, act := range []string{"rbf", "tanh", "softplus"} {
		net, d := randomProblem(t, act, 2)
		spec, err := net.Spectra(d)
		if err != nil {
			t.Fatal(err)
		}
		before := net.Loss(d)
		r := rand.New(rand.NewPCG(3, 3))
		checked := 0
		for i, e := range spec {
			u := make([]float64, net.In+1)
			randomUnit(u, r)
			neg := make([]float64, len(u))
			for k, v := range u {
				neg[k] = -v
			}
			mats := net.SplittingMatrices(d)
			var uSu float64
			for a := range u {
				for b := range u {
					uSu += u[a] * mats[i][a*len(u)+b] * u[b]
				}
			}
			schemes := []split.Scheme{
				split.S2D(e),
				split.Signed(split.Eigen{LambdaMin: math.Abs(e.LambdaMin), LambdaMax: e.LambdaMax, VMin: e.VMin, VMax: e.VMax}, 3), // forces signed-max
				{Name: "random", Weights: []float64{0.5, 0.5}, Deltas: [][]float64{u, neg}, Gain: uSu},
			}
			for _, s := range schemes {
				if math.Abs(s.Gain) < 1e-3*spectralScale(spec) {
					continue
				}
				for _, eps := range []float64{0.03, 0.01} {
					c := net.Clone()
					if err := c.Split(i, s, eps); err != nil {
						t.Fatal(err)
					}
					got := c.Loss(d) - before
					want := eps * eps / 2 * s.Gain
					if math.Abs(got-want) > 0.1*math.Abs(want) {
						t.Errorf("%s neuron %d scheme %s ε=%g: loss change %.4g, predicted %.4g", act, i, s.Name, eps, got, want)
					}
					checked++
				}
			}
		}
		if checked < 10 {
			t.Errorf("%s: only %d split checks had a sizeable gain", act, checked)
		}
	}
}

func TestSplitPreservesFunctionAtZeroStep(t *testing.T) {
	net, d := randomProblem(t, "tanh", 4)
	spec, err := net.Spectra(d)
	if err != nil {
		t.Fatal(err)
	}
	c := net.Clone()
	if err := c.Split(1, split.Signed(spec[1], 3), 0); err != nil {
		t.Fatal(err)
	}
	if c.Width() <= net.Width() {
		t.Fatalf("width %d after split, was %d", c.Width(), net.Width())
	}
	for n := 0; n < d.Len(); n++ {
		if a, b := net.Predict(d.Row(n)), c.Predict(d.Row(n)); math.Abs(a-b) > 1e-12 {
			t.Fatalf("example %d: %v before, %v after a split with ε = 0", n, a, b)
		}
	}
	if err := c.Split(9, split.S2D(spec[0]), 0.1); err == nil {
		t.Error("split of a neuron out of range: no error")
	}
	bad := split.Scheme{Name: "bad", Weights: []float64{0.5, 0.6}, Deltas: [][]float64{nil, nil}}
	if err := c.Split(0, bad, 0.1); err == nil {
		t.Error("weights summing to 1.1: no error")
	}
}

func TestParseActivation(t *testing.T) {
	for _, s := range []string{"rbf", "RBF", "tanh", "softplus", "softplus:2", "sigmoid"} {
		if _, err := ParseActivation(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"relu", "identity", "cosine"} {
		if _, err := ParseActivation(s); err == nil {
			t.Errorf("%q: no error", s)
		}
	}
	// RBF derivatives against finite differences.
	var a RBF
	for _, z := range []float64{-2, -0.3, 0, 1.1} {
		const h = 1e-5
		if d1 := (a.F(z+h) - a.F(z-h)) / (2 * h); math.Abs(d1-a.D1(z)) > 1e-8 {
			t.Errorf("RBF σ'(%v) = %v, finite difference %v", z, a.D1(z), d1)
		}
		if d2 := (a.D1(z+h) - a.D1(z-h)) / (2 * h); math.Abs(d2-a.D2(z)) > 1e-8 {
			t.Errorf("RBF σ″(%v) = %v, finite difference %v", z, a.D2(z), d2)
		}
	}
}

func TestPolishReachesStationaryPoint(t *testing.T) {
	// Targets realisable by the net: from a perturbed start, Newton
	// polishing must drive the gradient to (numerical) zero.
	net, d := randomProblem(t, "softplus", 5)
	for n := range d.Y {
		d.Y[n] = net.Predict(d.Row(n))
	}
	p := net.Params(nil)
	r := rand.New(rand.NewPCG(5, 5))
	for k := range p {
		p[k] += 0.05 * r.NormFloat64()
	}
	net.SetParams(p)
	before := net.Loss(d)
	loss, gn, err := Polish(net, d, 1e-10, 100)
	if err != nil {
		t.Fatal(err)
	}
	if gn > 1e-10 || loss > 1e-12 {
		t.Errorf("polish: loss %v → %v, gradient norm %v", before, loss, gn)
	}
}

func TestOptimizerErrors(t *testing.T) {
	if _, err := NewOptimizer("sgd", 0.1); err == nil {
		t.Error("unknown optimizer: no error")
	}
	if _, err := NewOptimizer("gd", -1); err == nil {
		t.Error("negative learning rate: no error")
	}
}

// The claim of the toy experiment, for the default seed: growing by S2D
// ends below random splitting and fresh neurons.
func TestToyDefaultRanking(t *testing.T) {
	res, err := RunToy(context.Background(), DefaultToyConfig())
	if err != nil {
		t.Fatal(err)
	}
	f := res.FinalLoss()
	t.Logf("final losses: %v", f)
	if !res.SplitBest() {
		t.Errorf("split %.3g, random-split %.3g, new-neuron %.3g: split is not below both", f["split"], f["random-split"], f["new-neuron"])
	}
	for _, run := range res.Runs {
		if len(run.Loss) != res.TotalSteps+1 {
			t.Errorf("%s: %d loss values for %d steps", run.Method, len(run.Loss), res.TotalSteps)
		}
		want := 8
		switch run.Method {
		case "gradient":
			want = 1
		case "signed":
			want = run.Width // may overshoot by one
			if want < 8 || want > 9 {
				t.Errorf("signed: width %d, want 8 or 9", want)
			}
		}
		if run.Width != want {
			t.Errorf("%s: final width %d, want %d", run.Method, run.Width, want)
		}
	}
	if g := res.Run("split").Growths; len(g) != 7 || g[0].Step != 800 {
		t.Errorf("split growths %+v, want 7 starting at step 800", g)
	}
}

func TestToyConfigErrors(t *testing.T) {
	for name, mod := range map[string]func(*ToyConfig){
		"act":    func(c *ToyConfig) { c.Act = "relu" },
		"target": func(c *ToyConfig) { c.Target = "cos" },
		"opt":    func(c *ToyConfig) { c.Optimizer = "sgd" },
		"eps":    func(c *ToyConfig) { c.Eps = 0 },
		"width":  func(c *ToyConfig) { c.MaxWidth = 1 },
		"steps":  func(c *ToyConfig) { c.StageSteps = 0 },
	} {
		cfg := DefaultToyConfig()
		mod(&cfg)
		if _, err := RunToy(context.Background(), cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestPlotLossWritesPNG(t *testing.T) {
	cfg := DefaultToyConfig()
	cfg.Points, cfg.StageSteps, cfg.MaxWidth, cfg.GrowBy, cfg.Target = 100, 20, 4, 0, "rbf-mix"
	res, err := RunToy(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if w := res.Run("split").Width; w != 4 {
		t.Errorf("doubling to 4: split width %d", w)
	}
	path := filepath.Join(t.TempDir(), "toy_loss.png")
	if err := PlotLoss(res, path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() < 400 {
		t.Errorf("plot is %d pixels wide", img.Bounds().Dx())
	}
	if err := PlotLoss(res, filepath.Join(t.TempDir(), "missing", "x.png")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("unwritable path: error %v", err)
	}
	thin := res.Run("split").Thin(7)
	if len(thin) != (res.TotalSteps)/7+2 || thin[len(thin)-1] != res.Run("split").FinalLoss {
		t.Errorf("Thin(7) of %d values: %d values ending %v", res.TotalSteps+1, len(thin), thin[len(thin)-1])
	}
}

// The claim of the stuck experiment: S2D selects nothing at the stable
// minimum, signed splitting lowers the loss as predicted, and training
// on keeps lowering it while the unsplit net stays put.
func TestStuckSignedEscapes(t *testing.T) {
	res, err := RunStuck(context.Background(), DefaultStuckConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s after %d tries: λ_min ≥ %.3g, λ_max ≤ %.3g, loss %.6g → %.6g (predicted change %.3g) → %.6g after training (control %.6g)",
		res.Construction, res.Tries, res.MinLambdaMin, res.MaxLambdaMax, res.LossBefore, res.LossAfterSigned, res.PredictedChange, res.LossAfterTrain, res.LossControl)
	if res.S2DSelected != 0 || res.MinLambdaMin < -res.Tolerance {
		t.Errorf("S2D selects %d neurons (min λ_min %v, tolerance %v)", res.S2DSelected, res.MinLambdaMin, res.Tolerance)
	}
	if res.SignedSelected == 0 || res.LossAfterSigned >= res.LossBefore {
		t.Errorf("signed: %d neurons split, loss %v → %v", res.SignedSelected, res.LossBefore, res.LossAfterSigned)
	}
	if math.Abs(res.MeasuredChange-res.PredictedChange) > 0.25*math.Abs(res.PredictedChange) {
		t.Errorf("loss change %v, predicted %v", res.MeasuredChange, res.PredictedChange)
	}
	if res.GradNorm > 1e-9 || res.HessianMin < -1e-6 {
		t.Errorf("not a local minimum: gradient norm %v, Hessian min/max %v", res.GradNorm, res.HessianMin)
	}
	if res.LossAfterTrain >= 0.9*res.LossAfterSigned {
		t.Errorf("training on after the split: %v → %v", res.LossAfterSigned, res.LossAfterTrain)
	}
	if math.Abs(res.LossControl-res.LossBefore) > 1e-6*res.LossBefore {
		t.Errorf("the unsplit minimum moved under training: %v → %v", res.LossBefore, res.LossControl)
	}
	if res.Construction != "seed-search" && res.Construction != "constructed" {
		t.Errorf("construction %q", res.Construction)
	}
	if res.Tries < res.SearchTries || res.Try < 1 || res.Try > res.Tries {
		t.Errorf("tries %d, search tries %d, kept %d", res.Tries, res.SearchTries, res.Try)
	}
}

func TestStuckErrors(t *testing.T) {
	cfg := DefaultStuckConfig()
	cfg.SignedC = 1
	if _, err := RunStuck(context.Background(), cfg); err == nil {
		t.Error("c = 1: no error")
	}
	cfg = DefaultStuckConfig()
	cfg.SearchTries, cfg.ConstructTries = 0, 0
	if _, err := RunStuck(context.Background(), cfg); err == nil {
		t.Error("no tries: no error")
	}
	// A search without construction that finds nothing reports its counts.
	cfg = DefaultStuckConfig()
	cfg.SearchTries, cfg.ConstructTries = 2, 0
	res, err := RunStuck(context.Background(), cfg)
	if err == nil {
		t.Logf("two searched students found a stable minimum (%s)", res.Construction)
	} else if !strings.Contains(err.Error(), "2 students searched") {
		t.Errorf("error %v does not report the search", err)
	}
}
