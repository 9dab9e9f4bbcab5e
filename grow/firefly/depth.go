package firefly

import (
	"context"
	"fmt"
	"math"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/grow"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/tensor"
)

// Depth candidates: after the activation of every growable layer whose
// activation is ReLU, a new block initialised to the identity: a 3×3
// conv + BatchNorm + ReLU (conv nets) or a dense layer + ReLU. On a ReLU
// output (non-negative) identity + ReLU is the identity. The new
// BatchNorm gets the running statistics (m, v) of its input measured on
// the statistics batches and γ = √(v+ε), β = m, so it is the identity in
// evaluation mode and close to it in training mode (batch statistics ≈
// m, v); the block preserves the function. The trained perturbation Δ of
// the new layer's weights is what the gate scales.

// position is one insertion point.
type position struct {
	prod   nn.Producer // the growable layer the new layer follows
	act    nn.Layer    // its activation (the new layer goes right after)
	li     int         // producer's index in the base network
	w      int
	conv   bool
	shape  []int
	mean   []float64 // per-channel statistics of the block's input (conv)
	vari   []float64
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

// insertBlock builds the identity-initialised block for input shape in;
// its first layer is the new producer. For a conv block, mean and vari
// are the input's per-channel statistics (channels beyond them get 0, 1).
func insertBlock(in []int, act nn.Activation, mean, vari []float64) ([]nn.Layer, error) {
	if len(in) == 3 {
		c, err := nn.IdentityConv(in, 3)
		if err != nil {
			return nil, err
		}
		bn, err := nn.NewBatchNorm(in)
		if err != nil {
			return nil, err
		}
		for ch := 0; ch < in[0]; ch++ {
			m, v := 0.0, 1.0
			if ch < len(mean) {
				m, v = mean[ch], vari[ch]
			}
			bn.RunMean[ch], bn.RunVar[ch] = float32(m), float32(v)
			bn.Gamma.Data[ch] = float32(math.Sqrt(float64(float32(v)) + bn.Eps))
			bn.Beta.Data[ch] = float32(m)
		}
		return []nn.Layer{c, bn, nn.NewAct(act, in)}, nil
	}
	return []nn.Layer{nn.IdentityDense(in[0]), nn.NewAct(act, in)}, nil
}

// channelStats measures the per-channel mean and variance of layer at's
// output over the batches (evaluation mode).
func channelStats(net *nn.Net, at int, b *data.Batcher, steps []int) (mean, vari []float64) {
	var x *tensor.Tensor
	var s, ss []float64
	var n float64
	for _, st := range steps {
		x, _ = b.Batch(st, x, nil)
		net.Forward(x, false)
		o := net.Output(at)
		c := o.Shape[1]
		hw := o.Len() / (o.Shape[0] * c)
		if s == nil {
			s, ss = make([]float64, c), make([]float64, c)
		}
		for i := 0; i < o.Shape[0]; i++ {
			for ch := 0; ch < c; ch++ {
				for _, v := range o.Data[(i*c+ch)*hw : (i*c+ch+1)*hw] {
					s[ch] += float64(v)
					ss[ch] += float64(v) * float64(v)
				}
			}
		}
		n += float64(o.Shape[0] * hw)
	}
	mean, vari = make([]float64, len(s)), make([]float64, len(s))
	for ch := range s {
		mean[ch] = s[ch] / n
		vari[ch] = max(ss[ch]/n-mean[ch]*mean[ch], 0)
	}
	return mean, vari
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
// identity-initialised block at every insertion point; b and steps are
// the batches its BatchNorm statistics are measured on.
func NewDepth(net *nn.Net, b *data.Batcher, steps []int) (*Depth, error) {
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
		p := &position{prod: net.Layers[li].(nn.Producer), act: a, li: li, conv: len(shape) == 3,
			shape: shape, w: shape[0]}
		if p.conv {
			p.mean, p.vari = channelStats(net, at-1, b, steps)
		}
		ls, err := insertBlock(shape, a.A, p.mean, p.vari)
		if err != nil {
			return nil, err
		}
		if err := d.clone.InsertLayers(at, ls...); err != nil {
			return nil, err
		}
		l := ls[0]
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

// Candidates turns the positions into grow.Candidates priced at their
// full cost under the engine's cost model (Cost): knapsack selection then
// weighs a whole layer against the neurons its cost would buy (score per
// cost), and a final budget counts it in full. Under the ratio rule, whose
// budget counts edits of one unit, a layer counts as one edit and competes
// on its gate derivative. Only the maxLayers best positions are proposed.
func (d *Depth) Candidates(env *grow.Env, maxLayers int, sel *selection) ([]grow.Candidate, error) {
	net := d.base
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
		ls, err := insertBlock(p.shape, p.act.(*nn.Act).A, p.mean, p.vari)
		if err != nil {
			return nil, err
		}
		if err := tmp.InsertLayers(actAt+1, ls...); err != nil {
			return nil, err
		}
		after, err := env.Cost.Total(tmp)
		if err != nil {
			return nil, err
		}
		cost := max(after-total, 1e-9)
		raw := p.score
		out = append(out, grow.Candidate{Layer: p.li, Unit: 1 << 30, Kind: KindLayer, Score: raw, Added: 1, Cost: cost,
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
	ls, err := insertBlock(shape, p.act.(*nn.Act).A, p.mean, p.vari)
	if err != nil {
		return err
	}
	l := ls[0]
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
	origin := fmt.Sprintf("inserted by firefly in round %d", s.c.round)
	switch x := l.(type) {
	case *nn.Conv2D:
		x.Origin = origin
	case *nn.Dense:
		x.Origin = origin
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
	return net.InsertLayers(at, ls...)
}
