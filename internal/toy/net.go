package toy

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/nadir-ml/nadir/grow/split"
	"github.com/nadir-ml/nadir/linalg"
	"gonum.org/v1/gonum/mat"
)

// Data is a regression set: N inputs of dimension In (row-major in X) and
// their targets Y.
type Data struct {
	In int
	X  []float64
	Y  []float64
}

// Len is the number of examples.
func (d *Data) Len() int { return len(d.Y) }

// Row returns example n's input.
func (d *Data) Row(n int) []float64 { return d.X[n*d.In : (n+1)*d.In] }

// Unit is one hidden neuron: incoming weights with the bias appended
// (θ = [w; b], so θᵀp = wᵀx + b with p = [x; 1]) and outgoing weight A.
type Unit struct {
	Theta []float64
	A     float64
}

// Net is the two-layer regression network
//
//	f(x) = Σ_i a_i σ(w_iᵀx + b_i) + c
//
// trained on L = ½·mean_n (f(x_n) − y_n)². It is tiny and float64 so the
// experiments can check second-order predictions to many digits.
type Net struct {
	In    int
	Act   Activation
	Units []Unit
	C     float64
}

// NewNet returns a network with width units whose incoming weights (and
// biases) are drawn from N(0, scale²) and outgoing weights from
// N(0, outScale²).
func NewNet(in, width int, act Activation, scale, outScale float64, r *rand.Rand) *Net {
	n := &Net{In: in, Act: act}
	for i := 0; i < width; i++ {
		th := make([]float64, in+1)
		for k := range th {
			th[k] = scale * r.NormFloat64()
		}
		n.Units = append(n.Units, Unit{Theta: th, A: outScale * r.NormFloat64()})
	}
	return n
}

// Clone returns a deep copy.
func (n *Net) Clone() *Net {
	m := &Net{In: n.In, Act: n.Act, C: n.C, Units: make([]Unit, len(n.Units))}
	for i, u := range n.Units {
		m.Units[i] = Unit{Theta: append([]float64(nil), u.Theta...), A: u.A}
	}
	return m
}

// Width is the number of hidden neurons.
func (n *Net) Width() int { return len(n.Units) }

// NumParams is the length of the flat parameter vector: per unit θ then a,
// then c.
func (n *Net) NumParams() int { return len(n.Units)*(n.In+2) + 1 }

// Params writes the flat parameter vector into dst (allocating if dst is
// too short) and returns it.
func (n *Net) Params(dst []float64) []float64 {
	if cap(dst) < n.NumParams() {
		dst = make([]float64, n.NumParams())
	}
	dst = dst[:n.NumParams()]
	k := 0
	for _, u := range n.Units {
		k += copy(dst[k:], u.Theta)
		dst[k] = u.A
		k++
	}
	dst[k] = n.C
	return dst
}

// SetParams reads the flat parameter vector (the layout of Params).
func (n *Net) SetParams(p []float64) {
	if len(p) != n.NumParams() {
		panic(fmt.Sprintf("toy: %d parameters for a net of %d", len(p), n.NumParams()))
	}
	k := 0
	for i := range n.Units {
		k += copy(n.Units[i].Theta, p[k:])
		n.Units[i].A = p[k]
		k++
	}
	n.C = p[k]
}

// Predict returns f(x).
func (n *Net) Predict(x []float64) float64 {
	f := n.C
	for _, u := range n.Units {
		f += u.A * n.Act.F(dotBias(u.Theta, x))
	}
	return f
}

// dotBias is θᵀ[x; 1].
func dotBias(th, x []float64) float64 {
	z := th[len(x)]
	for k, v := range x {
		z += th[k] * v
	}
	return z
}

// Residuals writes f(x_n) − y_n into dst (allocating if short) and returns
// it.
func (n *Net) Residuals(d *Data, dst []float64) []float64 {
	if cap(dst) < d.Len() {
		dst = make([]float64, d.Len())
	}
	dst = dst[:d.Len()]
	for j := range dst {
		dst[j] = n.Predict(d.Row(j)) - d.Y[j]
	}
	return dst
}

// Loss is ½·mean (f − y)².
func (n *Net) Loss(d *Data) float64 {
	var s float64
	for j := 0; j < d.Len(); j++ {
		r := n.Predict(d.Row(j)) - d.Y[j]
		s += r * r
	}
	return s / (2 * float64(d.Len()))
}

// Gradient writes ∂L/∂params (the layout of Params) into grad, which must
// have length NumParams, and returns L.
func (n *Net) Gradient(d *Data, grad []float64) float64 {
	if len(grad) != n.NumParams() {
		panic(fmt.Sprintf("toy: gradient of length %d for a net of %d", len(grad), n.NumParams()))
	}
	clear(grad)
	m, k := len(n.Units), n.In+2
	h := make([]float64, m)
	d1 := make([]float64, m)
	var loss float64
	for j := 0; j < d.Len(); j++ {
		x := d.Row(j)
		f := n.C
		for i, u := range n.Units {
			h[i], d1[i] = fd(n.Act, dotBias(u.Theta, x))
			f += u.A * h[i]
		}
		r := f - d.Y[j]
		loss += r * r
		for i, u := range n.Units {
			g := grad[i*k : (i+1)*k]
			c := r * u.A * d1[i]
			for t, v := range x {
				g[t] += c * v
			}
			g[n.In] += c
			g[n.In+1] += r * h[i]
		}
		grad[m*k] += r
	}
	inv := 1 / float64(d.Len())
	for t := range grad {
		grad[t] *= inv
	}
	return loss * inv / 2
}

// SplittingMatrices returns every neuron's splitting matrix
//
//	S_i = mean_n[ (f(x_n) − y_n)·a_i·σ''(z_in)·p_n p_nᵀ ],  p_n = [x_n; 1],
//
// row-major (In+1)×(In+1). It is E[g·∇²_θ σ] of METHODS.md §1.2 with
// g = ∂ℓ/∂σ_i = (f − y)·a_i for ℓ = ½(f − y)²: splitting neuron i into
// off-springs θ_i + ε δ_j with outgoing weights w_j a_i (Σ w_j = 1,
// Σ w_j δ_j = 0) changes the loss by (ε²/2)·Σ_j w_j δ_jᵀ S_i δ_j + O(ε³).
func (n *Net) SplittingMatrices(d *Data) [][]float64 {
	k := n.In + 1
	out := make([][]float64, len(n.Units))
	for i := range out {
		out[i] = make([]float64, k*k)
	}
	p := make([]float64, k)
	p[n.In] = 1
	res := n.Residuals(d, nil)
	for j, r := range res {
		copy(p, d.Row(j))
		for i, u := range n.Units {
			c := r * u.A * n.Act.D2(dotBias(u.Theta, p[:n.In]))
			s := out[i]
			for a := 0; a < k; a++ {
				ca := c * p[a]
				row := s[a*k : (a+1)*k]
				for b := a; b < k; b++ {
					row[b] += ca * p[b]
				}
			}
		}
	}
	inv := 1 / float64(d.Len())
	for _, s := range out {
		for a := 0; a < k; a++ {
			for b := a; b < k; b++ {
				s[a*k+b] *= inv
				s[b*k+a] = s[a*k+b]
			}
		}
	}
	return out
}

// Spectra returns both ends of every neuron's splitting spectrum by dense
// eigendecomposition (the matrices are (In+1)×(In+1), tiny).
func (n *Net) Spectra(d *Data) ([]split.Eigen, error) {
	mats := n.SplittingMatrices(d)
	out := make([]split.Eigen, len(mats))
	for i, s := range mats {
		ex, err := linalg.DenseExtremes(s, n.In+1)
		if err != nil {
			return nil, fmt.Errorf("neuron %d: %w", i, err)
		}
		out[i] = split.Eigen{LambdaMin: ex.Min, LambdaMax: ex.Max, VMin: ex.VMin, VMax: ex.VMax}
	}
	return out, nil
}

// Split replaces neuron i by the scheme's off-springs θ_i + ε δ_j with
// outgoing weights w_j·a_i: off-spring 0 takes neuron i's place, the others
// are appended in order. A nil displacement is a clone. At ε = 0 the
// function is unchanged.
func (n *Net) Split(i int, s split.Scheme, eps float64) error {
	if i < 0 || i >= len(n.Units) {
		return fmt.Errorf("neuron %d out of range [0,%d)", i, len(n.Units))
	}
	if len(s.Weights) < 2 || len(s.Weights) != len(s.Deltas) {
		return fmt.Errorf("scheme %s: %d weights for %d displacements", s.Name, len(s.Weights), len(s.Deltas))
	}
	var sum float64
	for j, w := range s.Weights {
		sum += w
		if d := s.Deltas[j]; d != nil && len(d) != n.In+1 {
			return fmt.Errorf("scheme %s: displacement of length %d, neurons have %d parameters", s.Name, len(d), n.In+1)
		}
	}
	if math.Abs(sum-1) > 1e-9 {
		return fmt.Errorf("scheme %s: weights sum to %v, not 1", s.Name, sum)
	}
	u := n.Units[i]
	off := make([]Unit, len(s.Weights))
	for j, w := range s.Weights {
		th := append([]float64(nil), u.Theta...)
		if d := s.Deltas[j]; d != nil {
			for t := range th {
				th[t] += eps * d[t]
			}
		}
		off[j] = Unit{Theta: th, A: w * u.A}
	}
	n.Units[i] = off[0]
	n.Units = append(n.Units, off[1:]...)
	return nil
}

// AddUnit appends a neuron with the given incoming weights and outgoing
// weight.
func (n *Net) AddUnit(theta []float64, a float64) error {
	if len(theta) != n.In+1 {
		return fmt.Errorf("new neuron has %d incoming parameters, want %d", len(theta), n.In+1)
	}
	n.Units = append(n.Units, Unit{Theta: append([]float64(nil), theta...), A: a})
	return nil
}

// errNotFinite reports a diverged run.
var errNotFinite = errors.New("loss is not finite (diverged: lower the learning rate)")

// Jacobian returns the N×NumParams matrix ∂f(x_n)/∂params (the layout of
// Params): the tangent space of the network's outputs on d.
func (n *Net) Jacobian(d *Data) *mat.Dense {
	k := n.In + 2
	j := mat.NewDense(d.Len(), n.NumParams(), nil)
	for r := 0; r < d.Len(); r++ {
		x := d.Row(r)
		row := j.RawRowView(r)
		for i, u := range n.Units {
			h, d1 := fd(n.Act, dotBias(u.Theta, x))
			c := u.A * d1
			for t, v := range x {
				row[i*k+t] = c * v
			}
			row[i*k+n.In] = c
			row[i*k+n.In+1] = h
		}
		row[len(row)-1] = 1
	}
	return j
}
