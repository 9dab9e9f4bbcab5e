package nn

import (
	"fmt"
	"math"

	"github.com/nadir-ml/nadir/tensor"
)

// inferState holds Infer's buffers: one output per fused block, keyed by
// the block's first layer, and per-slice scratch.
type inferState struct {
	outs    map[int]*tensor.Tensor
	scratch [gradChunks]inferScratch
	w, b    []float32 // folded weights and biases of the block being run
	a       []float32 // the BatchNorm scales folded into w
	conv    []float32 // a dense block's output before pooling
	kg      int       // columns of w: the patch length, or C when center
	center  bool      // 1×1 map, "same" padding: only the centre taps count
	blk     fusedBlock
	x, y    *tensor.Tensor
	n       int
	run     func(lo, hi int)
}

// inferScratch is one batch slice's buffers: an image's patches, the
// convolution's output before pooling, and for grouped images their
// patches side by side.
type inferScratch struct{ cols, conv, wide []float32 }

// fusedBlock is an ungrouped convolution followed by its BatchNorm, a ReLU
// and optionally a 2×2, stride-2 max pool, as ParseModel's c<N> token and a
// following p build them.
type fusedBlock struct {
	conv *Conv2D
	bn   *BatchNorm
	pool bool
	n    int // layers covered
}

// fusedAt recognises a fusable block starting at layer i and ending
// before layer hi.
func (n *Net) fusedAt(i, hi int) (fusedBlock, bool) {
	ls := n.Layers[:hi]
	if i+2 >= len(ls) {
		return fusedBlock{}, false
	}
	c, ok1 := ls[i].(*Conv2D)
	bn, ok2 := ls[i+1].(*BatchNorm)
	a, ok3 := ls[i+2].(*Act)
	if !ok1 || !ok2 || !ok3 || c.grp != 1 || a.A.Kind != ReLU || len(bn.in) != 3 {
		return fusedBlock{}, false
	}
	b := fusedBlock{conv: c, bn: bn, n: 3}
	if i+3 < len(ls) {
		if p, ok := ls[i+3].(*MaxPool2D); ok && p.k == 2 && p.stride == 2 {
			b.pool, b.n = true, 4
		}
	}
	return b, true
}

// FusedBlock reports whether Infer runs the layers from i on as one fused
// block (an ungrouped convolution, its BatchNorm, a ReLU and optionally a
// 2×2, stride-2 max pool) and how many layers the block spans (3, or 4
// with the pool). Callers that evaluate parts of a block themselves (a
// few of its units, or its output from a cached pre-activation) use it to
// reproduce Infer's structure.
func (n *Net) FusedBlock(i int) (layers int, ok bool) {
	if i < 0 || i >= len(n.Layers) {
		return 0, false
	}
	b, ok := n.fusedAt(i, len(n.Layers))
	return b.n, ok
}

// Infer runs the network on a batch for prediction only: evaluation-mode
// BatchNorm, nothing kept for a backward pass. A 3×3 (or any ungrouped)
// convolution followed by BatchNorm and ReLU, and a 2×2 max pool after
// them, run as one fused pass per image: the BatchNorm is folded into the
// filters and a bias, the ReLU and the pool are applied while the image's
// output is in cache, and the input is neither copied nor kept. Other
// layers run their evaluation-mode Forward. Outputs equal Forward(x,
// false)'s up to rounding (the folded BatchNorm rounds differently).
//
// Infer reuses the layers' buffers: after it, Output and Grad no longer
// describe the last Forward and Backward, and a Backward needs a new
// Forward first. The returned tensor is valid until the next pass.
func (n *Net) Infer(x *tensor.Tensor) *tensor.Tensor { return n.InferRange(x, 0, len(n.Layers)) }

// InferRange runs layers [lo, hi) as Infer does: x is the input of layer
// lo, the result the output of layer hi−1. Running [0, m) and then [m, end)
// gives Infer's result bitwise when m starts a layer that Infer would not
// fuse with the one before it, such as a producer (a convolution or a
// dense layer): a network's prefix up to a layer can thus be evaluated
// once and its suffix many times.
func (n *Net) InferRange(x *tensor.Tensor, lo, hi int) *tensor.Tensor {
	if lo < 0 || hi > len(n.Layers) || lo > hi {
		panic(fmt.Sprintf("nn: InferRange [%d, %d) of %d layers", lo, hi, len(n.Layers)))
	}
	if n.inf == nil {
		n.inf = &inferState{outs: map[int]*tensor.Tensor{}}
		n.inf.run = n.inferChunks
	}
	for i := lo; i < hi; {
		b, ok := n.fusedAt(i, hi)
		if !ok {
			x = n.Layers[i].Forward(x, false)
			i++
			continue
		}
		x = n.inferBlock(i, b, x)
		i += b.n
	}
	return x
}

// inferBlock runs fused block b (at layer i) on x.
func (n *Net) inferBlock(i int, b fusedBlock, x *tensor.Tensor) *tensor.Tensor {
	c, bn, s := b.conv, b.bn, n.inf
	c.check()
	if len(x.Shape) != 4 || x.Shape[1] != c.in[0] || x.Shape[2] != c.in[1] || x.Shape[3] != c.in[2] {
		panic(fmt.Sprintf("nn: Infer: convolution expects input (N,%d,%d,%d), got %v", c.in[0], c.in[1], c.in[2], x.Shape))
	}
	// Fold the BatchNorm: y = a·(W·p + bias − mean) + β, a = γ/√(var+eps).
	out, kg := c.out, c.W.Cols
	// On a 1×1 map with "same" padding only the centre taps see the
	// image: the convolution is a pointwise one with those weights.
	kk := c.k * c.k
	s.center = c.in[1] == 1 && c.in[2] == 1 && c.stride == 1 && c.pad == c.k/2 && kk > 1
	s.kg = kg
	if s.center {
		s.kg = c.in[0]
	}
	s.w = resize(s.w, out*s.kg)
	s.b = resize(s.b, out)
	s.a = resize(s.a, out)
	for o := 0; o < out; o++ {
		a := float32(float64(bn.Gamma.Data[o]) / math.Sqrt(float64(bn.RunVar[o])+bn.Eps))
		s.a[o] = a
		row := c.W.Data[o*kg : (o+1)*kg]
		if s.center {
			for j := range s.kg {
				s.w[o*s.kg+j] = a * row[j*kk+kk/2]
			}
		} else {
			for k, v := range row {
				s.w[o*kg+k] = a * v
			}
		}
		shift := -bn.RunMean[o]
		if c.B != nil {
			shift += c.B.Data[o]
		}
		s.b[o] = a*shift + bn.Beta.Data[o]
	}
	oh, ow := c.oh, c.ow
	if b.pool {
		oh, ow = oh/2, ow/2
	}
	s.y = tensor.Reshape(s.outs[i], x.Shape[0], out, oh, ow)
	s.outs[i] = s.y
	s.x, s.blk, s.n = x, b, x.Shape[0]
	if !s.center && c.denseMaps() {
		n.inferDense()
		s.x = nil
		return s.y
	}
	tensor.ParallelFor(min(s.n, gradChunks), s.run)
	s.x = nil
	return s.y
}

// inferGroupCols is the number of output positions below which Infer
// convolves several images with one GEMM: at the small feature maps of a
// network's later layers a per-image GEMM is mostly call overhead.
const inferGroupCols = 256

// inferChunks runs batch slices [lo, hi) of the current fused block.
func (n *Net) inferChunks(lo, hi int) {
	s := n.inf
	c := s.blk.conv
	nc := min(s.n, gradChunks)
	cin, h, w := c.in[0], c.in[1], c.in[2]
	p, kg, out := c.oh*c.ow, s.kg, c.out
	pw := c.pointwise() || s.center
	ysz := s.y.Len() / s.n
	group := max(1, inferGroupCols/p)
	for ch := lo; ch < hi; ch++ {
		sc := &s.scratch[ch]
		i0, i1 := ch*s.n/nc, (ch+1)*s.n/nc
		g := min(group, i1-i0)
		if !pw {
			sc.cols = resize(sc.cols, kg*p)
		}
		if s.blk.pool || g > 1 {
			sc.conv = resize(sc.conv, out*p*g)
		}
		if g > 1 {
			sc.wide = resize(sc.wide, kg*p*g)
		}
		for im := i0; im < i1; im += g {
			g := min(g, i1-im)
			if g > 1 {
				n.inferGroup(sc, im, g)
				continue
			}
			xi := s.x.Data[im*cin*h*w : (im+1)*cin*h*w]
			cols := xi
			if !pw {
				tensor.Im2Col(sc.cols, xi, cin, h, w, c.k, c.k, c.stride, c.pad)
				cols = sc.cols
			}
			yi := s.y.Data[im*ysz : (im+1)*ysz]
			if !s.blk.pool {
				tensor.Gemm(false, false, out, p, kg, 1, s.w, kg, cols, p, 0, yi, p)
				tensor.BiasReLU(yi, s.b, p)
				continue
			}
			tensor.Gemm(false, false, out, p, kg, 1, s.w, kg, cols, p, 0, sc.conv, p)
			tensor.BiasReLUMaxPool2(yi, sc.conv, s.b, c.oh, c.ow)
		}
	}
}

// inferGroup convolves images [im, im+g) with one GEMM: their patch
// matrices side by side (kg × g·p, each image's written in place by
// Im2ColLd), the outputs likewise (out × g·p), then the epilogue: pooled
// planes go straight from there to each image's output, others get their
// bias and ReLU in place and are copied out.
func (n *Net) inferGroup(sc *inferScratch, im, g int) {
	s := n.inf
	c := s.blk.conv
	cin, h, w := c.in[0], c.in[1], c.in[2]
	p, kg, out := c.oh*c.ow, s.kg, c.out
	gp := g * p
	ysz := s.y.Len() / s.n
	for j := 0; j < g; j++ {
		xi := s.x.Data[(im+j)*cin*h*w : (im+j+1)*cin*h*w]
		if !c.pointwise() && !s.center {
			tensor.Im2ColLd(sc.wide[j*p:], gp, xi, cin, h, w, c.k, c.k, c.stride, c.pad)
			continue
		}
		for r := 0; r < kg; r++ {
			copy(sc.wide[r*gp+j*p:r*gp+(j+1)*p], xi[r*p:(r+1)*p])
		}
	}
	tensor.Gemm(false, false, out, gp, kg, 1, s.w, kg, sc.wide, gp, 0, sc.conv, gp)
	if s.blk.pool {
		q := (c.oh / 2) * (c.ow / 2)
		for j := 0; j < g; j++ {
			yi := s.y.Data[(im+j)*ysz : (im+j+1)*ysz]
			for o := 0; o < out; o++ {
				tensor.BiasReLUMaxPool2(yi[o*q:(o+1)*q], sc.conv[o*gp+j*p:o*gp+(j+1)*p], s.b[o:o+1], c.oh, c.ow)
			}
		}
		return
	}
	for o := 0; o < out; o++ {
		tensor.BiasReLU(sc.conv[o*gp:(o+1)*gp], s.b[o:o+1], gp)
	}
	for j := 0; j < g; j++ {
		yi := s.y.Data[(im+j)*ysz : (im+j+1)*ysz]
		for o := 0; o < out; o++ {
			copy(yi[o*p:(o+1)*p], sc.conv[o*gp+j*p:o*gp+(j+1)*p])
		}
	}
}

// inferDense runs the current block on maps small enough for the
// convolution's dense matrix (Conv2D.denseMaps): the matrix is built from
// the filters, each filter's rows scaled by its BatchNorm factor (so its
// entries are the folded weights Infer uses elsewhere), and one GEMM over
// the batch, Y (N × out·P) = X (N × C·H·W) · bigᵀ, replaces the per-image
// patches and their copies; then the bias, ReLU and pool epilogue per
// image. The GEMM's entries are summed in an order fixed by the sizes, so
// the result does not depend on the thread count.
func (n *Net) inferDense() {
	s := n.inf
	c := s.blk.conv
	p, kin := c.oh*c.ow, c.in[0]*c.in[1]*c.in[2]
	op := c.out * p
	c.denseTaps(false) // big is scratch: Forward and Backward rebuild it
	for o, a := range s.a {
		row := c.big[o*p*kin : (o+1)*p*kin]
		for k, v := range row {
			row[k] = a * v
		}
	}
	dst := s.y.Data
	if s.blk.pool {
		s.conv = resize(s.conv, s.n*op)
		dst = s.conv
	}
	tensor.Gemm(false, true, s.n, op, kin, 1, s.x.Data, kin, c.big, kin, 0, dst, op)
	ysz := s.y.Len() / s.n
	for i := 0; i < s.n; i++ {
		yi := s.y.Data[i*ysz : (i+1)*ysz]
		if s.blk.pool {
			tensor.BiasReLUMaxPool2(yi, s.conv[i*op:(i+1)*op], s.b, c.oh, c.ow)
		} else {
			tensor.BiasReLU(yi, s.b, p)
		}
	}
}
