package linalg

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// gappedSym returns a random symmetric n×n matrix R diag(d) Rᵀ whose
// spectrum has clear gaps at both ends: λ_min = lo, λ_max = hi and the rest
// uniform in [−1, 1].
func gappedSym(n int, lo, hi float64, r *rand.Rand) []float64 {
	var qr mat.QR
	qr.Factorize(mat.NewDense(n, n, randSym(n, r)))
	var rot mat.Dense
	qr.QTo(&rot)
	d := make([]float64, n)
	d[0], d[n-1] = lo, hi
	for i := 1; i < n-1; i++ {
		d[i] = 2*r.Float64() - 1
	}
	var a mat.Dense
	a.Mul(&rot, mat.NewDiagDense(n, d))
	a.Mul(&a, rot.T())
	return a.RawMatrix().Data
}

// runRayleigh drives k independent vectors for steps steps on the matrices
// mats (one per vector), feeding S v plus N(0, noise²) per entry, and opens
// the window for the last window steps.
func runRayleigh(ray *Rayleigh, mats [][]float64, steps, window int, noise float64, r *rand.Rand) {
	n := ray.N()
	sv := make([]float64, n)
	for step := 0; step < steps; step++ {
		if step == steps-window {
			ray.StartWindow()
		}
		for i := range mats {
			Dense{N: n, Data: mats[i]}.MulVec(sv, ray.V(i))
			if noise > 0 {
				for j := range sv {
					sv[j] += noise * r.NormFloat64()
				}
			}
			ray.Step(i, sv)
		}
	}
}

func rq(a []float64, v []float64) float64 {
	sv := make([]float64, len(v))
	Dense{N: len(v), Data: a}.MulVec(sv, v)
	return dot(v, sv) / dot(v, v)
}

func TestRayleighExact(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	const n, k = 20, 4
	mats := make([][]float64, k)
	for i := range mats {
		mats[i] = gappedSym(n, -1.6-0.2*float64(i), 1.4+0.2*float64(i), r)
	}
	for _, maximize := range []bool{false, true} {
		ray := NewRayleigh(k, n, maximize, RayleighOptions{}, r)
		runRayleigh(ray, mats, 500, 100, 0, r)
		for i, a := range mats {
			want, err := DenseExtremes(a, n)
			if err != nil {
				t.Fatal(err)
			}
			lambda, vwant := want.Min, want.VMin
			if maximize {
				lambda, vwant = want.Max, want.VMax
			}
			// The current vector and the window estimate both converged.
			if got := rq(a, ray.V(i)); math.Abs(got-lambda) > 1e-3*math.Abs(lambda) {
				t.Errorf("maximize=%v vector %d: R(v) = %.6f, want %.6f", maximize, i, got, lambda)
			}
			est, v := ray.Estimate(i)
			if math.Abs(est-lambda) > 1e-3*math.Abs(lambda) {
				t.Errorf("maximize=%v vector %d: windowed λ = %.6f, want %.6f", maximize, i, est, lambda)
			}
			if c := math.Abs(dot(v, vwant)); c < 1-1e-4 {
				t.Errorf("maximize=%v vector %d: |v̂·v| = %.6f", maximize, i, c)
			}
			if math.Abs(norm(v)-1) > 1e-12 || math.Abs(norm(ray.V(i))-1) > 1e-12 {
				t.Errorf("maximize=%v vector %d: vectors not unit", maximize, i)
			}
			if ray.WindowLen(i) != 100 {
				t.Errorf("window holds %d steps, want 100", ray.WindowLen(i))
			}
		}
	}
}

// TestRayleighNoisy feeds S v plus zero-mean noise (about 10% of ‖S v‖ in
// norm): single R values are noisy, the window averages are not.
func TestRayleighNoisy(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	const n = 20
	a := gappedSym(n, -1.8, 1.5, r)
	want, err := DenseExtremes(a, n)
	if err != nil {
		t.Fatal(err)
	}
	noise := 0.1 * math.Abs(want.Min) / math.Sqrt(n)
	ray := NewRayleigh(1, n, false, RayleighOptions{}, r)
	runRayleigh(ray, [][]float64{a}, 1500, 500, noise, r)
	est, v := ray.Estimate(0)
	if d := math.Abs(est - want.Min); d > 1e-2*math.Abs(want.Min) {
		t.Errorf("windowed λ = %.5f, want %.5f", est, want.Min)
	}
	if d := math.Abs(rq(a, v) - want.Min); d > 3e-4*math.Abs(want.Min) {
		t.Errorf("R(averaged v) = %.7f, want %.7f", rq(a, v), want.Min)
	}
}

// TestRayleighScaleFree runs the same problem at scales 1e-6 and 1e3: RMSprop
// normalises the gradient, so the iterates match while the gradient is
// large (near convergence rounding noise in the tiny gradient decides the
// jitter) and both runs converge equally fast.
func TestRayleighScaleFree(t *testing.T) {
	const n = 12
	base := gappedSym(n, -2, 1.5, rand.New(rand.NewPCG(25, 26)))
	var early [][]float64
	for _, scale := range []float64{1e-6, 1e3} {
		a := make([]float64, len(base))
		for i := range a {
			a[i] = scale * base[i]
		}
		ray := NewRayleigh(1, n, false, RayleighOptions{LR: 1e-3, Momentum: 0.9, Alpha: 0.9}, rand.New(rand.NewPCG(1, 1)))
		runRayleigh(ray, [][]float64{a}, 30, 1, 0, nil)
		early = append(early, append([]float64(nil), ray.V(0)...))
		runRayleigh(ray, [][]float64{a}, 300, 1, 0, nil)
		if got := rq(base, ray.V(0)); math.Abs(got+2) > 2e-3 {
			t.Errorf("scale %g: R(v)/scale = %v, want −2", scale, got)
		}
	}
	if c := dot(early[0], early[1]); c < 1-1e-12 {
		t.Errorf("iterates after 30 steps differ between scales: cos = %v", c)
	}
}

func TestRayleighEdgeCases(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 28))
	ray := NewRayleigh(2, 3, false, RayleighOptions{}, r)
	lambda, v := ray.Estimate(1)
	if !math.IsNaN(lambda) || len(v) != 3 || math.Abs(norm(v)-1) > 1e-12 {
		t.Errorf("before any step: λ = %v, v = %v", lambda, v)
	}
	if math.Abs(norm(ray.V(0))-1) > 1e-12 {
		t.Errorf("initial vector not normalised: %v", ray.V(0))
	}
	before := append([]float64(nil), ray.V(0)...)
	if got := ray.Step(0, []float64{1, math.NaN(), 0}); !math.IsNaN(got) {
		t.Errorf("NaN S v: got %v, want NaN", got)
	}
	for j := range before {
		if ray.V(0)[j] != before[j] {
			t.Fatalf("NaN S v changed the vector")
		}
	}
	if ray.WindowLen(0) != 0 {
		t.Errorf("NaN step entered the window")
	}
	// With an empty window Estimate reports the latest R.
	got := ray.Step(0, []float64{1, 2, 3})
	ray.StartWindow()
	if lambda, _ := ray.Estimate(0); lambda != got {
		t.Errorf("empty window: λ = %v, want latest R %v", lambda, got)
	}
	ray.SetLR(0.5)
	if ray.LR() != 0.5 {
		t.Errorf("LR = %v after SetLR(0.5)", ray.LR())
	}

	for _, o := range []RayleighOptions{
		{LR: -1, Momentum: 0.9, Alpha: 0.9},
		{LR: 1e-3, Momentum: 1, Alpha: 0.9},
		{LR: 1e-3, Momentum: 0.9, Alpha: -0.1},
		{LR: 1e-3, Momentum: 0.9, Alpha: 0.9, Eps: math.NaN()},
	} {
		if o.Validate() == nil {
			t.Errorf("%+v: Validate accepted it", o)
		}
	}
	if err := DefaultRayleighOptions().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("NewRayleigh with invalid options did not panic")
			}
		}()
		NewRayleigh(1, 3, false, RayleighOptions{LR: -1}, r)
	}()
}
