package grow

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/tensor"
)

// SplitLosses measures the mean loss over the statistics batches after
// each edit of a growth step, as MeanLoss does, without rerunning the
// layers an edit cannot have changed. Surgery on layer L changes layer L
// and later layers only, so the output of layers [0, L) on each batch is
// computed once (when a loss at L is first asked for) and kept, and each
// measurement runs layers L onwards. The engine applies edits from the
// last layer backwards, so the first fill runs the prefix once and keeps
// the input of every producer below L as well: a later fill at an earlier
// layer reuses it when the layers before that one are unchanged (same
// layers, same parameters and BatchNorm statistics).
//
// When L starts a block that Infer fuses (convolution, BatchNorm, ReLU,
// optional 2×2 max pool) and the next block is another such block, a
// split of a unit of L changes only that unit's output channel, adds the
// copies' channels, and changes the consumer's weights on those channels.
// The consumer's convolution output (with its BatchNorm scale folded in,
// before bias and ReLU) is then kept too, and a measurement convolves only
// the changed channels: their old values (from the kept parameters) are
// subtracted and their new ones added, about 1/C of the two layers' work,
// and only the layers after the consumer run in full. The result equals
// MeanLoss's up to float32 rounding (the consumer's sum is accumulated in
// a different order); edits that touch more than half of L's units, the
// consumer's BatchNorm scale, or anything else in the two layers, are
// measured the plain way.
type SplitLosses struct {
	net   *nn.Net
	b     *data.Batcher
	steps []int

	at     int              // layer whose input is cached; -1: none
	layers []nn.Layer       // the layers [0, at) the cache was computed with
	xs     []*tensor.Tensor // input of layer at, per batch (kept by pre)
	ys     [][]int

	pre   prefixCache
	pair  *pairCache // incremental state for layer at; nil: run layers at onwards
	plain bool       // never use the incremental path (tests, benchmarks)
	delta bool       // the last Loss went through pair.update
}

// NewSplitLosses measures net on the given batches of b.
func NewSplitLosses(net *nn.Net, b *data.Batcher, steps []int) *SplitLosses {
	return &SplitLosses{net: net, b: b, steps: steps, at: -1}
}

// Loss is the mean loss over the batches when only layers layer and later
// may have changed since the last call with the same layer.
func (s *SplitLosses) Loss(layer int) float64 {
	net := s.net
	layer = min(max(layer, 0), len(net.Layers))
	s.delta = false
	if layer != s.at || !slices.Equal(s.layers, net.Layers[:layer]) {
		s.fill(layer)
		s.pair = nil
		if !s.plain {
			s.pair = newPairCache(net, layer)
		}
		if s.pair != nil {
			return s.pair.init(net, s.xs, s.ys)
		}
	} else if s.pair != nil {
		if l, ok := s.pair.update(net, s.xs, s.ys); ok {
			s.delta = true
			return l
		}
		// Something the delta cannot express changed: start over.
		if s.pair = newPairCache(net, layer); s.pair != nil {
			return s.pair.init(net, s.xs, s.ys)
		}
	}
	var ce nn.SoftmaxCE
	var sum float64
	var n int
	for k, x := range s.xs {
		y := s.ys[k]
		sum += ce.Forward(net.InferRange(x, layer, len(net.Layers)), y) * float64(len(y))
		n += len(y)
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// fill caches the input of layer at for every batch.
func (s *SplitLosses) fill(at int) {
	s.at = at
	s.layers = append(s.layers[:0], s.net.Layers[:at]...)
	if !s.pre.valid(s.net, at) {
		s.pre.compute(s.net, s.b, s.steps, at)
	}
	s.xs, s.ys = s.pre.xs[at], s.pre.ys
	// Inputs of later layers are not asked for again in a growth step.
	for l := range s.pre.xs {
		if l > at {
			delete(s.pre.xs, l)
		}
	}
}

// prefixCache keeps the input of several layers for every batch, computed
// in one pass, with the state of the layers before them.
type prefixCache struct {
	layers []nn.Layer  // layers [0, hi) the pass ran
	state  [][]float32 // their parameters and BatchNorm statistics, in order
	ends   []int       // len(layers)+1 offsets of each layer's state
	xs     map[int][]*tensor.Tensor
	ys     [][]int
}

// layerState lists the arrays a layer's evaluation-mode output depends on.
func layerState(l nn.Layer, dst [][]float32) [][]float32 {
	for _, p := range l.Params() {
		dst = append(dst, p.Data)
	}
	if bn, ok := l.(*nn.BatchNorm); ok {
		dst = append(dst, bn.RunMean, bn.RunVar)
	}
	return dst
}

// valid reports whether the input of layer at is kept and layers [0, at)
// are what they were when it was computed.
func (c *prefixCache) valid(net *nn.Net, at int) bool {
	if _, ok := c.xs[at]; !ok || at > len(c.layers) || !slices.Equal(c.layers[:at], net.Layers[:at]) {
		return false
	}
	var cur [][]float32
	for i, l := range net.Layers[:at] {
		cur = layerState(l, cur[:0])
		kept := c.state[c.ends[i]:c.ends[i+1]]
		if len(cur) != len(kept) {
			return false
		}
		for k := range cur {
			if !slices.Equal(cur[k], kept[k]) {
				return false
			}
		}
	}
	return true
}

// compute runs the prefix [0, at) once on every batch, keeping the input
// of at and of each producer before it. Splitting the pass at producers
// gives Infer's results bitwise (nn.Net.InferRange).
func (c *prefixCache) compute(net *nn.Net, b *data.Batcher, steps []int, at int) {
	var cuts []int
	for i := 0; i < at; i++ {
		if _, ok := net.Layers[i].(nn.Producer); ok {
			cuts = append(cuts, i)
		}
	}
	cuts = append(cuts, at)
	c.layers = append(c.layers[:0], net.Layers[:at]...)
	c.state, c.ends = c.state[:0], append(c.ends[:0], 0)
	for _, l := range c.layers {
		var st [][]float32
		for _, a := range layerState(l, nil) {
			st = append(st, slices.Clone(a))
		}
		c.state = append(c.state, st...)
		c.ends = append(c.ends, len(c.state))
	}
	c.xs = map[int][]*tensor.Tensor{}
	c.ys = make([][]int, len(steps))
	var x *tensor.Tensor
	for k, st := range steps {
		x, c.ys[k] = b.Batch(st, x, nil)
		in, lo := x, 0
		for _, cut := range cuts {
			out := net.InferRange(in, lo, cut)
			kept := tensor.Reshape(nil, out.Shape...)
			copy(kept.Data, out.Data[:out.Len()])
			c.xs[cut] = append(c.xs[cut], kept)
			in, lo = kept, cut
		}
	}
}

// convGeom is the part of a convolution's shape the delta path uses.
type convGeom struct {
	cin, h, w, k, stride, pad, oh, ow int
	pool                              bool // followed by a 2×2 max pool
}

// outHW is the block's output map size (after the pool).
func (g convGeom) outHW() (int, int) {
	if g.pool {
		return g.oh / 2, g.ow / 2
	}
	return g.oh, g.ow
}

func geomOf(c *nn.Conv2D, layers int) convGeom {
	sp := c.Spec()
	oh, ow := c.OutHW()
	return convGeom{cin: sp.In[0], h: sp.In[1], w: sp.In[2], k: sp.Kernel, stride: sp.Stride, pad: sp.Pad,
		oh: oh, ow: ow, pool: layers == 4}
}

// unitParams are the parameters of a fused block's units that its output
// depends on: weight rows, conv bias, BatchNorm.
type unitParams struct {
	w, bias               []float32 // bias nil without a conv bias
	gamma, beta, mean, vr []float32
	eps                   float64
	fan                   int
}

func paramsOf(c *nn.Conv2D, bn *nn.BatchNorm) unitParams {
	p := unitParams{w: c.W.Data, gamma: bn.Gamma.Data, beta: bn.Beta.Data, mean: bn.RunMean, vr: bn.RunVar,
		eps: bn.Eps, fan: c.W.Cols}
	if c.B != nil {
		p.bias = c.B.Data
	}
	return p
}

func (p unitParams) clone() unitParams {
	q := p
	q.w = slices.Clone(p.w)
	q.bias = slices.Clone(p.bias)
	q.gamma, q.beta = slices.Clone(p.gamma), slices.Clone(p.beta)
	q.mean, q.vr = slices.Clone(p.mean), slices.Clone(p.vr)
	return q
}

// fold writes unit u's weights and bias with the BatchNorm folded in, as
// Net.Infer folds them: y = a·(w·x + bias − mean) + β, a = γ/√(var+eps).
func (p unitParams) fold(dst []float32, u int) float32 {
	a := float32(float64(p.gamma[u]) / math.Sqrt(float64(p.vr[u])+p.eps))
	for k, v := range p.w[u*p.fan : (u+1)*p.fan] {
		dst[k] = a * v
	}
	shift := -p.mean[u]
	if p.bias != nil {
		shift += p.bias[u]
	}
	return a*shift + p.beta[u]
}

// same reports whether unit u has the same parameters in p and q.
func (p unitParams) same(q unitParams, u int) bool {
	if p.gamma[u] != q.gamma[u] || p.beta[u] != q.beta[u] || p.mean[u] != q.mean[u] || p.vr[u] != q.vr[u] {
		return false
	}
	if (p.bias == nil) != (q.bias == nil) || p.bias != nil && p.bias[u] != q.bias[u] {
		return false
	}
	return slices.Equal(p.w[u*p.fan:(u+1)*p.fan], q.w[u*q.fan:(u+1)*q.fan])
}

// pairCache is SplitLosses' incremental state for a fused block at l
// whose output feeds the fused block at j: the consumer's convolution
// output z (before bias and BatchNorm) per batch, and the parameters of
// both convolutions it was computed with.
type pairCache struct {
	l, j, end int
	gl, gj    convGeom
	units     int        // units of l in the snapshot
	outJ      int        // consumer filters
	pl        unitParams // snapshot of l
	wj        []float32  // snapshot of the consumer's weights (outJ × units·k²)
	aj        []float32  // the consumer's BatchNorm scale the outputs carry
	// zs are the consumer's convolution outputs per batch with its
	// BatchNorm scale folded in, as Infer computes them: a·(W·x).
	zs      [][]float32
	spare   [][]float32    // Probe's copy of zs
	in      *tensor.Tensor // suffix input
	scratch [8]pairScratch

	// The current pass.
	wf, bf  []float32 // folded rows of the changed channels (old, then new)
	wt      []float32 // wf by tap (kn2row)
	wd      []float32 // consumer weights on those channels (old negated), scaled by aj
	wjf     []float32 // the consumer's folded weights (init)
	ajNow   []float32
	bj      []float32 // consumer's folded bias
	rows, k int
}

type pairScratch struct{ cols, maps, conv, colsJ []float32 }

// newPairCache returns the incremental state for layer l, or nil when l
// and the layers after it do not form two consecutive fused blocks.
func newPairCache(net *nn.Net, l int) *pairCache {
	nl, ok := net.FusedBlock(l)
	if !ok {
		return nil
	}
	j := l + nl
	nj, ok := net.FusedBlock(j)
	if !ok {
		return nil
	}
	cl, cj := net.Layers[l].(*nn.Conv2D), net.Layers[j].(*nn.Conv2D)
	if cj.Spec().In[0] != cl.Units() {
		return nil
	}
	return &pairCache{l: l, j: j, end: j + nj, gl: geomOf(cl, nl), gj: geomOf(cj, nj)}
}

// matches reports whether the net still has the two blocks the cache was
// built for, with the same geometry, and the consumer reads all of l.
func (c *pairCache) matches(net *nn.Net) bool {
	nl, ok1 := net.FusedBlock(c.l)
	nj, ok2 := net.FusedBlock(c.j)
	if !ok1 || !ok2 || c.l+nl != c.j || c.j+nj != c.end {
		return false
	}
	cl, cj := net.Layers[c.l].(*nn.Conv2D), net.Layers[c.j].(*nn.Conv2D)
	gj := geomOf(cj, nj)
	gj.cin = c.gj.cin // the consumer's inputs are l's units
	return geomOf(cl, nl) == c.gl && gj == c.gj && cj.Spec().In[0] == cl.Units() &&
		cl.Units() >= c.units && cj.Units() == c.outJ
}

// snapshot records the current parameters of both convolutions.
func (c *pairCache) snapshot(net *nn.Net) {
	cl, cj := net.Layers[c.l].(*nn.Conv2D), net.Layers[c.j].(*nn.Conv2D)
	c.units, c.outJ = cl.Units(), cj.Units()
	c.gj.cin = c.units
	c.pl = paramsOf(cl, net.Layers[c.l+1].(*nn.BatchNorm)).clone()
	c.wj = append(c.wj[:0], cj.W.Data...)
	c.aj = c.scaleJ(net, c.aj)
}

// scaleJ is the consumer's BatchNorm scale a = γ/√(var+eps) per filter,
// rounded as Net.Infer rounds it.
func (c *pairCache) scaleJ(net *nn.Net, dst []float32) []float32 {
	bn := net.Layers[c.j+1].(*nn.BatchNorm)
	dst = grow32(dst, c.outJ)
	for o := range dst {
		dst[o] = float32(float64(bn.Gamma.Data[o]) / math.Sqrt(float64(bn.RunVar[o])+bn.Eps))
	}
	return dst
}

// init computes every batch's consumer output from scratch and returns
// the loss.
func (c *pairCache) init(net *nn.Net, xs []*tensor.Tensor, ys [][]int) float64 {
	c.snapshot(net)
	cj := net.Layers[c.j].(*nn.Conv2D)
	kk := c.gj.k * c.gj.k
	pj := c.gj.oh * c.gj.ow
	ckk := c.units * kk
	c.wjf = grow32(c.wjf, c.outJ*ckk)
	for o := 0; o < c.outJ; o++ {
		for t, v := range cj.W.Data[o*ckk : (o+1)*ckk] {
			c.wjf[o*ckk+t] = c.aj[o] * v
		}
	}
	c.zs = slices.Grow(c.zs[:0], len(xs))[:len(xs)]
	for b, x := range xs {
		a := net.InferRange(x, c.l, c.j)
		n := a.Shape[0]
		c.zs[b] = grow32(c.zs[b], n*c.outJ*pj)
		z := c.zs[b]
		hl, wl := c.gl.outHW()
		img := c.units * hl * wl
		c.parallel(n, func(sc *pairScratch, e int) {
			cols := a.Data[e*img : (e+1)*img]
			if !(c.gj.k == 1 && c.gj.stride == 1 && c.gj.pad == 0) {
				sc.colsJ = grow32(sc.colsJ, c.units*kk*pj)
				tensor.Im2Col(sc.colsJ, cols, c.units, hl, wl, c.gj.k, c.gj.k, c.gj.stride, c.gj.pad)
				cols = sc.colsJ
			}
			tensor.Gemm(false, false, c.outJ, pj, ckk, 1, c.wjf, ckk, cols, pj, 0,
				z[e*c.outJ*pj:(e+1)*c.outJ*pj], pj)
		})
	}
	return c.loss(net, ys)
}

// update brings every batch's consumer output up to the net's current
// parameters by convolving only the changed channels, and returns the
// loss; false when the change is not a few channels of l.
func (c *pairCache) update(net *nn.Net, xs []*tensor.Tensor, ys [][]int) (float64, bool) {
	if !c.matches(net) {
		return 0, false
	}
	cl, cj := net.Layers[c.l].(*nn.Conv2D), net.Layers[c.j].(*nn.Conv2D)
	cur := paramsOf(cl, net.Layers[c.l+1].(*nn.BatchNorm))
	if cur.fan != c.pl.fan || (cur.bias == nil) != (c.pl.bias == nil) || cur.eps != c.pl.eps {
		return 0, false
	}
	if c.ajNow = c.scaleJ(net, c.ajNow); !slices.Equal(c.ajNow, c.aj) {
		return 0, false // the kept outputs carry the old scale
	}
	kk := c.gj.k * c.gj.k
	unitsNow := cl.Units()
	var old []int
	for u := 0; u < c.units; u++ {
		changed := !c.pl.same(cur, u)
		for o := 0; o < c.outJ && !changed; o++ {
			changed = !slices.Equal(c.wj[(o*c.units+u)*kk:(o*c.units+u+1)*kk],
				cj.W.Data[(o*unitsNow+u)*kk:(o*unitsNow+u+1)*kk])
		}
		if changed {
			old = append(old, u)
		}
	}
	nw := append(slices.Clone(old), make([]int, 0, unitsNow-c.units)...)
	for u := c.units; u < unitsNow; u++ {
		nw = append(nw, u)
	}
	rows := len(old) + len(nw)
	if rows > c.units {
		return 0, false // as much work as the plain path
	}
	// Rows of the changed channels: old parameters (subtracted), then the
	// current ones (added).
	fan := cur.fan
	c.rows, c.k = rows, fan
	c.wf = grow32(c.wf, rows*fan)
	c.bf = grow32(c.bf, rows)
	c.wd = grow32(c.wd, c.outJ*rows*kk)
	for r := 0; r < rows; r++ {
		p, u, sign := c.pl, 0, float32(-1)
		wsrc, stride := c.wj, c.units
		if r < len(old) {
			u = old[r]
		} else {
			p, u, sign = cur, nw[r-len(old)], 1
			wsrc, stride = cj.W.Data, unitsNow
		}
		c.bf[r] = p.fold(c.wf[r*fan:(r+1)*fan], u)
		for o := 0; o < c.outJ; o++ {
			dst := c.wd[(o*rows+r)*kk : (o*rows+r+1)*kk]
			a := sign * c.aj[o]
			for t, v := range wsrc[(o*stride+u)*kk : (o*stride+u+1)*kk] {
				dst[t] = a * v
			}
		}
	}
	if rows > 0 {
		for b, x := range xs {
			c.delta(x, c.zs[b])
		}
	}
	c.snapshot(net)
	return c.loss(net, ys), true
}

// delta adds the changed channels' contribution to one batch's consumer
// output z.
func (c *pairCache) delta(x *tensor.Tensor, z []float32) {
	n := x.Shape[0]
	g, gj := c.gl, c.gj
	kk := gj.k * gj.k
	p, pj := g.oh*g.ow, gj.oh*gj.ow
	hl, wl := g.outHW()
	img := g.cin * g.h * g.w
	rows := c.rows
	same := kn2rowDelta && g.kn2row()
	if same {
		// Taps as rows: wt[(t·rows + r)·cin + ci] = wf[r·fan + ci·kk + t].
		kg := g.k * g.k
		c.wt = grow32(c.wt, kg*rows*g.cin)
		for r := 0; r < rows; r++ {
			for ci := 0; ci < g.cin; ci++ {
				for t := 0; t < kg; t++ {
					c.wt[(t*rows+r)*g.cin+ci] = c.wf[r*c.k+ci*kg+t]
				}
			}
		}
	}
	c.parallel(n, func(sc *pairScratch, e int) {
		xe := x.Data[e*img : (e+1)*img]
		sc.maps = grow32(sc.maps, rows*hl*wl)
		conv := sc.maps
		if g.pool {
			sc.conv = grow32(sc.conv, rows*p)
			conv = sc.conv
		}
		switch {
		case same:
			// A few rows against all input channels: multiply the image
			// by every tap's weights (kk·rows × cin) and add the shifted
			// results, instead of building the image's patches.
			sc.cols = grow32(sc.cols, g.k*g.k*rows*p)
			tensor.Gemm(false, false, g.k*g.k*rows, p, g.cin, 1, c.wt, g.cin, xe, p, 0, sc.cols, p)
			shiftAdd(conv, sc.cols, rows, g.h, g.w, g.k, g.pad)
		case g.k == 1 && g.stride == 1 && g.pad == 0:
			tensor.Gemm(false, false, rows, p, c.k, 1, c.wf, c.k, xe, p, 0, conv, p)
		default:
			sc.cols = grow32(sc.cols, c.k*p)
			tensor.Im2Col(sc.cols, xe, g.cin, g.h, g.w, g.k, g.k, g.stride, g.pad)
			tensor.Gemm(false, false, rows, p, c.k, 1, c.wf, c.k, sc.cols, p, 0, conv, p)
		}
		if g.pool {
			tensor.BiasReLUMaxPool2(sc.maps, sc.conv, c.bf, g.oh, g.ow)
		} else {
			tensor.BiasReLU(sc.maps, c.bf, p)
		}
		colsJ := sc.maps
		if !(gj.k == 1 && gj.stride == 1 && gj.pad == 0) {
			sc.colsJ = grow32(sc.colsJ, rows*kk*pj)
			tensor.Im2Col(sc.colsJ, sc.maps, rows, hl, wl, gj.k, gj.k, gj.stride, gj.pad)
			colsJ = sc.colsJ
		}
		tensor.Gemm(false, false, c.outJ, pj, rows*kk, 1, c.wd, rows*kk, colsJ, pj, 1,
			z[e*c.outJ*pj:(e+1)*c.outJ*pj], pj)
	})
}

// kn2rowDelta lets tests and benchmarks compare delta's tap-by-tap
// convolution with the patches path.
var kn2rowDelta = true

// kn2row reports whether the block's convolution keeps the map size with
// an odd window and stride 1 (a "same" convolution), which delta computes
// tap by tap from the image itself.
func (g convGeom) kn2row() bool {
	return g.k > 1 && g.k%2 == 1 && g.stride == 1 && g.pad == g.k/2 && g.oh == g.h && g.ow == g.w
}

// shiftAdd sums the taps of a "same" k×k convolution: t holds, for each
// tap (ky, kx) and row r, the image's channels weighted by that tap
// (plane (tap·rows + r), h×w), and dst[r] is Σ over taps of that plane
// shifted by (ky − pad, kx − pad), zero outside the image.
func shiftAdd(dst, t []float32, rows, h, w, k, pad int) {
	p := h * w
	clear(dst[:rows*p])
	for ky := 0; ky < k; ky++ {
		dy := ky - pad
		y0, y1 := max(0, -dy), min(h, h-dy)
		for kx := 0; kx < k; kx++ {
			dx := kx - pad
			x0, x1 := max(0, -dx), min(w, w-dx)
			tap := ky*k + kx
			for r := 0; r < rows; r++ {
				src := t[(tap*rows+r)*p : (tap*rows+r+1)*p]
				d := dst[r*p : (r+1)*p]
				for y := y0; y < y1; y++ {
					dr := d[y*w+x0 : y*w+x1]
					sr := src[(y+dy)*w+x0+dx : (y+dy)*w+x1+dx]
					sr = sr[:len(dr)]
					for i, v := range sr {
						dr[i] += v
					}
				}
			}
		}
	}
}

// loss runs the consumer's epilogue (bias, ReLU, pool) on each batch's
// kept output, then the layers after it, and averages the loss.
func (c *pairCache) loss(net *nn.Net, ys [][]int) float64 {
	cj := net.Layers[c.j].(*nn.Conv2D)
	bn := net.Layers[c.j+1].(*nn.BatchNorm)
	c.bj = grow32(c.bj, c.outJ)
	for o := range c.bj {
		shift := -bn.RunMean[o]
		if cj.B != nil {
			shift += cj.B.Data[o]
		}
		c.bj[o] = c.aj[o]*shift + bn.Beta.Data[o]
	}
	g := c.gj
	p := g.oh * g.ow
	ho, wo := g.outHW()
	var ce nn.SoftmaxCE
	var sum float64
	var count int
	for b, y := range ys {
		n := len(y)
		z := c.zs[b]
		c.in = tensor.Reshape(c.in, n, c.outJ, ho, wo)
		osz := c.outJ * ho * wo
		c.parallel(n, func(sc *pairScratch, e int) {
			ze := z[e*c.outJ*p : (e+1)*c.outJ*p]
			dst := c.in.Data[e*osz : (e+1)*osz]
			if g.pool {
				tensor.BiasReLUMaxPool2(dst, ze, c.bj, g.oh, g.ow)
			} else {
				copy(dst, ze)
				tensor.BiasReLU(dst, c.bj, p)
			}
		})
		sum += ce.Forward(net.InferRange(c.in, c.end, len(net.Layers)), y) * float64(n)
		count += n
	}
	if count == 0 {
		return math.NaN()
	}
	return sum / float64(count)
}

// parallel runs body on every image of a batch of n, in a fixed number of
// slices with their own scratch; each image's result depends on its data
// only, so results do not depend on the thread count.
func (c *pairCache) parallel(n int, body func(sc *pairScratch, e int)) {
	nc := min(n, len(c.scratch))
	tensor.ParallelFor(nc, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			for e := ch * n / nc; e < (ch+1)*n/nc; e++ {
				body(&c.scratch[ch], e)
			}
		}
	})
}

func grow32(s []float32, n int) []float32 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float32, n)
}

// Probe applies edit, which may change layer and later layers only (add
// units, change parameters or BatchNorm statistics, not insert layers),
// returns the mean loss with it, and then returns the net exactly to the
// state it had before: widths, parameters, gradients, optimiser slots and
// BatchNorm statistics. Asked at the layer of the last Loss, a probe costs
// one measurement on the delta path, which it then rewinds, so probing
// every candidate of a growth step costs about as much as applying as
// many.
func (s *SplitLosses) Probe(layer int, edit func() error) (float64, error) {
	net := s.net
	layer = min(max(layer, 0), len(net.Layers))
	snap := snapshotFrom(net, layer)
	var saved *pairState
	pair := s.pair
	if pair != nil && s.at == layer && slices.Equal(s.layers, net.Layers[:layer]) {
		saved = pair.save()
	}
	err := edit()
	l := math.NaN()
	if err == nil {
		l = s.Loss(layer)
	}
	if rerr := snap.restore(net); rerr != nil {
		return l, errors.Join(err, rerr)
	}
	switch {
	case err == nil && saved != nil && s.pair == pair && s.delta:
		pair.restore(saved)
	case s.pair != pair || s.delta || err == nil && s.pair != nil:
		// The kept consumer outputs describe the edited net: rebuild them.
		s.pair, s.at = nil, -1
	}
	return l, err
}

// netSnapshot is the state of layers [from, end) of a net, for undoing
// edits that add units to or change those layers.
type netSnapshot struct {
	from, n int
	units   map[int]int // producer layer → its units
	state   [][]float32
}

func snapshotFrom(net *nn.Net, from int) *netSnapshot {
	s := &netSnapshot{from: from, n: len(net.Layers), units: map[int]int{}}
	for _, i := range net.Growable() {
		if i >= from {
			s.units[i] = net.Layers[i].(nn.Producer).Units()
		}
	}
	for i := from; i < len(net.Layers); i++ {
		for _, a := range fullState(net.Layers[i], nil) {
			s.state = append(s.state, slices.Clone(a))
		}
	}
	return s
}

// fullState is layerState followed by the gradients and optimiser slots.
func fullState(l nn.Layer, dst [][]float32) [][]float32 {
	dst = layerState(l, dst)
	for _, p := range l.Params() {
		dst = append(dst, p.Grad)
		dst = append(dst, p.Slots...)
	}
	return dst
}

// restore removes the units added since the snapshot and copies its state
// back.
func (s *netSnapshot) restore(net *nn.Net) error {
	if len(net.Layers) != s.n {
		return fmt.Errorf("grow: probe changed the number of layers from %d to %d", s.n, len(net.Layers))
	}
	for i := len(net.Layers) - 1; i >= s.from; i-- {
		was, ok := s.units[i]
		if !ok {
			continue // not a layer whose units an edit adds
		}
		now := net.Layers[i].(nn.Producer).Units()
		if now < was {
			return fmt.Errorf("grow: probe removed units of layer %d", i)
		}
		if now > was {
			idx := make([]int, 0, now-was)
			for u := was; u < now; u++ {
				idx = append(idx, u)
			}
			if err := net.RemoveUnits(i, idx); err != nil {
				return err
			}
		}
	}
	var cur [][]float32
	for i := s.from; i < len(net.Layers); i++ {
		cur = fullState(net.Layers[i], cur)
	}
	if len(cur) != len(s.state) {
		return fmt.Errorf("grow: probe changed the layers' state")
	}
	for k, a := range cur {
		if len(a) != len(s.state[k]) {
			return fmt.Errorf("grow: probe changed the layers' state")
		}
		copy(a, s.state[k])
	}
	return nil
}

// pairState is what a pairCache update changes.
type pairState struct {
	units, outJ, cin int
	pl               unitParams
	wj, aj           []float32
	zs               [][]float32
}

func (c *pairCache) save() *pairState {
	st := &pairState{units: c.units, outJ: c.outJ, cin: c.gj.cin, pl: c.pl.clone(),
		wj: slices.Clone(c.wj), aj: slices.Clone(c.aj)}
	// The copy goes into the spare buffers, which restore swaps in.
	c.spare = slices.Grow(c.spare[:0], len(c.zs))[:len(c.zs)]
	for b, z := range c.zs {
		c.spare[b] = append(c.spare[b][:0], z...)
	}
	st.zs = c.spare
	return st
}

func (c *pairCache) restore(st *pairState) {
	c.units, c.outJ, c.gj.cin, c.pl, c.wj, c.aj = st.units, st.outJ, st.cin, st.pl, st.wj, st.aj
	c.zs, c.spare = st.zs, c.zs
}
