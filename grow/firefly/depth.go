package firefly

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/grow"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/tensor"
)

// Depth candidates: after the activation of every growable layer whose
// activation is ReLU, a new layer (3×3 conv or dense) + ReLU initialised to
// the identity. On a ReLU output (non-negative) identity + ReLU is the
// identity, so the insertion preserves the function exactly; the trained
// perturbation Δ of the new layer's weights is what the gate scales. The
// new conv has no BatchNorm (a BatchNorm in evaluation mode would rescale
// by 1/√(1+ε)), so the block is function-preserving by construction.

// position is one insertion point.
type position struct {
	prod   nn.Producer // the growable layer the new layer follows
	act    nn.Layer    // its activation (the new layer goes right after)
	li     int         // producer's index in the base network
	w      int
	conv   bool
	shape  []int
	delta  *block // w×fan (+ w bias for dense)
	fan    int
	cl     int // new layer's index in the depth clone
	score  float64
	layerW *nn.Param // the new layer's weight in the clone
	layerB *nn.Param
}

// Depth is the depth-candidate network of one growth step.
type Depth struct {
	base  *nn.Net
	clone *nn.Net
	pos   []*position
	steps int
}

// insertBlock builds the identity-initialised layer (+ ReLU) for input
// shape in.
func insertBlock(in []int, act nn.Activation) (nn.Layer, nn.Layer, error) {
	if len(in) == 3 {
		c, err := nn.IdentityConv(in, 3)
		if err != nil {
			return nil, nil, err
		}
		return c, nn.NewAct(act, in), nil
	}
	return nn.IdentityDense(in[0]), nn.NewAct(act, in), nil
}

// Positions lists the depth insertion points of net: (producer index,
// index the new layer is inserted at).
func Positions(net *nn.Net) [][2]int {
	var out [][2]int
	for _, li := range net.Growable() {
		ch, err := net.Chain(li)
		if err != nil {
			continue
		}
		for _, f := range ch.Followers {
			if a, ok := net.Layers[f].(*nn.Act); ok {
				if a.A.Kind == nn.ReLU {
					out = append(out, [2]int{li, f + 1})
				}
				break
			}
		}
	}
	return out
}

// NewDepth builds the depth-candidate network of net with one
// identity-initialised layer at every insertion point.
func NewDepth(net *nn.Net, r *rand.Rand) (*Depth, error) {
	snap, err := net.MarshalBinary()
	if err != nil {
		return nil, err
	}
	d := &Depth{base: net}
	if d.clone, err = nn.UnmarshalNet(snap); err != nil {
		return nil, err
	}
	ps := Positions(net)
	for k := len(ps) - 1; k >= 0; k-- {
		li, at := ps[k][0], ps[k][1]
		shape := net.Layers[li].OutShape()
		a := net.Layers[at-1].(*nn.Act)
		l, act, err := insertBlock(shape, a.A)
		if err != nil {
			return nil, err
		}
		if err := d.clone.InsertLayers(at, l, act); err != nil {
			return nil, err
		}
		p := &position{prod: net.Layers[li].(nn.Producer), act: a, li: li, conv: len(shape) == 3,
			shape: shape, w: shape[0]}
		pr := l.(nn.Producer)
		p.layerW = pr.Weight()
		p.layerB = pr.BiasParam()
		p.fan = p.layerW.Cols
		n := p.w * p.fan
		if p.layerB != nil {
			n += p.w
		}
		p.delta = newBlock(n, 0.02/math.Sqrt(float64(p.fan)))
		d.pos = append([]*position{p}, d.pos...)
	}
	for _, p := range d.pos {
		for i, l := range d.clone.Layers {
			if pr, ok := l.(nn.Producer); ok && pr.Weight() == p.layerW {
				p.cl = i
			}
		}
	}
	d.write()
	return d, nil
}

func (p *position) identity(i int) float64 {
	if !p.conv {
		if i/p.fan == i%p.fan {
			return 1
		}
		return 0
	}
	kk := p.fan / p.w
	r, c := i/p.fan, i%p.fan
	if c == r*kk+kk/2 {
		return 1
	}
	return 0
}

func (d *Depth) write() {
	for _, p := range d.pos {
		n := p.w * p.fan
		for i := 0; i < n; i++ {
			p.layerW.Data[i] = float32(p.identity(i) + p.delta.v[i])
		}
		if p.layerB != nil {
			for i := 0; i < p.w; i++ {
				p.layerB.Data[i] = float32(p.delta.v[n+i])
			}
		}
	}
}

func (d *Depth) lossGrad(x *tensor.Tensor, y []int) float64 {
	var ce nn.SoftmaxCE
	d.clone.ZeroGrad()
	loss := ce.Forward(d.clone.Forward(x, false), y)
	d.clone.Backward(ce.Backward())
	for _, p := range d.pos {
		n := p.w * p.fan
		for i := 0; i < n; i++ {
			p.delta.g[i] += float64(p.layerW.Grad[i])
		}
		if p.layerB != nil {
			for i := 0; i < p.w; i++ {
				p.delta.g[n+i] += float64(p.layerB.Grad[i])
			}
		}
	}
	return loss
}

// Train optimises every inserted layer's perturbation jointly; lr scales
// Adam's step relative to 1/√fan-in.
func (d *Depth) Train(ctx context.Context, b *data.Batcher, steps []int, lr float64, done func(float64)) error {
	var x *tensor.Tensor
	var y []int
	for _, p := range d.pos {
		p.delta.lr = lr / math.Sqrt(float64(p.fan))
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		x, y = b.Batch(s, x, y)
		for _, p := range d.pos {
			clear(p.delta.g)
		}
		loss := d.lossGrad(x, y)
		d.steps++
		for _, p := range d.pos {
			p.delta.adam(d.steps)
		}
		d.write()
		if done != nil {
			done(loss)
		}
	}
	return nil
}

// Score sets each position's gate derivative (mean over the batches) of
// the gate s in W = I + s·Δ.
func (d *Depth) Score(ctx context.Context, b *data.Batcher, steps []int, done func(float64)) error {
	var x *tensor.Tensor
	var y []int
	for _, p := range d.pos {
		clear(p.delta.g)
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		x, y = b.Batch(s, x, y)
		loss := d.lossGrad(x, y)
		if done != nil {
			done(loss)
		}
	}
	n := float64(max(1, len(steps)))
	for _, p := range d.pos {
		var s float64
		for i, v := range p.delta.v {
			s += v * p.delta.g[i]
		}
		p.score = s / n
	}
	return nil
}

// Clone is the depth-candidate network (every layer inserted, gates on).
func (d *Depth) Clone() *nn.Net { return d.clone }

// Scores are the positions' gate derivatives, in Positions order.
func (d *Depth) Scores() []float64 {
	out := make([]float64, len(d.pos))
	for i, p := range d.pos {
		out[i] = p.score
	}
	return out
}

// Candidates turns the positions into grow.Candidates that compete with
// the width candidates (which it rescales in place) on cost-normalised
// scores: every score becomes gate derivative ÷ cost × the mean cost of
// one unit, so a whole layer is weighed against the neurons its cost would
// buy. Only the maxLayers best positions are proposed. The width
// candidates must come from the same round (sel shared).
func (d *Depth) Candidates(env *grow.Env, width []grow.Candidate, maxLayers int, sel *selection) ([]grow.Candidate, error) {
	net := d.base
	unit := map[int]float64{}
	var ref float64
	for _, li := range net.Growable() {
		c, err := env.Cost.Neuron(net, li)
		if err != nil {
			return nil, err
		}
		unit[li] = c
		ref += c
	}
	ref /= float64(max(1, len(unit)))
	if ref <= 0 {
		ref = 1
	}
	for i := range width {
		if c := unit[width[i].Layer]; c > 0 {
			width[i].Score *= ref / c
		}
	}
	total, err := env.Cost.Total(net)
	if err != nil {
		return nil, err
	}
	var out []grow.Candidate
	for _, p := range d.pos {
		snap, err := net.MarshalBinary()
		if err != nil {
			return nil, err
		}
		tmp, err := nn.UnmarshalNet(snap)
		if err != nil {
			return nil, err
		}
		at := index(tmp, tmp.Layers[p.li].(nn.Producer))
		ch, _ := tmp.Chain(at)
		actAt := -1
		for _, f := range ch.Followers {
			if _, ok := tmp.Layers[f].(*nn.Act); ok {
				actAt = f
				break
			}
		}
		l, act, err := insertBlock(p.shape, p.act.(*nn.Act).A)
		if err != nil {
			return nil, err
		}
		if err := tmp.InsertLayers(actAt+1, l, act); err != nil {
			return nil, err
		}
		after, err := env.Cost.Total(tmp)
		if err != nil {
			return nil, err
		}
		cost := after - total
		if cost <= 0 {
			cost = ref
		}
		p := p
		s := p.score * ref / cost
		raw := p.score
		out = append(out, grow.Candidate{Layer: p.li, Unit: 1 << 30, Kind: KindLayer, Score: s, Added: p.w, Cost: cost,
			Apply:   func(net *nn.Net, eps float64) error { return sel.insert(net, p, eps) },
			Predict: func(eps float64) float64 { return eps * raw }})
	}
	// Keep the maxLayers most promising positions.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Score < out[j-1].Score; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	if len(out) > maxLayers {
		out = out[:maxLayers]
	}
	return out, nil
}

// insert applies depth candidate p to the grown network: the new layer
// after p's activation, as wide as the layer it follows is now; its
// weights are the identity plus ε·Δ on the units that existed when Δ was
// trained (a split twin reads its parent's row; inputs of split units
// carry half of Δ's column each, as outgoing weights do).
func (s *selection) insert(net *nn.Net, p *position, eps float64) error {
	if net != s.c.base {
		return fmt.Errorf("firefly: candidates of another network")
	}
	li := index(net, p.prod)
	at := -1
	for i, l := range net.Layers {
		if l == p.act {
			at = i + 1
		}
	}
	if li < 0 || at < 0 {
		return fmt.Errorf("firefly: insertion point after layer %d is gone", p.li)
	}
	shape := net.Layers[at-1].OutShape()
	l, act, err := insertBlock(shape, p.act.(*nn.Act).A)
	if err != nil {
		return err
	}
	var order []origin
	var split []bool
	for _, lc := range s.c.layers {
		if lc.prod == p.prod {
			order, split = s.order[lc], s.split[lc]
			s.frozen[lc] = true
		}
	}
	if order == nil {
		order = make([]origin, shape[0])
		for i := range order {
			order[i] = origin{0, i}
		}
		split = make([]bool, shape[0])
	}
	pr := l.(nn.Producer)
	W := pr.Weight()
	kk := W.Cols / shape[0]
	for r, ro := range order {
		if ro.kind == 2 {
			continue
		}
		for c, co := range order {
			if co.kind == 2 {
				continue
			}
			h := 1.0
			if split[co.idx] {
				h = 0.5
			}
			for t := 0; t < kk; t++ {
				W.Data[r*W.Cols+c*kk+t] += float32(eps * h * p.delta.v[ro.idx*p.fan+co.idx*kk+t])
			}
		}
		if B := pr.BiasParam(); B != nil {
			B.Data[r] = float32(eps * p.delta.v[p.w*p.fan+ro.idx])
		}
	}
	return net.InsertLayers(at, l, act)
}
