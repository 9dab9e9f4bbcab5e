package linalg

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// randSym returns a random symmetric n×n matrix with N(0,1) entries.
func randSym(n int, r *rand.Rand) []float64 {
	a := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			x := r.NormFloat64()
			a[i*n+j], a[j*n+i] = x, x
		}
	}
	return a
}

// randUnit returns a uniformly random unit vector.
func randUnit(n int, r *rand.Rand) []float64 {
	v := make([]float64, n)
	nrm := 0.0
	for i := range v {
		v[i] = r.NormFloat64()
		nrm += v[i] * v[i]
	}
	for i := range v {
		v[i] /= math.Sqrt(nrm)
	}
	return v
}

// randRankOne returns S = Σ c_s p_s p_sᵀ with m terms in dimension n, p ~ N(0,1)
// and signed coefficients, like a splitting matrix built from m samples.
// positive makes every coefficient positive.
func randRankOne(n, m int, positive bool, r *rand.Rand) RankOneSum {
	op := RankOneSum{N: n, Coeff: make([]float64, m), P: make([]float64, m*n)}
	for s := range op.Coeff {
		op.Coeff[s] = r.NormFloat64() / float64(m)
		if positive {
			op.Coeff[s] = math.Abs(op.Coeff[s])
		}
	}
	for i := range op.P {
		op.P[i] = r.NormFloat64()
	}
	return op
}

// spectrum returns all eigenvalues of the symmetric matrix a, ascending.
func spectrum(t *testing.T, a []float64, n int) []float64 {
	t.Helper()
	var es mat.EigenSym
	if !es.Factorize(mat.NewSymDense(n, append([]float64(nil), a...)), false) {
		t.Fatal("EigenSym failed")
	}
	return es.Values(nil)
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func norm(a []float64) float64 { return math.Sqrt(dot(a, a)) }

// residual returns ‖S v − λ v‖.
func residual(op Operator, lambda float64, v []float64) float64 {
	sv := make([]float64, len(v))
	op.MulVec(sv, v)
	for i := range sv {
		sv[i] -= lambda * v[i]
	}
	return norm(sv)
}

// checkAgainstDense compares a Lanczos result with the dense reference for
// the symmetric matrix a (len n·n), which is also what op represents.
func checkAgainstDense(t *testing.T, name string, op Operator, a []float64, n int, got Extremes) {
	t.Helper()
	want, err := DenseExtremes(a, n)
	if err != nil {
		t.Fatalf("%s: dense: %v", name, err)
	}
	vals := spectrum(t, a, n)
	snorm := max(math.Abs(vals[0]), math.Abs(vals[n-1]), 1e-300)
	if d := math.Abs(got.Min - want.Min); d > 1e-6*snorm {
		t.Errorf("%s: λmin = %.12g, dense %.12g (‖S‖ = %.3g)", name, got.Min, want.Min, snorm)
	}
	if d := math.Abs(got.Max - want.Max); d > 1e-6*snorm {
		t.Errorf("%s: λmax = %.12g, dense %.12g (‖S‖ = %.3g)", name, got.Max, want.Max, snorm)
	}
	for _, p := range []struct {
		end     string
		v       []float64
		lambda  float64
		dense   []float64
		gap     float64
		claimed float64
	}{
		{"min", got.VMin, got.Min, want.VMin, gapAt(vals, 0), got.ResMin},
		{"max", got.VMax, got.Max, want.VMax, gapAt(vals, n-1), got.ResMax},
	} {
		if d := math.Abs(norm(p.v) - 1); d > 1e-10 {
			t.Errorf("%s: ‖v%s‖ − 1 = %g", name, p.end, d)
		}
		if res := residual(op, p.lambda, p.v); res > 1e-7*snorm {
			t.Errorf("%s: true residual at %s = %g > 1e-7·‖S‖ (claimed %g)", name, p.end, res, p.claimed)
		}
		if p.gap > 1e-3*snorm {
			if d := math.Abs(dot(p.v, p.dense)); d < 1-1e-6 {
				t.Errorf("%s: |v%s·dense| = %.12f (gap %.3g)", name, p.end, d, p.gap)
			}
		}
	}
}

// gapAt returns the distance from eigenvalue j to its nearest neighbour.
func gapAt(vals []float64, j int) float64 {
	g := math.Inf(1)
	if j > 0 {
		g = vals[j] - vals[j-1]
	}
	if j < len(vals)-1 {
		g = min(g, vals[j+1]-vals[j])
	}
	return g
}

func TestDenseExtremesKnown(t *testing.T) {
	// diag(3, −1, 2): the eigenvectors are coordinate axes.
	e, err := DenseExtremes([]float64{3, 0, 0, 0, -1, 0, 0, 0, 2}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if e.Min != -1 || e.Max != 3 {
		t.Errorf("diag: got [%g, %g], want [-1, 3]", e.Min, e.Max)
	}
	if math.Abs(e.VMin[1]-1) > 1e-14 || math.Abs(e.VMax[0]-1) > 1e-14 {
		t.Errorf("diag: vectors %v %v, want e1, e0 (positive)", e.VMin, e.VMax)
	}

	// Rotated: A = R diag(d) Rᵀ with a random orthogonal R, so the
	// extremes are d's ends and R's columns.
	r := rand.New(rand.NewPCG(1, 2))
	n := 6
	var qr mat.QR
	qr.Factorize(mat.NewDense(n, n, randSym(n, r)))
	var rot mat.Dense
	qr.QTo(&rot)
	d := []float64{-2.5, -1, 0, 0.5, 1, 4}
	var a mat.Dense
	a.Mul(&rot, mat.NewDiagDense(n, d))
	a.Mul(&a, rot.T())
	e, err = DenseExtremes(a.RawMatrix().Data, n)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(e.Min+2.5) > 1e-12 || math.Abs(e.Max-4) > 1e-12 {
		t.Errorf("rotated: got [%g, %g], want [-2.5, 4]", e.Min, e.Max)
	}
	if c := math.Abs(dot(e.VMin, mat.Col(nil, 0, &rot))); c < 1-1e-12 {
		t.Errorf("rotated: |vmin·r0| = %v", c)
	}
	if c := math.Abs(dot(e.VMax, mat.Col(nil, n-1, &rot))); c < 1-1e-12 {
		t.Errorf("rotated: |vmax·r5| = %v", c)
	}

	// Non-symmetric input is symmetrised: [[0, 2], [0, 0]] → [[0, 1], [1, 0]].
	e, err = DenseExtremes([]float64{0, 2, 0, 0}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(e.Min+1) > 1e-14 || math.Abs(e.Max-1) > 1e-14 {
		t.Errorf("symmetrised: got [%g, %g], want [-1, 1]", e.Min, e.Max)
	}
}

func TestDenseExtremesErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		a    []float64
		n    int
	}{
		{"zero dimension", nil, 0},
		{"short data", []float64{1, 2, 3}, 2},
		{"NaN", []float64{1, math.NaN(), math.NaN(), 1}, 2},
		{"Inf", []float64{math.Inf(1), 0, 0, 1}, 2},
	} {
		if _, err := DenseExtremes(c.a, c.n); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func TestLanczosRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 7, 33, 100, 400} {
		a := randSym(n, r)
		op := Dense{N: n, Data: a}
		got, err := Lanczos(op, LanczosOptions{}, r)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if got.Iters > min(n, 300) {
			t.Errorf("n=%d: %d products, MaxIter %d", n, got.Iters, min(n, 300))
		}
		checkAgainstDense(t, fmt.Sprintf("random n=%d", n), op, a, n, got)
	}
}

func TestLanczosStructured(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	type problem struct {
		name string
		n    int
		a    []float64 // dense form
		op   Operator
	}
	var ps []problem

	// ±I plus rank-3 updates: n−3 equal eigenvalues (±1), distinct ends or
	// an end inside the cluster.
	for _, c := range []struct {
		sign  float64
		coeff []float64
	}{
		{1, []float64{2, -0.5, 0.3}},  // ends 0.5 and 3 simple
		{-1, []float64{3, 1, 0.5}},    // min −1 with multiplicity n−3
		{1, []float64{-3, -1, -0.25}}, // max 1 with multiplicity n−3
	} {
		n := 60
		op := RankOneSum{N: n, Coeff: c.coeff, P: make([]float64, 3*n)}
		var qr mat.QR
		qr.Factorize(mat.NewDense(n, 3, randSym(n, r)[:3*n]))
		var q mat.Dense
		qr.QTo(&q)
		for s := 0; s < 3; s++ {
			copy(op.P[s*n:], mat.Col(nil, s, &q))
		}
		a := op.Matrix()
		for i := 0; i < n; i++ {
			a[i*n+i] += c.sign
		}
		ps = append(ps, problem{fmt.Sprintf("%+g·I + rank 3 %v", c.sign, c.coeff), n, a, Dense{N: n, Data: a}})
	}

	// Low rank (m samples < n), indefinite and positive semidefinite, given
	// matrix-free as sums of rank-one terms.
	for _, c := range []struct {
		n, m     int
		positive bool
	}{{50, 1, false}, {50, 4, false}, {120, 40, false}, {120, 40, true}, {80, 200, false}} {
		op := randRankOne(c.n, c.m, c.positive, r)
		ps = append(ps, problem{fmt.Sprintf("rank-one sum n=%d m=%d positive=%v", c.n, c.m, c.positive), c.n, op.Matrix(), op})
	}

	// Zero matrix and a multiple of the identity: everything is degenerate.
	ps = append(ps, problem{"zero", 30, make([]float64, 900), Dense{N: 30, Data: make([]float64, 900)}})
	id := make([]float64, 400)
	for i := 0; i < 20; i++ {
		id[i*20+i] = -2
	}
	ps = append(ps, problem{"−2·I", 20, id, Dense{N: 20, Data: id}})

	for _, p := range ps {
		got, err := Lanczos(p.op, LanczosOptions{}, r)
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		checkAgainstDense(t, p.name, p.op, p.a, p.n, got)
	}
}

// TestLanczosLowRankIsCheap checks that an operator of rank m < n costs
// about m products, not n: the Krylov space becomes invariant and the
// iteration stops at the breakdown (plus the one restart).
func TestLanczosLowRankIsCheap(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	op := randRankOne(300, 5, false, r)
	got, err := Lanczos(op, LanczosOptions{}, r)
	if err != nil {
		t.Fatal(err)
	}
	if got.Iters > 5+3 {
		t.Errorf("rank 5 operator took %d products", got.Iters)
	}
	checkAgainstDense(t, "rank 5", op, op.Matrix(), 300, got)
}

// TestLanczosRestart starts Lanczos inside an invariant subspace that misses
// the largest eigenvalue: only the restart after the breakdown can find it.
func TestLanczosRestart(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	n := 50
	u := randUnit(n, r)
	// S = P (Σ c p pᵀ) P + 100 u uᵀ with P = I − u uᵀ: u is an eigenvector
	// with eigenvalue 100, every other eigenvalue is smaller.
	low := randRankOne(n, 3, false, r)
	for s := 0; s < 3; s++ {
		p := low.P[s*n : (s+1)*n]
		c := dot(p, u)
		for i := range p {
			p[i] -= c * u[i]
		}
	}
	op := RankOneSum{N: n, Coeff: append(low.Coeff, 100), P: append(low.P, u...)}
	// Start orthogonal to u: its Krylov space never contains u.
	start := randUnit(n, r)
	c := dot(start, u)
	for i := range start {
		start[i] -= c * u[i]
	}
	sn := norm(start)
	for i := range start {
		start[i] /= sn
	}
	got, err := lanczos(op, 1e-8, 1e-8, n, false, r, start)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.Max-100) > 1e-9 {
		t.Errorf("λmax = %v, want 100 (restart missed u)", got.Max)
	}
	if got.Iters > 10 {
		t.Errorf("took %d products for a rank-4 operator", got.Iters)
	}
	checkAgainstDense(t, "restart", op, op.Matrix(), n, got)
}

func TestLanczosNotConverged(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	n := 200
	a := randSym(n, r)
	got, err := Lanczos(Dense{N: n, Data: a}, LanczosOptions{MaxIter: 5}, r)
	if !errors.Is(err, ErrNotConverged) {
		t.Fatalf("err = %v, want ErrNotConverged", err)
	}
	if got.Iters != 5 {
		t.Errorf("Iters = %d, want 5", got.Iters)
	}
	// Ritz values interlace: they lie inside the spectrum.
	vals := spectrum(t, a, n)
	if got.Min < vals[0]-1e-10 || got.Max > vals[n-1]+1e-10 || got.Min > got.Max {
		t.Errorf("Ritz values [%g, %g] outside spectrum [%g, %g]", got.Min, got.Max, vals[0], vals[n-1])
	}
	if len(got.VMin) != n || len(got.VMax) != n {
		t.Errorf("best estimates missing: %d, %d", len(got.VMin), len(got.VMax))
	}
}

func TestLanczosErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	op := Dense{N: 2, Data: []float64{1, 0, 0, 1}}
	for _, c := range []struct {
		name string
		op   Operator
		opts LanczosOptions
	}{
		{"negative tolerance", op, LanczosOptions{Tol: -1}},
		{"NaN tolerance", op, LanczosOptions{Tol: math.NaN()}},
		{"negative MaxIter", op, LanczosOptions{MaxIter: -3}},
		{"zero dimension", Dense{}, LanczosOptions{}},
		{"NaN operator", Dense{N: 2, Data: []float64{math.NaN(), 0, 0, 1}}, LanczosOptions{}},
	} {
		if _, err := Lanczos(c.op, c.opts, r); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// TestLanczosTolerance checks that a looser tolerance stops earlier and still
// meets its own residual bound.
func TestLanczosTolerance(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	n := 300
	a := randSym(n, r)
	op := Dense{N: n, Data: a}
	tight, err := Lanczos(op, LanczosOptions{Tol: 1e-10}, r)
	if err != nil {
		t.Fatal(err)
	}
	loose, err := Lanczos(op, LanczosOptions{Tol: 1e-3}, r)
	if err != nil {
		t.Fatal(err)
	}
	if loose.Iters >= tight.Iters {
		t.Errorf("Tol 1e-3 took %d products, Tol 1e-10 took %d", loose.Iters, tight.Iters)
	}
	scale := max(math.Abs(tight.Min), math.Abs(tight.Max))
	if res := residual(op, loose.Min, loose.VMin); res > 2e-3*scale {
		t.Errorf("loose residual %g > Tol·‖S‖ = %g", res, 1e-3*scale)
	}
}

// TestLanczosMinOnly: with λ_min well separated and λ_max not, stopping on
// the smallest pair alone takes fewer products and still meets the
// tolerance on it; the largest pair is then an estimate from below.
func TestLanczosMinOnly(t *testing.T) {
	n := 200
	a := make([]float64, n*n)
	a[0] = -3
	for i := 1; i < n; i++ {
		a[i*n+i] = float64(i-1) / float64(n-2) // 0 … 1, gaps 1/198 at the top
	}
	op := Dense{N: n, Data: a}
	both, err := Lanczos(op, LanczosOptions{Tol: 1e-6}, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	min, err := Lanczos(op, LanczosOptions{Tol: 1e-6, MinOnly: true}, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	if min.Iters >= both.Iters {
		t.Errorf("MinOnly took %d products, both ends %d", min.Iters, both.Iters)
	}
	if res := residual(op, min.Min, min.VMin); res > 2e-6*3 {
		t.Errorf("MinOnly residual %g > Tol·‖S‖", res)
	}
	if math.Abs(min.Min+3) > 1e-9 {
		t.Errorf("MinOnly λ_min %v, want -3", min.Min)
	}
	if min.Max > 1+1e-12 || min.Max < 0.5 {
		t.Errorf("MinOnly λ_max estimate %v, want a lower bound near 1", min.Max)
	}
}

// TestLanczosLooseTol: with MinOnly, LooseTol applies to a λ_min that is a
// clearly separated end of the spectrum (fewer products, the eigenvalue
// still close) but not to one near zero, which converges as with Tol alone.
func TestLanczosLooseTol(t *testing.T) {
	diag := func(lmin float64) Dense {
		n := 150
		a := make([]float64, n*n)
		a[0] = lmin
		for i := 1; i < n; i++ {
			a[i*n+i] = math.Pow(float64(i)/float64(n-1), 3) // a cluster near 0 … 1
		}
		return Dense{N: n, Data: a}
	}
	run := func(op Dense, loose float64) Extremes {
		e, err := Lanczos(op, LanczosOptions{Tol: 1e-6, MinOnly: true, LooseTol: loose}, rand.New(rand.NewPCG(5, 6)))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	sep := diag(-0.5)
	tight, loose := run(sep, 0), run(sep, 1e-2)
	if loose.Iters >= tight.Iters {
		t.Errorf("separated λ_min: LooseTol took %d products, Tol alone %d", loose.Iters, tight.Iters)
	}
	if math.Abs(loose.Min+0.5) > 1e-3 {
		t.Errorf("separated λ_min %v with LooseTol, want -0.5 to 1e-3", loose.Min)
	}
	near := diag(-1e-3)
	tight, loose = run(near, 0), run(near, 1e-2)
	if loose.Iters != tight.Iters || loose.Min != tight.Min {
		t.Errorf("λ_min near zero: LooseTol (%d products, %v) differs from Tol alone (%d, %v)", loose.Iters, loose.Min, tight.Iters, tight.Min)
	}
	if _, err := Lanczos(sep, LanczosOptions{LooseTol: -1}, rand.New(rand.NewPCG(5, 6))); err == nil {
		t.Error("negative LooseTol accepted")
	}
}

func TestTridiagAgainstEigenSym(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, k := range []int{1, 2, 3, 10, 57} {
		for trial := 0; trial < 4; trial++ {
			d := make([]float64, k)
			e := make([]float64, k-1)
			for i := range d {
				d[i] = r.NormFloat64()
			}
			for i := range e {
				e[i] = r.NormFloat64()
				if trial == 1 && i%3 == 0 {
					e[i] = 0 // block diagonal, as after a restart
				}
			}
			if trial == 2 {
				for i := range d {
					d[i] = 1 // repeated diagonal blocks → repeated eigenvalues
				}
				for i := range e {
					e[i] = float64(i % 2)
				}
			}
			sym := mat.NewSymDense(k, nil)
			for i := 0; i < k; i++ {
				sym.SetSym(i, i, d[i])
				if i < k-1 {
					sym.SetSym(i, i+1, e[i])
				}
			}
			want := spectrum(t, sym.RawSymmetric().Data, k)
			tr := tridiag{d: d, e: e}
			s := make([]float64, k)
			for _, j := range []int{0, k - 1} {
				theta := tr.eigval(j)
				if math.Abs(theta-want[j]) > 1e-13*max(1, math.Abs(want[k-1]), math.Abs(want[0])) {
					t.Errorf("k=%d trial %d: eigval(%d) = %.16g, EigenSym %.16g", k, trial, j, theta, want[j])
				}
				res := tr.eigvec(theta, s)
				if res > 1e-12 || math.Abs(norm(s)-1) > 1e-12 {
					t.Errorf("k=%d trial %d: eigvec(%d) residual %g, norm %g", k, trial, j, res, norm(s))
				}
				// Independent check of the returned residual.
				var ts mat.VecDense
				ts.MulVec(sym, mat.NewVecDense(k, s))
				ts.AddScaledVec(&ts, -theta, mat.NewVecDense(k, s))
				if got := mat.Norm(&ts, 2); math.Abs(got-res) > 1e-13 {
					t.Errorf("k=%d trial %d: reported residual %g, actual %g", k, trial, res, got)
				}
			}
		}
	}
}

func TestExtremesBatch(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	n := 25
	mats := make([][]float64, 9)
	for i := range mats {
		mats[i] = randRankOne(n, 10, false, r).Matrix()
	}
	dense, err := ExtremesBatch(mats, n, "dense", 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	lz1, err := ExtremesBatch(mats, n, "lanczos", 1, 42)
	if err != nil {
		t.Fatal(err)
	}
	lz4, err := ExtremesBatch(mats, n, "lanczos", 4, 42)
	if err != nil {
		t.Fatal(err)
	}
	for i := range mats {
		checkAgainstDense(t, fmt.Sprintf("batch %d", i), Dense{N: n, Data: mats[i]}, mats[i], n, lz1[i])
		if math.Abs(dense[i].Min-lz1[i].Min) > 1e-9 {
			t.Errorf("matrix %d: dense %g, lanczos %g", i, dense[i].Min, lz1[i].Min)
		}
		// Same seed, different thread counts: bit-identical.
		if lz1[i].Min != lz4[i].Min || lz1[i].Max != lz4[i].Max || lz1[i].Iters != lz4[i].Iters ||
			dot(lz1[i].VMin, lz1[i].VMin) != dot(lz4[i].VMin, lz4[i].VMin) || lz1[i].VMin[3] != lz4[i].VMin[3] {
			t.Errorf("matrix %d: result depends on thread count", i)
		}
	}

	if _, err := ExtremesBatch(mats, n, "qr", 1, 0); err == nil {
		t.Error("unknown method: no error")
	}
	if _, err := ExtremesBatch([][]float64{mats[0], mats[1][:10]}, n, "dense", 1, 0); err == nil {
		t.Error("short matrix: no error")
	}
	bad := append([]float64(nil), mats[2]...)
	bad[7] = math.Inf(-1)
	for _, method := range []string{"dense", "lanczos"} {
		if _, err := ExtremesBatch([][]float64{mats[0], bad}, n, method, 2, 0); err == nil {
			t.Errorf("%s: infinite entry: no error", method)
		}
	}
}

func TestRankOneSumMatchesMatrix(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	op := randRankOne(17, 6, false, r)
	a := op.Matrix()
	v := randUnit(17, r)
	got := make([]float64, 17)
	want := make([]float64, 17)
	op.MulVec(got, v)
	Dense{N: 17, Data: a}.MulVec(want, v)
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-13 {
			t.Fatalf("entry %d: matrix-free %g, dense %g", i, got[i], want[i])
		}
	}
	empty := RankOneSum{N: 3}
	empty.MulVec(got[:3], v[:3])
	if got[0] != 0 || got[1] != 0 || got[2] != 0 {
		t.Errorf("empty sum: %v", got[:3])
	}
}
