package split

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/grow"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/tensor"
)

// teacherData makes a small classification set labelled by a random
// teacher network, so that a student has real curvature to find.
func teacherData(r *rand.Rand, n int, shape []int, classes int) *data.Dataset {
	d := &data.Dataset{Name: "teacher", Shape: shape, Classes: classes}
	dim := 1
	for _, s := range shape {
		dim *= s
	}
	w := make([]float64, dim*classes)
	for i := range w {
		w[i] = r.NormFloat64()
	}
	for i := 0; i < n; i++ {
		x := make([]float32, dim)
		best, bestV := 0, math.Inf(-1)
		for j := range x {
			x[j] = float32(r.NormFloat64())
		}
		for c := 0; c < classes; c++ {
			var s float64
			for j := range x {
				s += math.Tanh(float64(x[j]) * w[c*dim+j])
			}
			if s > bestV {
				best, bestV = c, s
			}
		}
		d.X = append(d.X, x...)
		d.Y = append(d.Y, best)
	}
	return d
}

type fixture struct {
	net   *nn.Net
	b     *data.Batcher
	steps []int
}

func newFixture(t *testing.T, model, act string, shape []int, seed uint64) fixture {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	a, err := nn.ParseActivation(act)
	if err != nil {
		t.Fatal(err)
	}
	net, err := nn.ParseModel(model, shape, 3, a, r)
	if err != nil {
		t.Fatal(err)
	}
	d := teacherData(r, 96, shape, 3)
	// Non-trivial BatchNorm running statistics: a few training passes.
	b := data.NewBatcher(d, 32)
	b.Epoch(nil)
	for s := 0; s < b.Steps(); s++ {
		x, _ := b.Batch(s, nil, nil)
		net.Forward(x, true)
	}
	return fixture{net: net, b: b, steps: []int{0, 1, 2}}
}

func (f fixture) env() *grow.Env {
	return &grow.Env{Net: f.net, Stats: f.b, Steps: f.steps, Seed: 7, Rand: rand.New(rand.NewPCG(7, 7)), Layers: f.net.Growable()}
}

var smoothCases = []struct {
	name, model, act string
	shape            []int
}{
	{"mlp-softplus", "mlp:6,5", "softplus", []int{5}},
	{"mlp-tanh", "mlp:7", "tanh", []int{4}},
	// Max pooling is only piecewise smooth (an argmax can switch within
	// ε), so the smooth cases downsample with strided convolutions.
	{"cnn-tanh", "cnn:c3s2,c4", "tanh", []int{2, 6, 6}},
	{"dscnn-tanh", "cnn:c3,d5,c4s2,f4", "tanh", []int{2, 6, 6}},
	{"cnn-swish", "cnn:c4s2,f5", "swish", []int{2, 6, 6}},
}

// TestSecondOrderPrediction checks the central claim of splitting: after
// a split along any scheme the loss changes by (ε²/2)·Σ w_j δ_jᵀ S δ_j up
// to O(ε³), i.e. within 10% at small ε, for every growable layer.
func TestSecondOrderPrediction(t *testing.T) {
	for _, c := range smoothCases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, c.model, c.act, c.shape, 3)
			eigs, err := Spectra(context.Background(), f.env(), Options{Solver: "dense"})
			if err != nil {
				t.Fatal(err)
			}
			base := grow.MeanLoss(f.net, f.b, f.steps)
			checked := 0
			for _, le := range eigs {
				if feedsDepthwise(f.net, le.Layer) {
					// The off-springs pass through their own copies of a
					// nonlinear depthwise branch before they are summed, so
					// S (the first activation's curvature) is the reference
					// code's approximation there, not an exact second-order
					// term; the pointwise layers of the block are exact.
					continue
				}
				for u, e := range le.Eigen {
					for _, s := range []Scheme{S2D(e), Signed(e, 3), signedMax(e, 3)} {
						// ε small enough for the O(ε³) rest, large enough
						// that float32 rounding of the loss (≈1e-8) is far
						// below 10% of the change.
						const eps = 0.03
						pred := eps * eps / 2 * s.Gain
						if math.Abs(pred) < 3e-6 {
							continue
						}
						net := cloneNet(t, f.net)
						if err := Apply(net, le.Layer, u, s, eps); err != nil {
							t.Fatal(err)
						}
						got := grow.MeanLoss(net, f.b, f.steps) - base
						if math.Abs(got-pred) > 0.1*math.Abs(pred) {
							t.Errorf("layer %d unit %d %s: measured %.4g, predicted %.4g", le.Layer, u, s.Name, got, pred)
						}
						checked++
					}
				}
			}
			if checked < 4 {
				t.Fatalf("only %d splits checked", checked)
			}
		})
	}
}

func feedsDepthwise(net *nn.Net, li int) bool {
	info, _ := net.Chain(li)
	for _, j := range info.Followers {
		if sp := net.Layers[j].Spec(); sp.Kind == "conv2d" && sp.Groups > 1 {
			return true
		}
	}
	return false
}

// signedMax forces the negative-weight scheme that uses λ_max.
func signedMax(e Eigen, c float64) Scheme {
	s := Signed(Eigen{LambdaMin: math.Inf(1), LambdaMax: e.LambdaMax, VMin: e.VMin, VMax: e.VMax}, c)
	s.Gain = -(c - 1) / 2 * e.LambdaMax
	return s
}

func cloneNet(t *testing.T, n *nn.Net) *nn.Net {
	b, err := n.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c, err := nn.UnmarshalNet(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSplitPreservesFunction: every scheme at ε = 0 leaves the outputs
// unchanged, in every layer kind.
func TestSplitPreservesFunction(t *testing.T) {
	for _, c := range smoothCases {
		f := newFixture(t, c.model, c.act, c.shape, 5)
		eigs, err := Spectra(context.Background(), f.env(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		x, _ := f.b.Batch(0, nil, nil)
		want := f.net.Forward(x, false).Clone()
		// Last layer first: a split changes the fan-in of the next layer.
		for k := len(eigs) - 1; k >= 0; k-- {
			le := eigs[k]
			jittered := S2D(le.Eigen[2])
			jittered.OutJitter, jittered.JitterSeed = 0.5, 7
			for _, s := range []Scheme{S2D(le.Eigen[0]), signedMax(le.Eigen[0], 3), Signed(le.Eigen[1], 5), jittered} {
				u := 0
				if s.OutJitter > 0 {
					u = 2
				}
				n := f.net.Layers[le.Layer].(nn.Producer).Units()
				before, _ := f.net.OutgoingColumn(le.Layer, u)
				if err := Apply(f.net, le.Layer, u, s, 0); err != nil {
					t.Fatal(err)
				}
				if s.OutJitter > 0 {
					// Uneven shares that still sum to the original column.
					a, _ := f.net.OutgoingColumn(le.Layer, u)
					b, _ := f.net.OutgoingColumn(le.Layer, n)
					uneven := false
					for i := range before {
						if d := math.Abs(float64(a[i] + b[i] - before[i])); d > 1e-5 {
							t.Fatalf("%s layer %d: jittered shares sum to %v, not %v", c.name, le.Layer, a[i]+b[i], before[i])
						}
						uneven = uneven || math.Abs(float64(a[i]-b[i])) > 1e-3*math.Abs(float64(before[i]))
					}
					if !uneven {
						t.Fatalf("%s layer %d: jittered split shared its outgoing weights evenly", c.name, le.Layer)
					}
				}
				got := f.net.Forward(x, false)
				for i := range want.Data {
					if d := math.Abs(float64(got.Data[i] - want.Data[i])); d > 1e-5 {
						t.Fatalf("%s layer %d %s: output changed by %g", c.name, le.Layer, s.Name, d)
					}
				}
			}
		}
	}
}

// TestSolversAgree: Lanczos matches the dense reference to 1e-6 relative
// on real splitting matrices; Rayleigh ranks neurons alike.
func TestSolversAgree(t *testing.T) {
	f := newFixture(t, "mlp:12", "softplus", []int{6}, 11)
	dense, err := Spectra(context.Background(), f.env(), Options{Solver: "dense"})
	if err != nil {
		t.Fatal(err)
	}
	lz, err := Spectra(context.Background(), f.env(), Options{Solver: "lanczos"})
	if err != nil {
		t.Fatal(err)
	}
	ry, err := Spectra(context.Background(), f.env(), Options{Solver: "rayleigh", RayleighEpochs: 200})
	if err != nil {
		t.Fatal(err)
	}
	for k := range dense {
		var scale float64
		for _, e := range dense[k].Eigen {
			scale = math.Max(scale, math.Max(math.Abs(e.LambdaMin), math.Abs(e.LambdaMax)))
		}
		var a, b []float64
		for i, e := range dense[k].Eigen {
			l := lz[k].Eigen[i]
			if math.Abs(l.LambdaMin-e.LambdaMin) > 1e-6*scale || math.Abs(l.LambdaMax-e.LambdaMax) > 1e-6*scale {
				t.Errorf("neuron %d: lanczos (%g, %g) vs dense (%g, %g)", i, l.LambdaMin, l.LambdaMax, e.LambdaMin, e.LambdaMax)
			}
			a = append(a, e.LambdaMin)
			b = append(b, ry[k].Eigen[i].LambdaMin)
		}
		if rho := spearman(a, b); rho < 0.9 {
			t.Errorf("rayleigh vs dense rank correlation %.3f < 0.9", rho)
		}
	}
}

func spearman(a, b []float64) float64 {
	rank := func(x []float64) []float64 {
		r := make([]float64, len(x))
		for i := range x {
			for j := range x {
				if x[j] < x[i] {
					r[i]++
				}
			}
		}
		return r
	}
	ra, rb := rank(a), rank(b)
	var d float64
	for i := range ra {
		d += (ra[i] - rb[i]) * (ra[i] - rb[i])
	}
	n := float64(len(a))
	return 1 - 6*d/(n*(n*n-1))
}

// TestBatchedLanczos covers the matrix-free path (K > 256): every neuron's
// λ_min and λ_max match the dense reference to 1e-6 of the spectral scale,
// and the run is reproducible.
func TestBatchedLanczos(t *testing.T) {
	st, a := batchedAgainstDense(t, "mlp:9", 300, 13)
	b, _ := Solve(context.Background(), st, SolverOptions{Solver: "lanczos", Seed: 1})
	for i := range a {
		if a[i].LambdaMin != b[i].LambdaMin || a[i].VMin[0] != b[i].VMin[0] {
			t.Errorf("neuron %d: not reproducible", i)
		}
	}
}

// batchedAgainstDense collects the statistics of a one-hidden-layer model
// on examples of the given size, checks that they take the matrix-free
// path, and checks every neuron's batched-Lanczos λ_min and λ_max against
// the dense solver to 1e-6 of the spectral scale.
func batchedAgainstDense(t *testing.T, model string, size int, seed uint64) (*LayerStats, []Eigen) {
	t.Helper()
	f := newFixture(t, model, "softplus", []int{size}, seed)
	stats, _, err := Collect(context.Background(), f.net, f.b, f.steps, f.net.Growable())
	if err != nil {
		t.Fatal(err)
	}
	st := stats[0]
	if st.FormCheaper() {
		t.Fatal("fixture should take the matrix-free path")
	}
	dense, err := Solve(context.Background(), st, SolverOptions{Solver: "dense"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := Solve(context.Background(), st, SolverOptions{Solver: "lanczos", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var scale float64
	for _, e := range dense {
		scale = math.Max(scale, math.Max(math.Abs(e.LambdaMin), math.Abs(e.LambdaMax)))
	}
	for i, e := range dense {
		if math.Abs(a[i].LambdaMin-e.LambdaMin) > 1e-6*scale || math.Abs(a[i].LambdaMax-e.LambdaMax) > 1e-6*scale {
			t.Errorf("neuron %d: batched (%g, %g) vs dense (%g, %g)", i, a[i].LambdaMin, a[i].LambdaMax, e.LambdaMin, e.LambdaMax)
		}
	}
	return st, a
}

// explicitRows is st with a convolution's rows expanded into P, the layout
// the statistics used to keep: the reference for the streamed products.
func explicitRows(st *LayerStats) *LayerStats {
	e := *st
	e.P = make([]float32, 0, st.M*st.K)
	pos := st.pos()
	var buf []float32
	for j := 0; j < st.M/pos; j++ {
		var blk rowBlock
		blk, buf = st.block(0, st.M, 0, j, buf)
		for r := 0; r < blk.n; r++ {
			for k := 0; k < st.K; k++ {
				e.P = append(e.P, blk.at(r, k, st.K))
			}
		}
	}
	e.X, e.Pos = nil, 1
	return &e
}

// The convolution statistics rebuilt example by example give the
// matrices, products and spectra of the explicit rows: formed matrices to
// rounding, batched Lanczos (K = 108 > 96) to 1e-6 of the spectral scale,
// reproducibly and for any thread count.
func TestConvStatsStreamed(t *testing.T) {
	defer tensor.SetThreads(tensor.Threads())
	f := newFixture(t, "cnn:c12,c5,p", "softplus", []int{2, 7, 7}, 17)
	defer func(m int) { explicitRowsMax = m }(explicitRowsMax)
	explicitRowsMax = 0 // these layers are small: keep their inputs all the same
	stats, _, err := Collect(context.Background(), f.net, f.b, f.steps, f.net.Growable())
	if err != nil {
		t.Fatal(err)
	}
	streamForm = false
	kept, _, err := Collect(context.Background(), f.net, f.b, f.steps, f.net.Growable())
	streamForm = true
	if err != nil {
		t.Fatal(err)
	}
	// The first layer (K = 18, 1568 rows per batch) is formed batch by
	// batch; the second (K = 108) keeps its inputs.
	if stats[0].BatchS == nil || stats[0].X != nil || stats[0].C != nil || stats[1].BatchS != nil {
		t.Fatal("layer 0 not formed per batch, or layer 1 formed")
	}
	for k, st := range stats {
		if kept[k].X == nil || kept[k].P != nil || kept[k].Pos != 49 || st.Pos != 49 {
			t.Fatalf("layer %d: conv statistics not kept as inputs (Pos %d)", st.Layer, st.Pos)
		}
		ref := explicitRows(kept[k])
		got, want := st.DenseMatrices(), ref.DenseMatrices()
		for i := range got {
			for k := range got[i] {
				if d := math.Abs(got[i][k] - want[i][k]); d > 1e-5*(1+math.Abs(want[i][k])) {
					t.Fatalf("layer %d neuron %d entry %d: %g vs %g", st.Layer, i, k, got[i][k], want[i][k])
				}
			}
		}
		v := make([]float64, st.K)
		for k := range v {
			v[k] = math.Sin(float64(k))
		}
		if a, b := st.Quad(1, v), ref.Quad(1, v); math.Abs(a-b) > 1e-6*(1+math.Abs(b)) {
			t.Errorf("layer %d: quadratic form %g vs %g", st.Layer, a, b)
		}
		// Per-batch products (the Rayleigh solver's) agree too.
		sa, sb := make([]float64, st.K), make([]float64, st.K)
		st.BatchOp(2, 1).MulVec(sa, v)
		ref.BatchOp(2, 1).MulVec(sb, v)
		for j := range sa {
			if math.Abs(sa[j]-sb[j]) > 1e-5*(1+math.Abs(sb[j])) {
				t.Fatalf("layer %d: batch product entry %d: %g vs %g", st.Layer, j, sa[j], sb[j])
			}
		}
	}
	// Small layers' rows are stored explicitly instead, the same rows.
	explicitRowsMax = 1 << 21
	small := *kept[1]
	small.expandSmall()
	if small.X != nil || !slices.Equal(small.P, explicitRows(kept[1]).P) {
		t.Error("expanded rows differ from the rebuilt ones")
	}
	st := stats[1]
	if st.FormCheaper() {
		t.Fatal("second layer should take the matrix-free path")
	}
	dense, err := Solve(context.Background(), explicitRows(st), SolverOptions{Solver: "dense"})
	if err != nil {
		t.Fatal(err)
	}
	var first []Eigen
	for _, th := range []int{1, 2, 3} {
		tensor.SetThreads(th)
		lz, err := Solve(context.Background(), st, SolverOptions{Solver: "lanczos", Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		var scale float64
		for _, e := range dense {
			scale = math.Max(scale, math.Max(math.Abs(e.LambdaMin), math.Abs(e.LambdaMax)))
		}
		for i, e := range dense {
			if math.Abs(lz[i].LambdaMin-e.LambdaMin) > 1e-6*scale || math.Abs(lz[i].LambdaMax-e.LambdaMax) > 1e-6*scale {
				t.Errorf("neuron %d: streamed lanczos (%g, %g) vs dense (%g, %g)", i, lz[i].LambdaMin, lz[i].LambdaMax, e.LambdaMin, e.LambdaMax)
			}
		}
		if first == nil {
			first = lz
			continue
		}
		for i := range lz {
			if lz[i].LambdaMin != first[i].LambdaMin || !slices.Equal(lz[i].VMin, first[i].VMin) {
				t.Errorf("%d threads: neuron %d differs from the single-thread run", th, i)
			}
		}
	}
}

// The growth step's approximate solves on a streamed convolution: λ_min
// alone to a looser tolerance stays within that tolerance of the dense
// λ_min; on a subsample of the examples, each logged λ is the exact
// Rayleigh quotient vᵀ S_i v of its vector over all rows (so λ_min bounds
// the dense one from above, λ_max from below). Both are bitwise the same
// for 1–3 threads, and the zero options are the exact solver.
func TestApproximateSolves(t *testing.T) {
	defer tensor.SetThreads(tensor.Threads())
	f := newFixture(t, "cnn:c12,c5,p", "softplus", []int{2, 7, 7}, 17)
	defer func(m int) { explicitRowsMax = m }(explicitRowsMax)
	explicitRowsMax = 0
	stats, _, err := Collect(context.Background(), f.net, f.b, f.steps, f.net.Growable())
	if err != nil {
		t.Fatal(err)
	}
	st := stats[1]
	dense, err := Solve(context.Background(), explicitRows(st), SolverOptions{Solver: "dense"})
	if err != nil {
		t.Fatal(err)
	}
	scale := make([]float64, len(dense))
	for i, e := range dense {
		scale[i] = math.Max(math.Abs(e.LambdaMin), math.Abs(e.LambdaMax))
	}
	opts := []SolverOptions{
		{Seed: 3, MinOnly: true, Tol: 1e-3},
		{Seed: 3, MinOnly: true, Tol: 1e-3, LooseTol: 1e-2},
		{Seed: 3, MinOnly: true, Tol: 1e-3, LooseTol: 1e-2, MaxIter: 10},
		{Seed: 3, MinOnly: true, Tol: 1e-3, Sample: 0.5},
	}
	for _, o := range opts {
		var first []Eigen
		for _, th := range []int{1, 2, 3} {
			tensor.SetThreads(th)
			got, err := Solve(context.Background(), st, o)
			if err != nil {
				t.Fatal(err)
			}
			for i, e := range dense {
				g := got[i]
				if g.LambdaMin < e.LambdaMin-1e-6*scale[i] || g.LambdaMax > e.LambdaMax+1e-6*scale[i] {
					t.Errorf("%+v neuron %d: (%g, %g) outside the dense spectrum (%g, %g)", o, i, g.LambdaMin, g.LambdaMax, e.LambdaMin, e.LambdaMax)
				}
				if o.Sample == 0 && g.LambdaMin-e.LambdaMin > 2*max(o.Tol, o.LooseTol)*scale[i] {
					t.Errorf("neuron %d: λ_min %g, dense %g: beyond the tolerance", i, g.LambdaMin, e.LambdaMin)
				}
				if o.Sample > 0 {
					if q := st.Quad(i, g.VMin); math.Abs(q-g.LambdaMin) > 1e-5*scale[i] {
						t.Errorf("neuron %d: λ_min %g is not v_minᵀ S v_min = %g", i, g.LambdaMin, q)
					}
					if q := st.Quad(i, g.VMax); math.Abs(q-g.LambdaMax) > 1e-5*scale[i] {
						t.Errorf("neuron %d: λ_max %g is not v_maxᵀ S v_max = %g", i, g.LambdaMax, q)
					}
				}
			}
			if first == nil {
				first = got
				continue
			}
			for i := range got {
				if got[i].LambdaMin != first[i].LambdaMin || got[i].LambdaMax != first[i].LambdaMax || !slices.Equal(got[i].VMin, first[i].VMin) {
					t.Errorf("%+v, %d threads: neuron %d differs from the single-thread run", o, th, i)
				}
			}
		}
	}
	// Sample 1 and the zero value are the exact solver.
	a, _ := Solve(context.Background(), st, SolverOptions{Seed: 3})
	b, _ := Solve(context.Background(), st, SolverOptions{Seed: 3, Sample: 1, Tol: batchedTol})
	for i := range a {
		if a[i].LambdaMin != b[i].LambdaMin || a[i].LambdaMax != b[i].LambdaMax {
			t.Errorf("neuron %d: Sample 1 differs from the exact solver", i)
		}
	}
}

// The float32 ReLU-surrogate coefficients and the pairwise forming
// (CollectWith's approximate options) give Collect's statistics to float32
// rounding (tensor.SoftplusD2Times' own tests cover its exponential).
func TestCollectApproximate(t *testing.T) {
	for _, act := range []string{"relu", "leakyrelu:0.2"} {
		f := newFixture(t, "cnn:c12,c5,p", act, []int{2, 7, 7}, 17)
		ex, _, err := Collect(context.Background(), f.net, f.b, f.steps, f.net.Growable())
		if err != nil {
			t.Fatal(err)
		}
		ap, _, err := CollectWith(context.Background(), f.net, f.b, f.steps, f.net.Growable(), CollectOptions{Pairs: true, Fast32: true})
		if err != nil {
			t.Fatal(err)
		}
		for k := range ex {
			a, b := ex[k], ap[k]
			if a.BatchS == nil && (b.CT == nil || b.C != nil) {
				t.Fatalf("%s layer %d: approximate coefficients not unit-major", act, a.Layer)
			}
			for m := range a.M {
				for i := range a.Units {
					if a.BatchS != nil {
						break // formed per batch, neither C nor CT kept
					}
					ca, cb := coef(a, m, i), coef(b, m, i)
					if d := math.Abs(float64(ca - cb)); d > 1e-6*math.Abs(float64(ca))+1e-30 {
						t.Fatalf("%s layer %d row %d neuron %d: %g vs %g", act, a.Layer, m, i, cb, ca)
					}
				}
			}
			ma, mb := a.DenseMatrices(), b.DenseMatrices()
			for i := range ma {
				for j := range ma[i] {
					if d := math.Abs(ma[i][j] - mb[i][j]); d > 1e-5*(1+math.Abs(ma[i][j])) {
						t.Fatalf("%s layer %d neuron %d entry %d: %g vs %g", act, a.Layer, i, j, mb[i][j], ma[i][j])
					}
				}
			}
		}
	}
	// Bitwise the same for any thread count.
	defer tensor.SetThreads(tensor.Threads())
	f := newFixture(t, "cnn:c12,c5,p", "relu", []int{2, 7, 7}, 17)
	var first []*LayerStats
	for _, th := range []int{1, 3} {
		tensor.SetThreads(th)
		st, _, err := CollectWith(context.Background(), f.net, f.b, f.steps, f.net.Growable(), CollectOptions{Pairs: true, Fast32: true})
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = st
			continue
		}
		for k := range st {
			if !slices.Equal(st[k].CT, first[k].CT) || len(st[k].BatchS) != len(first[k].BatchS) {
				t.Fatalf("layer %d: coefficients differ with %d threads", st[k].Layer, th)
			}
			for b := range st[k].BatchS {
				if !slices.Equal(st[k].BatchS[b], first[k].BatchS[b]) {
					t.Fatalf("layer %d batch %d: matrices differ with %d threads", st[k].Layer, b, th)
				}
			}
		}
	}
}

// With Exact the splitting methods' spectra are those of Collect and the
// exact solver (Solve with only a seed: both ends, tolerance 1e-4, every
// row), bitwise; without it they differ (the approximations are on).
func TestExactSpectra(t *testing.T) {
	defer func(m int) { explicitRowsMax = m }(explicitRowsMax)
	explicitRowsMax = 0 // the second layer takes the batched path
	f := newFixture(t, "cnn:c12,c5,p", "relu", []int{2, 7, 7}, 17)
	env := f.env()
	ref, _, err := Collect(context.Background(), f.net, f.b, f.steps, env.Layers)
	if err != nil {
		t.Fatal(err)
	}
	var want []Eigen
	for _, st := range ref {
		e, err := Solve(context.Background(), st, SolverOptions{Seed: env.Seed ^ uint64(env.Round)<<40})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, e...)
	}
	for _, exact := range []bool{true, false} {
		les, err := Spectra(context.Background(), env, Options{Exact: exact, Tol: 1e-2, Sample: 1, minOnly: !exact})
		if err != nil {
			t.Fatal(err)
		}
		var got []Eigen
		for _, le := range les {
			got = append(got, le.Eigen...)
		}
		same := len(got) == len(want)
		for i := range got {
			if !same {
				break
			}
			same = got[i].LambdaMin == want[i].LambdaMin && got[i].LambdaMax == want[i].LambdaMax && slices.Equal(got[i].VMin, want[i].VMin)
		}
		if same != exact {
			t.Errorf("exact %v: spectra equal to the exact solver's: %v", exact, same)
		}
	}
}
