package split

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/nadir-ml/nadir/nn"
)

// Scheme is one way to split a neuron θ into off-springs θ + ε δ_j whose
// outgoing weights are w_j times the original's (Σ w_j = 1, Σ w_j δ_j = 0,
// so the network function is unchanged at ε = 0 and the first-order term
// vanishes). To second order the loss changes by (ε²/2)·Gain with
//
//	Gain = Σ_j w_j δ_jᵀ S δ_j.
type Scheme struct {
	Name    string
	Weights []float64
	Deltas  [][]float64 // unit vectors or nil (a clone)
	Gain    float64
	// OutJitter > 0 shares a two-copy split's outgoing weights unevenly:
	// for each outgoing weight c, the original keeps c·(w_0 − a) and the
	// copy gets c·(w_1 + a), a uniform in ±OutJitter·min(w_0, w_1) drawn
	// from JitterSeed. The sum is still c, so the function is unchanged
	// at ε = 0, but the two copies receive different gradients from the
	// first step on instead of staying near-duplicates.
	OutJitter  float64
	JitterSeed uint64
	// Balanced scales each off-spring's whole path by √w_j instead of its
	// outgoing weights by w_j (see balance.go): the same function, but
	// every parameter keeps its parent's gradient-to-value ratio. Schemes
	// with a negative weight, and chains through a non-homogeneous
	// activation, keep the outgoing-weight surgery.
	Balanced bool
}

// Added is the number of units the scheme adds to the layer.
func (s Scheme) Added() int { return len(s.Weights) - 1 }

// S2D is the positive two-copy split along v_min with weights (½, ½):
// Gain = λ_min (METHODS.md §1.2).
func S2D(e Eigen) Scheme {
	neg := make([]float64, len(e.VMin))
	for k, v := range e.VMin {
		neg[k] = -v
	}
	return Scheme{Name: "s2d", Weights: []float64{0.5, 0.5}, Deltas: [][]float64{e.VMin, neg}, Gain: e.LambdaMin}
}

// Signed returns the best signed split with total absolute weight at most
// c (S3D, METHODS.md §3.2): the better of the positive split and the
// three-copy schemes that use negative weights, so a neuron with
// λ_min ≥ 0 but λ_max > 0 — splitting-stable for S2D — can still lower the
// loss. The four-copy row of the table is not used: at most three
// off-springs are needed (the paper's claim).
func Signed(e Eigen, c float64) Scheme {
	best := S2D(e)
	if c <= 1 {
		return best
	}
	neg := func(v []float64) []float64 {
		out := make([]float64, len(v))
		for k, x := range v {
			out[k] = -x
		}
		return out
	}
	// Clone kept with weight (c+1)/2, two negative copies at ±v_max.
	if g := -(c - 1) / 2 * e.LambdaMax; g < best.Gain {
		best = Scheme{Name: "signed-max", Weights: []float64{(c + 1) / 2, -(c - 1) / 4, -(c - 1) / 4},
			Deltas: [][]float64{nil, e.VMax, neg(e.VMax)}, Gain: g}
	}
	// Two positive copies at ±v_min with weight (c+1)/4 each, one negative clone.
	if g := (c + 1) / 2 * e.LambdaMin; g < best.Gain {
		best = Scheme{Name: "signed-min", Weights: []float64{(c + 1) / 4, (c + 1) / 4, -(c - 1) / 2},
			Deltas: [][]float64{e.VMin, neg(e.VMin), nil}, Gain: g}
	}
	return best
}

// Apply performs the split of unit u of producer layer li with step eps:
// the original unit becomes θ + ε δ_0 with its outgoing weights scaled by
// w_0, and each further off-spring j is appended as θ + ε δ_j with
// outgoing weights w_j times the original ones and the original's
// downstream state (BatchNorm statistics, depthwise filter). With
// s.Balanced (where it applies) each off-spring's path is then scaled by
// √w_j on both sides of the unit instead.
func Apply(net *nn.Net, li, u int, s Scheme, eps float64) (err error) {
	if s.Balanced && balancedShares(net, li, s) {
		old := net.Layers[li].(nn.Producer).Units()
		defer func() {
			if err == nil {
				err = balance(net, li, u, old, s.Weights)
			}
		}()
	}
	p, ok := net.Layers[li].(nn.Producer)
	if !ok {
		return fmt.Errorf("layer %d has no neurons", li)
	}
	if len(s.Weights) < 2 || len(s.Weights) != len(s.Deltas) {
		return fmt.Errorf("scheme %s: %d weights for %d displacements", s.Name, len(s.Weights), len(s.Deltas))
	}
	var sum float64
	for _, w := range s.Weights {
		sum += w
	}
	if math.Abs(sum-1) > 1e-9 {
		return fmt.Errorf("scheme %s: weights sum to %v, not 1", s.Name, sum)
	}
	w, b := p.Weight(), p.BiasParam()
	fan := w.Cols
	k := fan
	if b != nil {
		k++
	}
	for _, d := range s.Deltas {
		if d != nil && len(d) != k {
			return fmt.Errorf("scheme %s: displacement of length %d, layer %d has %d", s.Name, len(d), li, k)
		}
	}
	col, err := net.OutgoingColumn(li, u)
	if err != nil {
		return err
	}
	theta := append([]float32(nil), w.Data[u*fan:(u+1)*fan]...)
	var bias float32
	if b != nil {
		bias = b.Data[u]
	}
	shifted := func(d []float64) ([]float32, float32) {
		in := append([]float32(nil), theta...)
		bb := bias
		if d != nil {
			for j := 0; j < fan; j++ {
				in[j] += float32(eps * d[j])
			}
			if b != nil {
				bb += float32(eps * d[fan])
			}
		}
		return in, bb
	}
	units := make([]nn.NewUnit, 0, len(s.Weights)-1)
	for j := 1; j < len(s.Weights); j++ {
		in, bb := shifted(s.Deltas[j])
		out := make([]float32, len(col))
		for t, v := range col {
			out[t] = float32(s.Weights[j]) * v
		}
		units = append(units, nn.NewUnit{In: in, Bias: bb, Like: u, Out: out})
	}
	if s.OutJitter > 0 && len(s.Weights) == 2 {
		r := rand.New(rand.NewPCG(s.JitterSeed, 0x1177e7))
		amp := s.OutJitter * math.Min(s.Weights[0], s.Weights[1])
		orig := make([]float32, len(col))
		for t, v := range col {
			a := amp * (2*r.Float64() - 1)
			orig[t] = float32(s.Weights[0]-a) * v
			units[0].Out[t] = float32(s.Weights[1]+a) * v
		}
		defer func() {
			if err == nil {
				err = setOutgoing(net, li, u, orig)
			}
		}()
	}
	if err := net.AddUnits(li, units); err != nil {
		return err
	}
	in0, b0 := shifted(s.Deltas[0])
	copy(w.Data[u*fan:(u+1)*fan], in0)
	if b != nil {
		b.Data[u] = b0
	}
	return net.ScaleOutgoing(li, u, float32(s.Weights[0]))
}

// balance rescales the off-springs of a split done with outgoing shares
// w_j (unit u, then the units appended from index old on) to the balanced
// parametrisation: path scaled by √w_j, outgoing weights divided by the
// factor the path's signal changed by, so their product is unchanged.
func balance(net *nn.Net, li, u, old int, weights []float64) error {
	for j, w := range weights {
		idx := u
		if j > 0 {
			idx = old + j - 1
		}
		sc, err := scaleUnit(net, li, idx, math.Sqrt(w))
		if err != nil {
			return err
		}
		if err := net.ScaleOutgoing(li, idx, float32(1/sc)); err != nil {
			return err
		}
		// The outgoing weights' gradient scales with the signal they see.
		if err := scaleOutgoingSlots(net, li, idx, sc); err != nil {
			return err
		}
	}
	return nil
}

// setOutgoing overwrites unit u's outgoing weights in its consumer (layout
// as Net.OutgoingColumn returns them).
func setOutgoing(net *nn.Net, li, u int, col []float32) error {
	info, err := net.Chain(li)
	if err != nil {
		return err
	}
	var w *nn.Param
	switch c := net.Layers[info.Consumer].(type) {
	case *nn.Dense:
		w = c.W
	case *nn.Conv2D:
		w = c.W
	default:
		return fmt.Errorf("layer %d: cannot set outgoing weights in a %T", li, c)
	}
	g := len(col) / w.Rows
	if g*w.Rows != len(col) || (u+1)*g > w.Cols {
		return fmt.Errorf("layer %d unit %d: outgoing column of %d values does not fit %dx%d", li, u, len(col), w.Rows, w.Cols)
	}
	for r := 0; r < w.Rows; r++ {
		copy(w.Data[r*w.Cols+u*g:r*w.Cols+(u+1)*g], col[r*g:(r+1)*g])
	}
	return nil
}
