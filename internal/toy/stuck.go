package toy

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/nadir-ml/nadir/grow/split"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// StuckConfig configures RunStuck. DefaultStuckConfig holds the defaults
// the experiment's claims were checked with.
type StuckConfig struct {
	Act     string // activation (softplus: σ″ > 0 everywhere)
	Seed    uint64
	In      int // input dimension
	Teacher int // teacher width
	Student int // student width (smaller than the teacher, so the fit is imperfect)
	Points  int // training points, x ~ N(0, I)

	AdamSteps int     // Adam steps before polishing
	AdamLR    float64 // Adam learning rate
	PolishTol float64 // Newton polishing stops when the gradient 2-norm is below this
	PolishMax int     // Newton polishing step limit

	// Tol is the relative tolerance of "λ_min ≥ 0": a neuron counts as
	// splitting-stable when λ_min ≥ −Tol·Λ, Λ = the largest |λ| over all
	// neurons' spectra. It also bounds the Hessian's smallest eigenvalue
	// (relative to its largest) for "local minimum".
	Tol float64
	// SearchTries students are trained on teacher-student problems and
	// checked for splitting stability; if none is stable, ConstructTries
	// students (the same ones first) are made stable by construction.
	SearchTries    int
	ConstructTries int
	ConstructIters int     // ascent steps of the construction
	ResidualRMS    float64 // rms of the constructed residual
	Eps            float64 // split step of the signed splits
	SignedC        float64 // bound c on Σ|w_j|
	// AfterSteps Adam steps (then a polish) train the grown network on.
	AfterSteps int
}

// DefaultStuckConfig returns the defaults of `nadir experiment stuck`.
func DefaultStuckConfig() StuckConfig {
	return StuckConfig{
		Act: "softplus", Seed: 1, In: 2, Teacher: 4, Student: 2, Points: 200,
		AdamSteps: 3000, AdamLR: 0.01, PolishTol: 1e-10, PolishMax: 60,
		Tol: 1e-6, SearchTries: 10, ConstructTries: 20, ConstructIters: 1000, ResidualRMS: 0.1,
		Eps: 0.1, SignedC: 3, AfterSteps: 2000,
	}
}

func (c StuckConfig) validate() error {
	switch {
	case c.In < 1 || c.Teacher < 1 || c.Student < 1:
		return fmt.Errorf("dimensions in=%d teacher=%d student=%d: need at least 1 each", c.In, c.Teacher, c.Student)
	case c.Points < 2:
		return fmt.Errorf("points %d: need at least 2", c.Points)
	case c.SearchTries < 0 || c.ConstructTries < 0 || c.SearchTries+c.ConstructTries < 1:
		return fmt.Errorf("tries search=%d construct=%d: need non-negative counts, at least one try", c.SearchTries, c.ConstructTries)
	case c.AdamSteps < 0 || c.AfterSteps < 0 || c.PolishMax < 0 || c.ConstructIters < 0:
		return fmt.Errorf("step counts must be non-negative")
	case !(c.AdamLR > 0) || math.IsInf(c.AdamLR, 0):
		return fmt.Errorf("adam learning rate %v: must be positive and finite", c.AdamLR)
	case !(c.Tol >= 0) || !(c.PolishTol > 0):
		return fmt.Errorf("tolerances tol=%v polish-tol=%v: need tol ≥ 0, polish-tol > 0", c.Tol, c.PolishTol)
	case !(c.ResidualRMS > 0) || math.IsInf(c.ResidualRMS, 0):
		return fmt.Errorf("residual rms %v: must be positive and finite", c.ResidualRMS)
	case !(c.Eps > 0) || math.IsInf(c.Eps, 0):
		return fmt.Errorf("eps %v: must be positive and finite", c.Eps)
	case !(c.SignedC > 1) || math.IsInf(c.SignedC, 0):
		return fmt.Errorf("signed c %v: must be > 1 (c = 1 is S2D)", c.SignedC)
	}
	_, err := ParseActivation(c.Act)
	return err
}

// NeuronSpectrum is one neuron's splitting spectrum and signed scheme at
// the stuck state.
type NeuronSpectrum struct {
	LambdaMin float64 `json:"lambda_min"`
	LambdaMax float64 `json:"lambda_max"`
	Scheme    string  `json:"signed_scheme"`
	Gain      float64 `json:"signed_gain"`
}

// StuckResult is the outcome of RunStuck.
type StuckResult struct {
	// Construction is "seed-search" when a trained student was
	// splitting-stable as it stood, "constructed" when the targets were
	// built around a trained student to make it so.
	Construction string `json:"construction"`
	Tries        int    `json:"tries"`        // students trained in all
	SearchTries  int    `json:"search_tries"` // of which checked as trained
	// SearchConverged counts the searched students that reached the
	// gradient tolerance (the others drift along valleys that never end).
	SearchConverged int     `json:"search_converged"`
	Try             int     `json:"try"` // the student kept: PCG stream (Seed, Try), data (Seed, 1000+Try)
	ConstructMargin float64 `json:"construct_margin,omitempty"`

	GradNorm     float64          `json:"grad_norm"`       // gradient 2-norm at the stuck state
	HessianMin   float64          `json:"hessian_min_rel"` // smallest Hessian eigenvalue / largest
	Neurons      []NeuronSpectrum `json:"neurons"`
	MinLambdaMin float64          `json:"min_lambda_min"`
	MaxLambdaMax float64          `json:"max_lambda_max"`
	Tolerance    float64          `json:"tolerance"` // the absolute tolerance Tol·Λ used

	S2DSelected    int `json:"s2d_selected"`    // neurons with λ_min < −tolerance
	SignedSelected int `json:"signed_selected"` // neurons whose signed gain < −tolerance
	WidthBefore    int `json:"width_before"`
	WidthAfter     int `json:"width_after"`

	LossBefore      float64 `json:"loss_before"`
	LossAfterSigned float64 `json:"loss_after_signed"`
	PredictedChange float64 `json:"predicted_change"` // (ε²/2)·Σ gain
	MeasuredChange  float64 `json:"measured_change"`
	LossAfterTrain  float64 `json:"loss_after_training"`
	// LossControl is the unsplit network trained as long: it stays put.
	LossControl float64 `json:"loss_control_training"`
}

// teacherData draws a teacher-student regression set: a random teacher of
// width cfg.Teacher (weights N(0, 1)) on cfg.Points inputs x ~ N(0, I).
func teacherData(cfg StuckConfig, act Activation, r *rand.Rand) *Data {
	teacher := NewNet(cfg.In, cfg.Teacher, act, 1, 1, r)
	d := &Data{In: cfg.In, X: make([]float64, cfg.Points*cfg.In), Y: make([]float64, cfg.Points)}
	for t := range d.X {
		d.X[t] = r.NormFloat64()
	}
	for n := range d.Y {
		d.Y[n] = teacher.Predict(d.Row(n))
	}
	return d
}

// stableAt reports whether every λ_min ≥ −tol·Λ and returns that absolute
// tolerance.
func stableAt(sp []split.Eigen, tol float64) (bool, float64) {
	t := tol * spectralScale(sp)
	for _, e := range sp {
		if e.LambdaMin < -t {
			return false, t
		}
	}
	return true, t
}

// RunStuck shows S2D stalling where signed splitting does not (METHODS.md
// §3.3). Try t draws a teacher-student problem (data stream (Seed,
// 1000+t)) and a softplus student (stream (Seed, t)), trained by Adam and
// polished by damped Newton steps. The first SearchTries students are
// checked as trained: a converged one whose every λ_min ≥ −Tol·Λ is kept
// ("seed-search"). Such minima are rare — along a neuron's own weight
// direction stationarity all but forces the splitting curvature to zero,
// so λ_min sits just below or above 0 — so if none is found, the targets
// of trained students are rebuilt around them (constructStable) until one
// is stable ("constructed"). Then every neuron whose signed scheme
// (c = SignedC) has a negative gain is split, the measured loss change is
// compared with (ε²/2)·Σ gain, and the grown network trains on; the unsplit
// one, trained as long, is the control.
func RunStuck(ctx context.Context, cfg StuckConfig) (*StuckResult, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	act, _ := ParseActivation(cfg.Act)
	type trained struct {
		net  *Net
		data *Data
	}
	var cache []trained
	student := func(t int) (trained, error) {
		if t <= len(cache) {
			return cache[t-1], nil
		}
		data := teacherData(cfg, act, rand.New(rand.NewPCG(cfg.Seed, uint64(1000+t))))
		n := NewNet(cfg.In, cfg.Student, act, 1, 1, rand.New(rand.NewPCG(cfg.Seed, uint64(t))))
		if _, err := Train(ctx, n, data, &Adam{LR: cfg.AdamLR}, cfg.AdamSteps, nil); err != nil && ctx.Err() != nil {
			return trained{}, err
		}
		if _, _, err := Polish(n, data, cfg.PolishTol, cfg.PolishMax); err != nil && ctx.Err() != nil {
			return trained{}, err
		}
		cache = append(cache, trained{n, data})
		return cache[t-1], nil
	}
	res := &StuckResult{}
	var net *Net
	var data *Data
	for t := 1; t <= cfg.SearchTries && net == nil; t++ {
		s, err := student(t)
		if err != nil {
			return nil, err
		}
		res.SearchTries = t
		g := make([]float64, s.net.NumParams())
		if l := s.net.Gradient(s.data, g); math.IsNaN(l) || floats.Norm(g, 2) > cfg.PolishTol {
			continue
		}
		res.SearchConverged++
		sp, err := s.net.Spectra(s.data)
		if err != nil {
			return nil, err
		}
		if ok, _ := stableAt(sp, cfg.Tol); ok {
			net, data, res.Try, res.Construction = s.net.Clone(), s.data, t, "seed-search"
		}
	}
	for t := 1; t <= cfg.ConstructTries && net == nil; t++ {
		s, err := student(t)
		if err != nil {
			return nil, err
		}
		if l := s.net.Loss(s.data); math.IsNaN(l) || math.IsInf(l, 0) {
			continue
		}
		d, margin, err := constructStable(s.net, s.data, cfg.ResidualRMS, cfg.ConstructIters)
		if err != nil {
			continue
		}
		if margin >= -cfg.Tol {
			net, data, res.Try, res.Construction, res.ConstructMargin = s.net.Clone(), d, t, "constructed", margin
		}
	}
	res.Tries = len(cache)
	if net == nil {
		return res, fmt.Errorf("no splitting-stable minimum: %d students searched (%d converged, none stable), %d constructions failed", res.SearchTries, res.SearchConverged, cfg.ConstructTries)
	}
	spec, err := net.Spectra(data)
	if err != nil {
		return nil, err
	}
	_, res.Tolerance = stableAt(spec, cfg.Tol)
	g := make([]float64, net.NumParams())
	res.LossBefore = net.Gradient(data, g)
	res.GradNorm = floats.Norm(g, 2)
	var es mat.EigenSym
	if !es.Factorize(net.Hessian(data), false) {
		return nil, fmt.Errorf("eigendecomposition of the Hessian failed")
	}
	hv := es.Values(nil)
	res.HessianMin = hv[0] / math.Max(math.Abs(hv[len(hv)-1]), 1e-300)
	res.WidthBefore = net.Width()
	res.MinLambdaMin, res.MaxLambdaMax = math.Inf(1), math.Inf(-1)
	grown := net.Clone()
	for i, e := range spec {
		s := split.Signed(e, cfg.SignedC)
		res.Neurons = append(res.Neurons, NeuronSpectrum{LambdaMin: e.LambdaMin, LambdaMax: e.LambdaMax, Scheme: s.Name, Gain: s.Gain})
		res.MinLambdaMin = math.Min(res.MinLambdaMin, e.LambdaMin)
		res.MaxLambdaMax = math.Max(res.MaxLambdaMax, e.LambdaMax)
		if e.LambdaMin < -res.Tolerance {
			res.S2DSelected++
		}
		if s.Gain < -res.Tolerance {
			// Off-springs are appended, so index i still names neuron i.
			if err := grown.Split(i, s, cfg.Eps); err != nil {
				return nil, err
			}
			res.SignedSelected++
			res.PredictedChange += cfg.Eps * cfg.Eps / 2 * s.Gain
		}
	}
	res.WidthAfter = grown.Width()
	res.LossAfterSigned = grown.Loss(data)
	res.MeasuredChange = res.LossAfterSigned - res.LossBefore
	if res.LossAfterTrain, err = trainOn(ctx, grown, data, cfg); err != nil {
		return nil, fmt.Errorf("training the split network: %w", err)
	}
	if res.LossControl, err = trainOn(ctx, net.Clone(), data, cfg); err != nil {
		return nil, fmt.Errorf("training the unsplit network: %w", err)
	}
	return res, nil
}

// trainOn is the after-split training: AfterSteps of Adam (a tenth of the
// first learning rate, not to jump out of the basin), then a polish.
func trainOn(ctx context.Context, n *Net, d *Data, cfg StuckConfig) (float64, error) {
	if _, err := Train(ctx, n, d, &Adam{LR: cfg.AdamLR / 10}, cfg.AfterSteps, nil); err != nil {
		return 0, err
	}
	l, _, err := Polish(n, d, cfg.PolishTol, cfg.PolishMax)
	return l, err
}

// spectralScale is the largest |λ| over all neurons (1 if all vanish).
func spectralScale(sp []split.Eigen) float64 {
	var s float64
	for _, e := range sp {
		s = math.Max(s, math.Max(math.Abs(e.LambdaMin), math.Abs(e.LambdaMax)))
	}
	if s == 0 {
		return 1
	}
	return s
}

// constructStable returns targets for which net is an exact
// splitting-stable local minimum: y = f(x) − r with the residual r
// orthogonal to every tangent direction ∂f/∂params on the data — so the
// gradient Jᵀr/N vanishes — and chosen to maximise min_i λ_min(S_i(r)).
// S_i = a_i·mean(r σ″(z_i) p pᵀ) is linear in r and λ_min concave, so
// this is a concave maximisation over the unit ball of the tangent space's
// orthogonal complement; projected subgradient ascent solves it, started
// from the neurons' own curvature q_n = Σ_i sign(a_i)·σ″(z_in)·‖p_n‖²
// (for which each S_i would contain the positive definite
// |a_i|·mean(σ″(z_i)²‖p‖² p pᵀ) before the projection). The rms of r
// is rms. It also returns the attained min_i λ_min / max_i |λ|; when it is
// ≥ 0 the point is a genuine local minimum: at a stationary point the
// Hessian is the Gauss–Newton term plus blockdiag(S_i) (the residual
// term's θ–a blocks are mean(r σ' p) = ∂L/∂θ_i / a_i = 0), both ⪰ 0.
func constructStable(net *Net, d *Data, rms float64, iters int) (*Data, float64, error) {
	j := net.Jacobian(d)
	var svd mat.SVD
	if !svd.Factorize(j, mat.SVDThin) {
		return nil, 0, fmt.Errorf("SVD of the %d×%d Jacobian failed", d.Len(), net.NumParams())
	}
	s := svd.Values(nil)
	var u mat.Dense
	svd.UTo(&u)
	rank := 0
	for rank < len(s) && s[rank] > 1e-10*s[0] {
		rank++
	}
	tangent := u.Slice(0, d.Len(), 0, rank).(*mat.Dense)
	project := func(v []float64) {
		vv := mat.NewVecDense(len(v), v)
		var c mat.VecDense
		c.MulVec(tangent.T(), vv)
		var back mat.VecDense
		back.MulVec(tangent, &c)
		vv.SubVec(vv, &back)
	}
	N, k := d.Len(), net.In+1
	// Per example and neuron: p_n and a_i·σ″(z_in)/N.
	ps := make([][]float64, N)
	coef := make([][]float64, N)
	for n := range ps {
		ps[n] = append(append([]float64(nil), d.Row(n)...), 1)
		coef[n] = make([]float64, net.Width())
		for i, un := range net.Units {
			coef[n][i] = un.A * net.Act.D2(dotBias(un.Theta, d.Row(n))) / float64(N)
		}
	}
	// eig returns every eigenpair of every S_i(r), ascending per neuron.
	eig := func(r []float64) ([][]float64, []*mat.Dense, bool) {
		vals := make([][]float64, net.Width())
		vecs := make([]*mat.Dense, net.Width())
		m := mat.NewSymDense(k, nil)
		for i := range vals {
			for a := 0; a < k; a++ {
				for b := a; b < k; b++ {
					var s float64
					for n, rn := range r {
						s += rn * coef[n][i] * ps[n][a] * ps[n][b]
					}
					m.SetSym(a, b, s)
				}
			}
			var es mat.EigenSym
			if !es.Factorize(m, true) {
				return nil, nil, false
			}
			vals[i] = es.Values(nil)
			vecs[i] = new(mat.Dense)
			es.VectorsTo(vecs[i])
		}
		return vals, vecs, true
	}
	minLam := func(vals [][]float64) float64 {
		v := math.Inf(1)
		for _, l := range vals {
			v = math.Min(v, l[0])
		}
		return v
	}
	r := make([]float64, N)
	for n := range r {
		w := floats.Dot(ps[n], ps[n])
		for i, un := range net.Units {
			r[n] += math.Copysign(1, un.A) * coef[n][i] / math.Abs(un.A) * float64(N) * w
		}
	}
	project(r)
	if floats.Norm(r, 2) == 0 {
		return nil, 0, fmt.Errorf("the curvature residual lies in the tangent space")
	}
	floats.Scale(1/floats.Norm(r, 2), r)
	best := append([]float64(nil), r...)
	bestVal := math.Inf(-1)
	g := make([]float64, N)
	tv := make([]float64, k)
	for it := 0; it <= iters; it++ {
		vals, vecs, ok := eig(r)
		if !ok {
			return nil, 0, fmt.Errorf("eigendecomposition of a splitting matrix failed")
		}
		lo := minLam(vals)
		if lo > bestVal {
			bestVal = lo
			copy(best, r)
		}
		if it == iters {
			break
		}
		// Ascend the soft minimum −(1/β)·log Σ exp(−β λ) over all
		// eigenvalues of all S_i; β grows so it tends to min λ_min.
		scale := 0.0
		for _, l := range vals {
			scale = math.Max(scale, math.Max(math.Abs(l[0]), math.Abs(l[k-1])))
		}
		beta := (5 + 200*float64(it)/float64(iters)) / scale
		clear(g)
		var z float64
		for i, l := range vals {
			for e := range l {
				w := math.Exp(-beta * (l[e] - lo))
				z += w
				mat.Col(tv, e, vecs[i])
				for n := range g {
					t := floats.Dot(tv, ps[n])
					g[n] += w * coef[n][i] * t * t
				}
			}
		}
		floats.Scale(1/z, g)
		project(g)
		gn := floats.Norm(g, 2)
		if gn == 0 {
			break
		}
		floats.AddScaled(r, 0.3/math.Sqrt(float64(it+1))/gn, g)
		floats.Scale(1/floats.Norm(r, 2), r)
	}
	vals, _, ok := eig(best)
	if !ok {
		return nil, 0, fmt.Errorf("eigendecomposition of a splitting matrix failed")
	}
	scale := 0.0
	for _, l := range vals {
		scale = math.Max(scale, math.Max(math.Abs(l[0]), math.Abs(l[k-1])))
	}
	out := &Data{In: d.In, X: d.X, Y: make([]float64, N)}
	norm := math.Sqrt(floats.Dot(best, best) / float64(N))
	for n := range out.Y {
		out.Y[n] = net.Predict(d.Row(n)) - rms*best[n]/norm
	}
	return out, bestVal / scale, nil
}
