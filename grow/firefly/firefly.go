package firefly

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/grow"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/option"
	"github.com/nadir-ml/nadir/tensor"
)

// Options configure Firefly.
type Options struct {
	// SplitOnly drops the new-neuron candidates (method firefly-split).
	SplitOnly bool
	// NoSplit drops the split candidates (continual learning, where
	// existing neurons are frozen).
	NoSplit bool
	// Copies is the fraction of new-neuron candidates whose incoming
	// weights start as a copy of an existing neuron's (continual learning's
	// trainable copies of old neurons); the rest start at random.
	Copies float64
	// Candidates is K, the new-neuron candidates per growable layer; 0
	// gives DefaultCandidates(width).
	Candidates int
	// Steps is the number of mini-batches the candidates are trained for
	// (0: DefaultSteps).
	Steps int
	// LR is Adam's step relative to each layer's weight scale (0: 0.02).
	LR float64
	// Deeper adds layer-insertion candidates; MaxNewLayers caps the
	// layers inserted per round (0: 1).
	Deeper       bool
	MaxNewLayers int
}

// DefaultSteps is the default candidate training length in mini-batches:
// far below an epoch (the reference trains for a whole epoch).
const DefaultSteps = 20

// DefaultCandidates is the default K for a layer of width w: a quarter of
// the width, at least 2 (the reference uses 70 for every layer).
func DefaultCandidates(w int) int { return max(2, (w+3)/4) }

// Names lists the methods this package provides.
var Names = []string{"firefly", "firefly-split"}

// New returns the named method.
func New(name string, o Options) (*Method, error) {
	switch name {
	case "firefly":
	case "firefly-split":
		o.SplitOnly = true
	default:
		return nil, option.Errorf("method", name, "unknown (want firefly or firefly-split)")
	}
	if o.Candidates < 0 {
		return nil, option.Errorf("candidates", o.Candidates, "must be >= 0")
	}
	if o.Steps < 0 {
		return nil, option.Errorf("candidate_steps", o.Steps, "must be >= 0")
	}
	if o.MaxNewLayers < 0 {
		return nil, option.Errorf("max_new_layers", o.MaxNewLayers, "must be >= 0")
	}
	if o.LR < 0 || math.IsNaN(o.LR) {
		return nil, fmt.Errorf("candidate learning rate %v: must be >= 0", o.LR)
	}
	if o.Steps == 0 {
		o.Steps = DefaultSteps
	}
	if o.LR == 0 {
		o.LR = 0.02
	}
	if o.MaxNewLayers == 0 {
		o.MaxNewLayers = 1
	}
	return &Method{name: name, opts: o}, nil
}

// Method is Firefly descent as a grow.Method.
type Method struct {
	name string
	opts Options
}

func (m *Method) Name() string          { return m.name }
func (m *Method) DefaultSelect() string { return "ratio" }

// MeasureOnce tells the engine to measure the loss once after all of a
// round's edits: Firefly's candidates were trained and scored jointly, so
// the loss after each single edit says little, and measuring it would cost
// more than the candidate phase.
func (m *Method) MeasureOnce() bool { return true }

// Kinds of candidate, as logged.
const (
	KindSplit = "firefly-split"
	KindNew   = "firefly-new"
	KindLayer = "firefly-layer"
)

// Propose builds the candidate network, trains every candidate jointly,
// scores them by their gate derivatives and returns one grow.Candidate per
// existing neuron (split), per new neuron and, with Deeper, per insertion
// position.
func (m *Method) Propose(ctx context.Context, env *grow.Env) ([]grow.Candidate, error) {
	r := rand.New(rand.NewPCG(env.Seed^0xf1ef1, uint64(env.Round)))
	cs, err := NewCandidates(env.Net, m.opts, r)
	if err != nil {
		return nil, err
	}
	train, score := batches(env, m.opts.Steps)
	hooks := env.Hooks
	for _, h := range hooks {
		h.PhaseStart(fmt.Sprintf("round %d: firefly candidates", env.Round), len(train)+len(score))
	}
	done := 0
	step := func(loss float64) {
		done++
		for _, h := range hooks {
			h.StepDone(done, loss)
		}
	}
	if err := cs.Train(ctx, env.Stats, train, step); err != nil {
		return nil, err
	}
	if err := cs.Score(ctx, env.Stats, score, step); err != nil {
		return nil, err
	}
	cs.round = env.Round
	out := cs.Candidates()
	cs.clone = nil // surgery needs only the candidate parameters
	if m.opts.Deeper {
		ds, err := NewDepth(env.Net, env.Stats, score)
		if err != nil {
			return nil, err
		}
		if len(ds.pos) > 0 {
			if err := ds.Train(ctx, env.Stats, train, m.opts.LR, step); err != nil {
				return nil, err
			}
			if err := ds.Score(ctx, env.Stats, score, step); err != nil {
				return nil, err
			}
			dc, err := ds.Candidates(env, m.opts.MaxNewLayers, cs.sel)
			if err != nil {
				return nil, err
			}
			for _, c := range dc {
				slog.Debug("firefly depth candidate", "after_layer", c.Layer, "score", c.Score, "cost", c.Cost)
			}
			out = append(out, dc...)
		}
		ds.clone = nil
	}
	for _, h := range hooks {
		h.PhaseEnd()
	}
	return out, nil
}

// batches picks the round's candidate-training and scoring mini-batches
// from the engine's statistics shuffle: scoring uses the engine's
// statistics batches, training the ones after them.
func batches(env *grow.Env, steps int) (trainSteps, scoreSteps []int) {
	n := env.Stats.Steps()
	off := len(env.Steps)
	for i := 0; i < steps; i++ {
		trainSteps = append(trainSteps, (off+i)%n)
	}
	return trainSteps, env.Steps
}

// block is one trainable candidate tensor with its gradient and Adam state.
type block struct {
	v, g, m, s []float64
	lr         float64
}

func newBlock(n int, lr float64) *block {
	return &block{v: make([]float64, n), g: make([]float64, n), m: make([]float64, n), s: make([]float64, n), lr: lr}
}

func (b *block) adam(t int) {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	c1 := 1 - math.Pow(b1, float64(t))
	c2 := 1 - math.Pow(b2, float64(t))
	for i, g := range b.g {
		b.m[i] = b1*b.m[i] + (1-b1)*g
		b.s[i] = b2*b.s[i] + (1-b2)*g*g
		b.v[i] -= b.lr * (b.m[i] / c1) / (math.Sqrt(b.s[i]/c2) + eps)
	}
}

// layer is one producer's part of the candidate network: growable layers
// own split directions (delta) and new units' incoming weights (in); a
// producer fed by a growable layer owns the new units' outgoing weights
// (out: rows × K_up·g, one row per effective row — a split pair shares its
// row).
type layer struct {
	li       int
	prod     nn.Producer
	growable bool
	w, k     int // base units, new-neuron candidates
	up       *layer
	g        int // weight columns per input unit
	fan      int // old fan-in (columns of the base weight)
	bias     bool
	theta    []float32 // base weight, w × fan
	thetaB   []float32
	delta    *block // w × (fan+bias)
	in       *block // k × (fan+bias)
	out      *block // (w+k) × (kUp·g)
	cons     *layer // the producer consuming this layer's units
}

func (l *layer) row() int { // per-row length of delta / in
	if l.bias {
		return l.fan + 1
	}
	return l.fan
}

func (l *layer) effRows() int { return l.w + l.k }

// Candidates is the candidate network of one growth step.
type Candidates struct {
	base   *nn.Net // the network being grown (left untouched until Apply)
	snap   []byte
	clone  *nn.Net
	layers []*layer
	byIdx  map[int]*layer
	steps  int
	// Gate derivatives (true means over the scoring batches).
	splitScore [][]float64 // per growable layer (index in growables), per unit
	newScore   [][]float64
	grows      []*layer
	// Surgery state shared by the Apply closures of one round.
	sel     *selection
	noSplit bool
	round   int // growth round, for provenance notes
}

// NewCandidates builds the candidate network of net: every growable
// neuron with a random split direction and K new neurons per layer
// (none with o.SplitOnly).
func NewCandidates(net *nn.Net, o Options, r *rand.Rand) (*Candidates, error) {
	snap, err := net.MarshalBinary()
	if err != nil {
		return nil, err
	}
	c := &Candidates{base: net, snap: snap, byIdx: map[int]*layer{}, noSplit: o.NoSplit}
	grows := net.Growable()
	if len(grows) == 0 {
		return nil, fmt.Errorf("the model has nothing to grow")
	}
	get := func(li int) *layer {
		if l, ok := c.byIdx[li]; ok {
			return l
		}
		p := net.Layers[li].(nn.Producer)
		l := &layer{li: li, prod: p, w: p.Units(), fan: p.Weight().Cols, bias: p.BiasParam() != nil}
		l.theta = slices.Clone(p.Weight().Data)
		if l.bias {
			l.thetaB = slices.Clone(p.BiasParam().Data)
		}
		c.byIdx[li] = l
		c.layers = append(c.layers, l)
		return l
	}
	for _, li := range grows {
		l := get(li)
		l.growable = true
		if !o.SplitOnly {
			l.k = o.Candidates
			if l.k == 0 {
				l.k = DefaultCandidates(l.w)
			}
		}
		ch, err := net.Chain(li)
		if err != nil {
			return nil, err
		}
		cons := get(ch.Consumer)
		cons.up = l
		cons.g = cons.fan / l.w
		l.cons = cons
		c.grows = append(c.grows, l)
	}
	slices.SortFunc(c.layers, func(a, b *layer) int { return a.li - b.li })
	for _, l := range c.layers {
		scale := rms(l.theta)
		if l.growable {
			l.delta = newBlock(l.w*l.row(), o.LR*scale)
			if o.NoSplit {
				l.delta.lr = 0
			} else {
				for i := range l.delta.v {
					l.delta.v[i] = 0.1 * scale * r.NormFloat64()
				}
			}
			l.in = newBlock(l.k*l.row(), o.LR*scale)
			for i := range l.in.v {
				l.in.v[i] = scale * r.NormFloat64()
			}
			copies := min(l.w, int(o.Copies*float64(l.k)+0.5))
			perm := r.Perm(l.w)
			rl := l.row()
			for k := 0; k < copies; k++ {
				for t := 0; t < rl; t++ {
					l.in.v[k*rl+t] = l.base(perm[k], t) + 0.01*scale*r.NormFloat64()
				}
			}
		}
		if l.up != nil {
			l.out = newBlock(l.effRows()*l.up.k*l.g, o.LR*scale)
			for i := range l.out.v {
				l.out.v[i] = 0.01 * scale * (2*r.Float64() - 1)
			}
		}
	}
	if c.clone, err = nn.UnmarshalNet(snap); err != nil {
		return nil, err
	}
	for _, l := range c.grows {
		units := make([]nn.NewUnit, 0, l.w+l.k)
		for j := 0; j < l.w; j++ {
			units = append(units, nn.NewUnit{Like: j})
		}
		for k := 0; k < l.k; k++ {
			units = append(units, nn.NewUnit{Like: -1})
		}
		if err := c.clone.AddUnits(l.li, units); err != nil {
			return nil, err
		}
	}
	c.writeClone()
	return c, nil
}

func rms(w []float32) float64 {
	var s float64
	for _, v := range w {
		s += float64(v) * float64(v)
	}
	if len(w) == 0 || s == 0 {
		return 1
	}
	return math.Sqrt(s / float64(len(w)))
}

// Clone row layout of a growable layer: base units 0..w-1, their split
// twins w..2w-1, new units 2w..2w+k-1; its consumer's input units follow
// the same order. A split pair computes θ±δ; the twin input columns carry
// half of the pair's outgoing weight each, tied, so the pair's effective
// outgoing weight is the base one and the network is exactly the Firefly
// candidate network ½σ((θ+δ)ᵀx) + ½σ((θ−δ)ᵀx) + new units.

// cloneRow writes clone row r's effective incoming weights over the old
// inputs (with bias last) and its effective-row index for out.
func (l *layer) cloneRow(r int, dst []float64) int {
	rl := l.row()
	switch {
	case r < l.w:
		for t := 0; t < l.fan; t++ {
			dst[t] = float64(l.theta[r*l.fan+t]) + l.delta.get(r*rl+t)
		}
		if l.bias {
			dst[l.fan] = float64(l.thetaB[r]) + l.delta.get(r*rl+l.fan)
		}
		return r
	case r < 2*l.w:
		j := r - l.w
		for t := 0; t < l.fan; t++ {
			dst[t] = float64(l.theta[j*l.fan+t]) - l.delta.get(j*rl+t)
		}
		if l.bias {
			dst[l.fan] = float64(l.thetaB[j]) - l.delta.get(j*rl+l.fan)
		}
		return j
	default:
		k := r - 2*l.w
		copy(dst, l.in.v[k*rl:(k+1)*rl])
		return l.w + k
	}
}

func (b *block) get(i int) float64 {
	if b == nil {
		return 0
	}
	return b.v[i]
}

func (l *layer) cloneRows() int {
	if l.growable {
		return 2*l.w + l.k
	}
	return l.w
}

// writeClone sets the candidate network's weights from the candidate
// parameters.
func (c *Candidates) writeClone() {
	for _, l := range c.layers {
		p := c.clone.Layers[l.li].(nn.Producer)
		W := p.Weight()
		e := make([]float64, l.row())
		for r := 0; r < l.cloneRows(); r++ {
			var eff int
			if l.growable {
				eff = l.cloneRow(r, e)
			} else {
				eff = r
				for t := 0; t < l.fan; t++ {
					e[t] = float64(l.theta[r*l.fan+t])
				}
				if l.bias {
					e[l.fan] = float64(l.thetaB[r])
				}
			}
			row := W.Data[r*W.Cols : (r+1)*W.Cols]
			if l.up == nil {
				for t := 0; t < l.fan; t++ {
					row[t] = float32(e[t])
				}
			} else {
				wu, g := l.up.w, l.g
				for i := 0; i < wu; i++ {
					for t := 0; t < g; t++ {
						v := float32(0.5 * e[i*g+t])
						row[i*g+t] = v
						row[(wu+i)*g+t] = v
					}
				}
				kg := l.up.k * g
				for t := 0; t < kg; t++ {
					row[2*wu*g+t] = float32(l.out.v[eff*kg+t])
				}
			}
			if l.bias {
				p.BiasParam().Data[r] = float32(e[l.fan])
			}
		}
	}
}

// gather adds the candidate parameters' gradients from the clone's.
func (c *Candidates) gather() {
	for _, l := range c.layers {
		p := c.clone.Layers[l.li].(nn.Producer)
		W := p.Weight()
		var B []float32
		if l.bias {
			B = p.BiasParam().Grad
		}
		rl := l.row()
		// dE/d(clone row) over old inputs: tied halves add, ×½.
		eg := func(r int, dst []float64) {
			row := W.Grad[r*W.Cols : (r+1)*W.Cols]
			if l.up == nil {
				for t := 0; t < l.fan; t++ {
					dst[t] = float64(row[t])
				}
			} else {
				wu, g := l.up.w, l.g
				for i := 0; i < wu; i++ {
					for t := 0; t < g; t++ {
						dst[i*g+t] = 0.5 * (float64(row[i*g+t]) + float64(row[(wu+i)*g+t]))
					}
				}
			}
			if l.bias {
				dst[l.fan] = float64(B[r])
			}
		}
		a := make([]float64, rl)
		b := make([]float64, rl)
		if l.growable {
			for j := 0; j < l.w; j++ {
				eg(j, a)
				eg(l.w+j, b)
				d := l.delta.g[j*rl : (j+1)*rl]
				for t := range d {
					d[t] += a[t] - b[t]
				}
			}
			for k := 0; k < l.k; k++ {
				eg(2*l.w+k, a)
				d := l.in.g[k*rl : (k+1)*rl]
				for t := range d {
					d[t] += a[t]
				}
			}
		}
		if l.up != nil && l.up.k > 0 {
			kg, off := l.up.k*l.g, 2*l.up.w*l.g
			for r := 0; r < l.cloneRows(); r++ {
				eff := r // twin j → j, new k (row 2w+k) → w+k
				if l.growable && r >= l.w {
					eff = r - l.w
				}
				row := W.Grad[r*W.Cols+off : r*W.Cols+off+kg]
				d := l.out.g[eff*kg : (eff+1)*kg]
				for t, v := range row {
					d[t] += float64(v)
				}
			}
		}
	}
}

func (c *Candidates) blocks() []*block {
	var bs []*block
	for _, l := range c.layers {
		for _, b := range []*block{l.delta, l.in, l.out} {
			if b != nil && len(b.v) > 0 && !(b == l.delta && c.noSplit) {
				bs = append(bs, b)
			}
		}
	}
	return bs
}

// lossGrad runs the clone on one batch (evaluation mode: BatchNorm uses
// its running statistics, as in the reference) and gathers the
// candidate gradients.
func (c *Candidates) lossGrad(x *tensor.Tensor, y []int) float64 {
	var ce nn.SoftmaxCE
	c.clone.ZeroGrad()
	loss := ce.Forward(c.clone.Forward(x, false), y)
	c.clone.Backward(ce.Backward())
	c.gather()
	return loss
}

// Train optimises every candidate jointly on the given mini-batches.
func (c *Candidates) Train(ctx context.Context, b *data.Batcher, steps []int, done func(float64)) error {
	var x *tensor.Tensor
	var y []int
	bs := c.blocks()
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		x, y = b.Batch(s, x, y)
		for _, bl := range bs {
			clear(bl.g)
		}
		loss := c.lossGrad(x, y)
		c.steps++
		for _, bl := range bs {
			bl.adam(c.steps)
		}
		c.writeClone()
		if done != nil {
			done(loss)
		}
	}
	return nil
}

// Score computes every candidate's gate derivative, the mean over the
// scoring batches of ∂L/∂s at s = 1, where s scales the candidate: a split
// direction δ, or a new neuron's outgoing weights.
func (c *Candidates) Score(ctx context.Context, b *data.Batcher, steps []int, done func(float64)) error {
	var x *tensor.Tensor
	var y []int
	bs := c.blocks()
	for _, bl := range bs {
		clear(bl.g)
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		x, y = b.Batch(s, x, y)
		loss := c.lossGrad(x, y)
		if done != nil {
			done(loss)
		}
	}
	n := float64(max(1, len(steps)))
	c.splitScore = make([][]float64, len(c.grows))
	c.newScore = make([][]float64, len(c.grows))
	for gi, l := range c.grows {
		rl := l.row()
		c.splitScore[gi] = make([]float64, l.w)
		for j := 0; j < l.w; j++ {
			var s float64
			for t := j * rl; t < (j+1)*rl; t++ {
				s += l.delta.v[t] * l.delta.g[t]
			}
			c.splitScore[gi][j] = s / n
		}
		c.newScore[gi] = make([]float64, l.k)
		cons := l.cons
		g := cons.g
		kg := l.k * g
		for k := 0; k < l.k; k++ {
			var s float64
			for r := 0; r < cons.effRows(); r++ {
				if !cons.growable && r >= cons.w {
					break
				}
				for t := k * g; t < (k+1)*g; t++ {
					s += cons.out.v[r*kg+t] * cons.out.g[r*kg+t]
				}
			}
			c.newScore[gi][k] = s / n
		}
	}
	return nil
}

// GateScores returns the split and new-neuron gate derivatives of growable
// layer li.
func (c *Candidates) GateScores(li int) (split, newUnits []float64) {
	for gi, l := range c.grows {
		if l.li == li {
			return c.splitScore[gi], c.newScore[gi]
		}
	}
	return nil, nil
}

// Loss evaluates the candidate network (all candidates on) on batches.
func (c *Candidates) Loss(b *data.Batcher, steps []int) float64 {
	return grow.MeanLoss(c.clone, b, steps)
}

// Clone is the candidate network (all candidates on).
func (c *Candidates) Clone() *nn.Net { return c.clone }

// Candidates returns the scored grow.Candidates; their Apply functions
// edit the network the candidates were built from.
func (c *Candidates) Candidates() []grow.Candidate {
	c.sel = newSelection(c)
	var out []grow.Candidate
	for gi, l := range c.grows {
		for j := 0; j < l.w && !c.noSplit; j++ {
			s := c.splitScore[gi][j]
			l, j := l, j
			out = append(out, grow.Candidate{Layer: l.li, Unit: j, Kind: KindSplit, Score: s, Added: 1,
				Apply:   func(net *nn.Net, eps float64) error { return c.sel.apply(net, l, false, j, eps) },
				Predict: func(eps float64) float64 { return eps * s }})
		}
		for k := 0; k < l.k; k++ {
			s := c.newScore[gi][k]
			l, k := l, k
			out = append(out, grow.Candidate{Layer: l.li, Unit: l.w + k, Kind: KindNew, Score: s, Added: 1,
				Apply:   func(net *nn.Net, eps float64) error { return c.sel.apply(net, l, true, k, eps) },
				Predict: func(eps float64) float64 { return eps * s }})
		}
	}
	return out
}

// rebind returns a copy of c whose edits apply to net, a copy of the
// network c was built from.
func (c *Candidates) rebind(net *nn.Net) *Candidates {
	c2 := *c
	c2.base = net
	c2.byIdx = map[int]*layer{}
	m := map[*layer]*layer{}
	c2.layers = nil
	for _, l := range c.layers {
		l2 := *l
		l2.prod = net.Layers[l.li].(nn.Producer)
		m[l] = &l2
		c2.byIdx[l.li] = &l2
		c2.layers = append(c2.layers, &l2)
	}
	for _, l := range c2.layers {
		l.up, l.cons = m[l.up], m[l.cons]
	}
	c2.grows = nil
	for _, l := range c.grows {
		c2.grows = append(c2.grows, m[l])
	}
	return &c2
}

// origin of one unit of the grown network in candidate coordinates.
type origin struct {
	kind int // 0 base, 1 twin, 2 new
	idx  int
}

// selection records the candidates applied so far in one round. Every
// Apply appends its unit and rewrites the affected weights from the
// candidate parameters, so the result depends only on the set applied
// (and ε), not on the order: the grown network is the candidate network
// restricted to the selected candidates, with gates at ε.
type selection struct {
	c      *Candidates
	order  map[*layer][]origin
	split  map[*layer][]bool
	eps    map[*layer]float64
	frozen map[*layer]bool // a layer was inserted after it: no more width edits
}

func newSelection(c *Candidates) *selection {
	s := &selection{c: c, order: map[*layer][]origin{}, split: map[*layer][]bool{}, eps: map[*layer]float64{}, frozen: map[*layer]bool{}}
	for _, l := range c.layers {
		o := make([]origin, l.w)
		for j := range o {
			o[j] = origin{0, j}
		}
		s.order[l] = o
		s.split[l] = make([]bool, l.w)
	}
	return s
}

// index finds producer p's current index in net (depth insertions shift
// indices).
func index(net *nn.Net, p nn.Producer) int {
	for i, l := range net.Layers {
		if l == nn.Layer(p) {
			return i
		}
	}
	return -1
}

func (s *selection) apply(net *nn.Net, l *layer, isNew bool, u int, eps float64) error {
	if net != s.c.base {
		return fmt.Errorf("firefly: candidates of another network")
	}
	if s.frozen[l] {
		return fmt.Errorf("firefly: width edit of layer %d after a layer was inserted after it", l.li)
	}
	li := index(net, l.prod)
	if li < 0 {
		return fmt.Errorf("firefly: layer %d is no longer in the network", l.li)
	}
	if isNew {
		if err := net.AddUnits(li, []nn.NewUnit{{Like: -1}}); err != nil {
			return err
		}
		s.order[l] = append(s.order[l], origin{2, u})
	} else {
		if s.split[l][u] {
			return fmt.Errorf("firefly: unit %d of layer %d split twice", u, l.li)
		}
		if err := net.AddUnits(li, []nn.NewUnit{{Like: u}}); err != nil {
			return err
		}
		s.split[l][u] = true
		s.order[l] = append(s.order[l], origin{1, u})
	}
	s.eps[l] = eps
	s.write(l)
	s.write(l.cons)
	return nil
}

// write sets producer l's weights in the grown network from the candidate
// parameters and the current selection.
func (s *selection) write(l *layer) {
	p := l.prod
	W := p.Weight()
	rows := s.order[l]
	rl := l.row()
	e := make([]float64, rl)
	eps := s.eps[l]
	var upEps float64
	var cols []origin
	if l.up != nil {
		cols = s.order[l.up]
		upEps = s.eps[l.up]
	}
	for r, o := range rows {
		eff := o.idx
		switch o.kind {
		case 0:
			d := 0.0
			if l.growable && s.split[l][o.idx] {
				d = eps
			}
			for t := 0; t < rl; t++ {
				e[t] = l.base(o.idx, t) + d*l.delta.get(o.idx*rl+t)
			}
		case 1:
			for t := 0; t < rl; t++ {
				e[t] = l.base(o.idx, t) - eps*l.delta.v[o.idx*rl+t]
			}
		case 2:
			copy(e, l.in.v[o.idx*rl:(o.idx+1)*rl])
			eff = l.w + o.idx
		}
		row := W.Data[r*W.Cols : (r+1)*W.Cols]
		if l.up == nil {
			for t := 0; t < l.fan; t++ {
				row[t] = float32(e[t])
			}
		} else {
			g := l.g
			kg := l.up.k * g
			for c, co := range cols {
				dst := row[c*g : (c+1)*g]
				switch co.kind {
				case 0, 1:
					h := 1.0
					if s.split[l.up][co.idx] {
						h = 0.5
					}
					for t := range dst {
						dst[t] = float32(h * e[co.idx*g+t])
					}
				case 2:
					for t := range dst {
						dst[t] = float32(upEps * l.out.v[eff*kg+co.idx*g+t])
					}
				}
			}
		}
		if l.bias {
			p.BiasParam().Data[r] = float32(e[l.fan])
		}
	}
}

func (l *layer) base(j, t int) float64 {
	if t == l.fan {
		return float64(l.thetaB[j])
	}
	return float64(l.theta[j*l.fan+t])
}

var _ grow.Method = (*Method)(nil)

func init() {
	for _, name := range Names {
		grow.RegisterMethod(name, func(c grow.Config) (grow.Method, error) {
			m, err := New(name, Options{Candidates: c.Candidates, Steps: c.CandidateSteps,
				Deeper: c.Deeper, MaxNewLayers: c.MaxNewLayers})
			if err != nil {
				return nil, err
			}
			return m, nil
		})
	}
}
