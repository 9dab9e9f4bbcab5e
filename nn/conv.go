package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/nadir-ml/nadir/tensor"
)

// gradChunks is the number of fixed batch slices whose parameter gradients
// are accumulated separately and then summed in slice order. It depends on
// nothing but the batch size, so gradients are bitwise the same for any
// thread count or schedule; 8 slices keep two to eight cores busy, at the
// price of 8 private copies of a convolution's weight gradient.
const gradChunks = 8

// patchCacheBytes bounds the im2col patches a Conv2D keeps from Forward
// for Backward and Patches, per layer. Keeping them saves Backward a
// second im2col of every image, at the price of memory and of memory
// traffic: the patches are up to k·k times the input, written once and
// read back by Backward, where a rebuilt per-slice buffer stays in cache.
// Which wins depends on the cost of im2col. Where tensor.FastIm2Col holds
// (stride 1 with AVX-512) rebuilding is nearly a copy from cache, and
// keeping LeNet's patches (7.4 and 25.6 MB at batch 128) made its train
// step 3-8% slower on a 2-core Zen 4, so those layers never keep them;
// with the portable im2col (stride 2, say) keeping them made a layer's
// step 10-17% faster. It is a variable so that tests can exercise both
// paths.
var patchCacheBytes = 64 << 20

// Conv2D is a 2-D convolution over NCHW batches with square kernels, stride
// and zero padding, optionally grouped.
//
// Weights W are out×(C/groups·k·k): row o is filter o, so with groups = 1 a
// row is one neuron's incoming weight vector θ_o over its im2col patch, and
// input channel j owns the column group [j·k·k, (j+1)·k·k) of every row.
// Ungrouped convolutions run as im2col followed by one Gemm per image;
// depthwise ones (groups = C = out, C ≥ 2) run the direct depthwise kernels;
// other groupings do im2col and Gemm per group.
//
// An ungrouped Conv2D is a Producer and a Consumer; a depthwise one is a
// Follower (its channels follow the producer before it). Calling surgery
// methods of a role the layer does not have panics.
type Conv2D struct {
	W, B *Param
	// Origin notes where the layer came from when growth inserted it.
	Origin string

	in                  [3]int // C, H, W
	out                 int    // filters
	k, stride, pad, grp int
	depthwise           bool
	oh, ow              int

	x, y, dx *tensor.Tensor // x: copy of the last input
	src      []float32      // the input being copied into x, during Forward
	skipDx   bool           // Backward forms no input gradient (first layer)
	skipDW   bool           // Backward forms no parameter gradients (statistics passes)
	dy       []float32      // the gradient being back-propagated
	n        int            // batch size of the current pass
	chunks   []convScratch
	// cols holds the im2col patches of every image of the last Forward
	// (colLen floats each) when colsValid; see patchCacheBytes.
	cols      []float32
	colLen    int
	colsValid bool
	// wc holds the centre taps of W (out × C) for centreOnly layers.
	wc []float32
	// wt holds the flipped, transposed filters (C × out·k·k) for
	// dxByCorrelation.
	wt []float32
	// big is the convolution as a dense (out·P) × (C·H·W) matrix and
	// dbig its gradient, for denseMaps layers; denseOff and denseStart
	// list the entries of each kernel tap (see denseTaps).
	big, dbig            []float32
	denseOff, denseStart []int
	// Method values bound once, so that ParallelFor gets no new closure
	// per call.
	fwd, bwd, sum func(lo, hi int)
}

// convScratch is one batch slice's private buffers.
type convScratch struct {
	cols, dcols []float32 // im2col patches (when not cached) and their gradient
	dW, db      []float32 // the slice's parameter gradients
	// Several images' patches side by side (kg × g·p), their gradient,
	// and their outputs or output gradients (out × g·p); see groupImages.
	wide, dwide, ywide []float32
	dWt                []float32 // dWᵀ (kg × out) when narrowFilters
}

// narrowDW enables the transposed weight gradient of narrowFilters; tests
// turn it off to compare.
var narrowDW = true

// narrowFilters reports whether a filter has fewer than 16 weights (a
// 3×3 convolution of a one-channel image): dW = dY·colsᵀ would then be a
// GEMM only kg columns wide, which the vector kernels fill badly, so
// Backward forms dWᵀ = cols·dYᵀ instead (out columns) and transposes it
// once per batch slice.
func (c *Conv2D) narrowFilters() bool {
	return narrowDW && c.grp == 1 && !c.depthwise && c.W.Cols < 16 && c.out >= 16
}

// Convolutions whose maps have at most convGroupMaxCols output positions
// multiply several images' patches in one GEMM (convGroupCols positions,
// as Net.Infer does): on the 3×3 and 1×1 maps of a network's last layers a
// per-image GEMM is mostly call and packing overhead (grouping made those
// layers' forward and backward 20-40% cheaper at width 16), while on 7×7
// maps the extra copies cost more than they save. Which images share a
// GEMM depends only on the batch size, so results stay independent of the
// thread count. A variable so that tests can exercise both paths.
var convGroupMaxCols = 16

const convGroupCols = 256

// centreTaps enables the pointwise path of centreOnly layers; tests turn
// it off to compare with the general one.
var centreTaps = true

// centreOnly reports whether only the centre tap of each filter sees the
// image: a 1×1 map, stride 1 and "same" padding of an odd kernel (the last
// layers of a VGG-style network after four pools). The convolution is then
// a pointwise one with the centre taps as weights, which Forward and
// Backward run as one GEMM per batch slice over C inputs instead of k²·C
// mostly-zero patch rows per image.
func (c *Conv2D) centreOnly() bool {
	return centreTaps && c.grp == 1 && c.in[1] == 1 && c.in[2] == 1 && c.stride == 1 && c.k > 1 && c.k%2 == 1 && c.pad == c.k/2
}

// dxCorrelate enables dxByCorrelation; tests turn it off to compare.
var dxCorrelate = true

// dxByCorrelation reports whether Backward works per image from one
// matrix D = im2col(dY) (out·k·k × H·W, padding k−1−pad: at stride 1 its
// columns are the input positions): the input gradient is the correlation
// of dY with the flipped filters, dX = wt·D with wt the C × out·k·k
// flipped, transposed filters, and the weight gradient is D·Xᵀ with its
// taps flipped back. The general path builds im2col(X) for dW = dY·colsᵀ
// and forms dcols = Wᵀ·dY, a GEMM with only out terms per entry that
// writes C·k·k rows which col2im then adds k·k-fold into the image; here
// one im2col (a masked copy) feeds both GEMMs, which have out·k·k terms
// per entry, and dX is written once. That needs stride 1, the fast im2col
// and out ≤ C (D has out·k·k rows).
func (c *Conv2D) dxByCorrelation() bool {
	return dxCorrelate && c.grp == 1 && !c.depthwise && !c.pointwise() && c.stride == 1 && c.pad <= c.k-1 &&
		!c.skipDx && c.out <= c.in[0] && tensor.FastIm2Col(c.k, 1, c.in[2])
}

// gatherFlipped writes c.wt[ci][(o·k+a)·k+b] = W[o][ci][k−1−a][k−1−b].
func (c *Conv2D) gatherFlipped() {
	cin, kk := c.in[0], c.k*c.k
	ok := c.out * kk
	c.wt = resize(c.wt, cin*ok)
	for o := 0; o < c.out; o++ {
		for ci := 0; ci < cin; ci++ {
			src := c.W.Data[o*c.W.Cols+ci*kk : o*c.W.Cols+(ci+1)*kk]
			dst := c.wt[ci*ok+o*kk : ci*ok+(o+1)*kk]
			for t := range kk {
				dst[t] = src[kk-1-t]
			}
		}
	}
}

// denseMaxPlane bounds the input and output planes (positions) of a
// denseMaps layer; 0 turns the path off (tests compare).
var denseMaxPlane = 16

// denseMaps reports whether the layer runs as one dense matrix over whole
// images: on maps this small (the 3×3 maps after three pools) a
// convolution is a (out·P) × (C·H·W) matrix that is only moderately
// sparse (a 3×3 kernel on a padded 3×3 map reaches 49 of the 81 position
// pairs, the same zero taps that im2col multiplies; an input plane of at
// most k·k positions keeps the flops at most im2col's), so the batch in NCHW
// order is already the GEMM operand: Y (N × out·P) = X (N × C·H·W) · bigᵀ,
// dX = dY · big and dbig = dYᵀ · X, one GEMM each over the batch with no
// patches, copies or per-slice buffers. The weight gradient is then
// gathered from dbig tap by tap. Each product's entries are computed in an
// order fixed by the sizes, so results do not depend on the thread count.
func (c *Conv2D) denseMaps() bool {
	hw := c.in[1] * c.in[2]
	return c.grp == 1 && !c.depthwise && !c.pointwise() && !c.centreOnly() &&
		c.oh*c.ow <= denseMaxPlane && hw <= denseMaxPlane && hw <= c.k*c.k &&
		c.out*c.oh*c.ow*c.in[0]*hw <= denseMaxFloats
}

// denseMaxFloats bounds big (16 MB): it holds P·H·W/(k·k) times W's
// weights, up to 16 times.
const denseMaxFloats = 1 << 22

// denseTaps links every weight tap t of filter o and input channel ci
// with the (output position q, input position r) pairs it connects, entry
// (o·P+q, ci·H·W+r) of big: it writes W into big (clearing big first), or,
// with gather, adds those entries of dbig, summed in a fixed order, into
// W.Grad. The pairs of each kernel tap depend only on the geometry and
// are listed once per call as offsets q·C·H·W + r.
func (c *Conv2D) denseTaps(gather bool) {
	cin, h, w, k := c.in[0], c.in[1], c.in[2], c.k
	p, hw, kin, kk := c.oh*c.ow, h*w, cin*h*w, k*k
	c.denseOff = c.denseOff[:0]
	c.denseStart = append(c.denseStart[:0], 0)
	for ki := 0; ki < k; ki++ {
		for kj := 0; kj < k; kj++ {
			for oy := 0; oy < c.oh; oy++ {
				iy := oy*c.stride + ki - c.pad
				if iy < 0 || iy >= h {
					continue
				}
				for ox := 0; ox < c.ow; ox++ {
					if ix := ox*c.stride + kj - c.pad; ix >= 0 && ix < w {
						c.denseOff = append(c.denseOff, (oy*c.ow+ox)*kin+iy*w+ix)
					}
				}
			}
			c.denseStart = append(c.denseStart, len(c.denseOff))
		}
	}
	if !gather {
		c.big = resize(c.big, c.out*p*kin)
		clear(c.big)
	}
	big, dbig, wd, g, off, st := c.big, c.dbig, c.W.Data, c.W.Grad, c.denseOff, c.denseStart
	for o := 0; o < c.out; o++ {
		for ci := 0; ci < cin; ci++ {
			base, t0 := o*p*kin+ci*hw, o*c.W.Cols+ci*kk
			for tap := 0; tap < kk; tap++ {
				offs := off[st[tap]:st[tap+1]]
				if gather {
					var sum float32
					for _, e := range offs {
						sum += dbig[base+e]
					}
					g[t0+tap] += sum
					continue
				}
				v := wd[t0+tap]
				for _, e := range offs {
					big[base+e] = v
				}
			}
		}
	}
}

// forwardDense is Forward for denseMaps layers.
func (c *Conv2D) forwardDense() {
	n, kin, op := c.n, c.in[0]*c.in[1]*c.in[2], c.out*c.oh*c.ow
	copy(c.x.Data, c.src)
	c.denseTaps(false)
	tensor.Gemm(false, true, n, op, kin, 1, c.x.Data, kin, c.big, kin, 0, c.y.Data, op)
	if c.B != nil {
		for i := 0; i < n; i++ {
			tensor.AddPlaneBias(c.y.Data[i*op:(i+1)*op], c.B.Data, c.oh*c.ow)
		}
	}
}

// backwardDense is Backward for denseMaps layers.
func (c *Conv2D) backwardDense() {
	n, kin, op, p := c.n, c.in[0]*c.in[1]*c.in[2], c.out*c.oh*c.ow, c.oh*c.ow
	c.denseTaps(false)
	if !c.skipDW {
		c.dbig = resize(c.dbig, op*kin)
		tensor.Gemm(true, false, op, kin, n, 1, c.dy, op, c.x.Data, kin, 0, c.dbig, kin)
		c.denseTaps(true)
	}
	if c.B != nil && !c.skipDW {
		s := &c.chunks[0]
		s.db = resize(s.db, c.out)
		clear(s.db)
		for i := 0; i < n; i++ {
			tensor.AddPlaneSums(s.db, c.dy[i*op:(i+1)*op], p)
		}
		for o, v := range s.db {
			c.B.Grad[o] += v
		}
	}
	if !c.skipDx {
		tensor.Gemm(false, false, n, kin, op, 1, c.dy, op, c.big, kin, 0, c.dx.Data, kin)
	}
}

// gatherCentre copies the centre taps of W into c.wc.
func (c *Conv2D) gatherCentre() {
	kk, cin := c.k*c.k, c.in[0]
	c.wc = resize(c.wc, c.out*cin)
	for o := 0; o < c.out; o++ {
		for j := 0; j < cin; j++ {
			c.wc[o*cin+j] = c.W.Data[o*c.W.Cols+j*kk+kk/2]
		}
	}
}

// forwardCentre is forwardChunks for images [n0, n1) of a centreOnly
// layer: Y (images × out) = X (images × C) · Wcᵀ.
func (c *Conv2D) forwardCentre(n0, n1 int) {
	cin, out := c.in[0], c.out
	copy(c.x.Data[n0*cin:n1*cin], c.src[n0*cin:n1*cin])
	y := c.y.Data[n0*out : n1*out]
	tensor.Gemm(false, true, n1-n0, out, cin, 1, c.x.Data[n0*cin:], cin, c.wc, cin, 0, y, out)
	if c.B != nil {
		for i := n0; i < n1; i++ {
			tensor.AddPlaneBias(c.y.Data[i*out:(i+1)*out], c.B.Data, 1)
		}
	}
}

// backwardCentre is backwardChunks for images [n0, n1) of a centreOnly
// layer: dWc = dYᵀ·X into the centre taps of the slice's dW, dX = dY·Wc.
func (c *Conv2D) backwardCentre(s *convScratch, n0, n1 int) {
	cin, out, kk := c.in[0], c.out, c.k*c.k
	g := n1 - n0
	x, dy := c.x.Data[n0*cin:n1*cin], c.dy[n0*out:n1*out]
	if !c.skipDW {
		s.dcols = resize(s.dcols, out*cin)
		tensor.Gemm(true, false, out, cin, g, 1, dy, out, x, cin, 0, s.dcols, cin)
		for o := 0; o < out; o++ {
			for j := 0; j < cin; j++ {
				s.dW[o*c.W.Cols+j*kk+kk/2] += s.dcols[o*cin+j]
			}
		}
	}
	if s.db != nil && !c.skipDW {
		for i := 0; i < g; i++ {
			tensor.AddPlaneSums(s.db, dy[i*out:(i+1)*out], 1)
		}
	}
	if !c.skipDx {
		tensor.Gemm(false, false, g, cin, out, 1, dy, out, c.wc, cin, 0, c.dx.Data[n0*cin:n1*cin], cin)
	}
}

// groupImages is the number of images one GEMM covers: 1 for per-image
// GEMMs (large maps, cached patches, grouped and depthwise convolutions).
func (c *Conv2D) groupImages() int {
	p := c.oh * c.ow
	if c.grp != 1 || c.pointwise() || c.colsValid || p > convGroupMaxCols || c.centreOnly() {
		return 1
	}
	return min(convGroupCols/p, (c.n+gradChunks-1)/gradChunks)
}

// NewConv2D makes a convolution of per-example input in = (C, H, W) with out
// filters of size kernel×kernel. Weights and bias are drawn uniformly from
// ±1/sqrt(fan-in), fan-in = C/groups·kernel² (PyTorch's default
// Kaiming-uniform); r may be nil for zero parameters that a caller
// overwrites.
func NewConv2D(in []int, out, kernel, stride, pad, groups int, bias bool, r *rand.Rand) (*Conv2D, error) {
	if len(in) != 3 || in[0] < 1 || in[1] < 1 || in[2] < 1 {
		return nil, fmt.Errorf("conv2d: input shape %v is not (C,H,W) with positive sizes", in)
	}
	switch {
	case out < 1:
		return nil, fmt.Errorf("conv2d: %d filters; need at least 1", out)
	case kernel < 1:
		return nil, fmt.Errorf("conv2d: kernel size %d; need at least 1", kernel)
	case stride < 1:
		return nil, fmt.Errorf("conv2d: stride %d; need at least 1", stride)
	case pad < 0:
		return nil, fmt.Errorf("conv2d: negative padding %d", pad)
	case groups < 1:
		return nil, fmt.Errorf("conv2d: %d groups; need at least 1", groups)
	case in[0]%groups != 0:
		return nil, fmt.Errorf("conv2d: input has %d channels, not divisible by groups %d", in[0], groups)
	case out%groups != 0:
		return nil, fmt.Errorf("conv2d: %d filters not divisible by groups %d", out, groups)
	}
	oh, ow := tensor.ConvOutSize(in[1], kernel, stride, pad), tensor.ConvOutSize(in[2], kernel, stride, pad)
	if oh < 1 || ow < 1 {
		return nil, fmt.Errorf("conv2d: kernel %d does not fit the %dx%d input padded by %d", kernel, in[1], in[2], pad)
	}
	c := &Conv2D{
		in: [3]int{in[0], in[1], in[2]}, out: out, k: kernel, stride: stride, pad: pad, grp: groups,
		depthwise: groups > 1 && groups == in[0] && groups == out,
		oh:        oh, ow: ow,
	}
	fan := in[0] / groups * kernel * kernel
	c.W = NewParam("W", out, fan)
	if bias {
		c.B = NewParam("b", out, 1)
		c.B.NoDecay = true
	}
	if r != nil {
		bound := 1 / math.Sqrt(float64(fan))
		for _, p := range c.Params() {
			for i := range p.Data {
				p.Data[i] = float32((2*r.Float64() - 1) * bound)
			}
		}
	}
	c.fwd, c.bwd, c.sum = c.forwardChunks, c.backwardChunks, c.sumGrads
	return c, nil
}

func init() {
	builders["conv2d"] = func(s LayerSpec, r *rand.Rand) (Layer, error) {
		return asLayer(NewConv2D(s.In, s.Out, s.Kernel, s.Stride, s.Pad, max(s.Groups, 1), s.Bias, r))
	}
}

// Spec describes the layer; Groups equals the channel count for depthwise
// convolutions, also after surgery.
func (c *Conv2D) Spec() LayerSpec {
	return LayerSpec{Kind: "conv2d", In: []int{c.in[0], c.in[1], c.in[2]}, Out: c.out, Kernel: c.k, Stride: c.stride,
		Pad: c.pad, Groups: c.grp, Bias: c.B != nil, Origin: c.Origin}
}

// OutShape is (filters, outH, outW).
func (c *Conv2D) OutShape() []int { return []int{c.out, c.oh, c.ow} }

// OutHW is the output's spatial size.
func (c *Conv2D) OutHW() (h, w int) { return c.oh, c.ow }

// SetIn records the per-example input shape (C, H, W). The channel count
// must agree with the weights, which surgery resizes; Forward checks. A
// shape that is not (C,H,W), or too small for the kernel, gives an empty
// OutShape, which Net.Validate reports as an error.
func (c *Conv2D) SetIn(in []int) {
	c.colsValid = false
	c.in = shape3(in)
	c.oh = tensor.ConvOutSize(c.in[1], c.k, c.stride, c.pad)
	c.ow = tensor.ConvOutSize(c.in[2], c.k, c.stride, c.pad)
}

// shape3 is in as (C, H, W), or all zeros when it is not three sizes.
func shape3(in []int) [3]int {
	if len(in) != 3 {
		return [3]int{}
	}
	return [3]int{in[0], in[1], in[2]}
}

// Params is W, then b when the layer has a bias.
func (c *Conv2D) Params() []*Param {
	if c.B == nil {
		return []*Param{c.W}
	}
	return []*Param{c.W, c.B}
}

// Depthwise reports whether the layer convolves each channel separately
// (groups = C = out).
func (c *Conv2D) Depthwise() bool { return c.depthwise }

// Groups is the number of channel groups.
func (c *Conv2D) Groups() int { return c.grp }

// check panics when the weights disagree with the recorded shapes, which
// only a bug in surgery can cause.
func (c *Conv2D) check() {
	cg := c.in[0] / c.grp
	if c.in[0]%c.grp != 0 || c.out%c.grp != 0 || c.W.Rows != c.out || c.W.Cols != cg*c.k*c.k ||
		(c.B != nil && c.B.Rows != c.out) || c.oh < 1 || c.ow < 1 {
		panic(fmt.Sprintf("nn: conv2d weights %dx%d inconsistent with input %v, %d filters, groups %d, kernel %d",
			c.W.Rows, c.W.Cols, c.in, c.out, c.grp, c.k))
	}
}

// pointwise convolutions need no im2col: the patches are the image itself.
func (c *Conv2D) pointwise() bool { return c.k == 1 && c.stride == 1 && c.pad == 0 }

// prepare sizes the per-slice buffers for a batch of n.
func (c *Conv2D) prepare(n int) int {
	c.n = n
	nc := min(n, gradChunks)
	if len(c.chunks) < nc {
		c.chunks = append(c.chunks, make([]convScratch, nc-len(c.chunks))...)
	}
	kg := c.W.Cols
	p := c.oh * c.ow
	g := c.groupImages()
	for i := range c.chunks[:nc] {
		s := &c.chunks[i]
		if !c.depthwise && !c.pointwise() {
			if !c.colsValid {
				s.cols = resize(s.cols, kg*p)
			}
			if c.dxByCorrelation() && g == 1 {
				s.dcols = resize(s.dcols, c.out*c.k*c.k*c.in[1]*c.in[2])
			} else {
				s.dcols = resize(s.dcols, kg*p)
			}
		}
		if g > 1 {
			s.wide = resize(s.wide, kg*g*p)
			s.dwide = resize(s.dwide, kg*g*p)
			s.ywide = resize(s.ywide, c.out*g*p)
		}
		s.dW = resize(s.dW, c.W.Len())
		if c.B != nil {
			s.db = resize(s.db, c.out)
		}
	}
	return nc
}

// resize returns s with length n, reallocating only when it is too small.
func resize(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// chunkRange is the images of batch slice ch out of nc.
func (c *Conv2D) chunkRange(ch, nc int) (int, int) { return ch * c.n / nc, (ch + 1) * c.n / nc }

// Forward convolves the batch x (N, C, H, W) and caches a copy of it for
// Backward and Patches, with its im2col patches where im2col is slow and
// they take at most patchCacheBytes.
func (c *Conv2D) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	c.check()
	if len(x.Shape) != 4 || x.Shape[1] != c.in[0] || x.Shape[2] != c.in[1] || x.Shape[3] != c.in[2] {
		panic(fmt.Sprintf("nn: conv2d expects input (N,%d,%d,%d), got %v", c.in[0], c.in[1], c.in[2], x.Shape))
	}
	n := x.Shape[0]
	c.x = tensor.Reshape(c.x, x.Shape...)
	c.src = x.Data[:x.Len()]
	c.y = tensor.Reshape(c.y, n, c.out, c.oh, c.ow)
	c.colsValid = false
	if !c.depthwise && !c.pointwise() && !tensor.FastIm2Col(c.k, c.stride, c.ow) {
		c.colLen = c.in[0] * c.k * c.k * c.oh * c.ow
		if n*c.colLen <= patchCacheBytes/4 {
			c.cols = resize(c.cols, n*c.colLen)
			c.colsValid = true
		}
	}
	if c.centreOnly() {
		c.gatherCentre()
	}
	if c.denseMaps() {
		c.n, c.colsValid = n, false
		c.forwardDense()
		c.src = nil
		return c.y
	}
	tensor.ParallelFor(c.prepare(n), c.fwd)
	c.src = nil
	return c.y
}

func (c *Conv2D) forwardChunks(lo, hi int) {
	nc := min(c.n, gradChunks)
	cin, h, w := c.in[0], c.in[1], c.in[2]
	p := c.oh * c.ow
	og, kg := c.out/c.grp, c.W.Cols
	group := c.groupImages()
	for ch := lo; ch < hi; ch++ {
		s := &c.chunks[ch]
		n0, n1 := c.chunkRange(ch, nc)
		if c.centreOnly() {
			c.forwardCentre(n0, n1)
			continue
		}
		for i := n0; i < n1; i++ {
			if group > 1 {
				g := min(group, n1-i)
				c.forwardGroup(s, i, g)
				i += g - 1
				continue
			}
			// Each image is copied here rather than the batch before
			// the loop: the copy is shared by the threads and leaves
			// the image in cache for the kernels.
			xi := c.x.Data[i*cin*h*w : (i+1)*cin*h*w]
			copy(xi, c.src[i*cin*h*w:(i+1)*cin*h*w])
			yi := c.y.Data[i*c.out*p : (i+1)*c.out*p]
			if c.depthwise {
				tensor.DepthwiseForward(yi, xi, c.W.Data, cin, h, w, c.k, c.k, c.stride, c.pad)
			} else {
				if c.colsValid {
					// All groups' patches at once: they are the
					// groups' row blocks of the image's matrix.
					tensor.Im2Col(c.cols[i*c.colLen:(i+1)*c.colLen], xi, cin, h, w, c.k, c.k, c.stride, c.pad)
				}
				for g := 0; g < c.grp; g++ {
					cols := c.patches(s.cols, xi, i, g)
					tensor.Gemm(false, false, og, p, kg, 1, c.W.Data[g*og*kg:], kg, cols, p, 0, yi[g*og*p:], p)
				}
			}
			if c.B != nil {
				tensor.AddPlaneBias(yi, c.B.Data, p)
			}
		}
	}
}

// widePatches copies images [i0, i0+g) into c.x and writes their im2col
// matrices side by side into s.wide (kg × g·p).
func (c *Conv2D) widePatches(s *convScratch, i0, g int, copyIn bool) {
	cin, h, w := c.in[0], c.in[1], c.in[2]
	chw, p, kg := cin*h*w, c.oh*c.ow, c.W.Cols
	gp := g * p
	for j := 0; j < g; j++ {
		i := i0 + j
		xi := c.x.Data[i*chw : (i+1)*chw]
		if copyIn {
			copy(xi, c.src[i*chw:(i+1)*chw])
		}
		tensor.Im2Col(s.cols, xi, cin, h, w, c.k, c.k, c.stride, c.pad)
		for r := 0; r < kg; r++ {
			copy(s.wide[r*gp+j*p:r*gp+(j+1)*p], s.cols[r*p:(r+1)*p])
		}
	}
}

// forwardGroup convolves images [i0, i0+g) with one GEMM (groups = 1).
func (c *Conv2D) forwardGroup(s *convScratch, i0, g int) {
	p, kg, out := c.oh*c.ow, c.W.Cols, c.out
	gp := g * p
	c.widePatches(s, i0, g, true)
	tensor.Gemm(false, false, out, gp, kg, 1, c.W.Data, kg, s.wide, gp, 0, s.ywide, gp)
	for j := 0; j < g; j++ {
		yi := c.y.Data[(i0+j)*out*p : (i0+j+1)*out*p]
		for o := 0; o < out; o++ {
			copy(yi[o*p:(o+1)*p], s.ywide[o*gp+j*p:o*gp+(j+1)*p])
		}
		if c.B != nil {
			tensor.AddPlaneBias(yi, c.B.Data, p)
		}
	}
}

// backwardGroup is Backward's work for images [i0, i0+g) with one GEMM
// per product: dW += dY·wideᵀ over all g·p positions, dwide = Wᵀ·dY.
func (c *Conv2D) backwardGroup(s *convScratch, i0, g int) {
	cin, h, w := c.in[0], c.in[1], c.in[2]
	chw, p, kg, out := cin*h*w, c.oh*c.ow, c.W.Cols, c.out
	gp := g * p
	for j := 0; j < g; j++ {
		dyi := c.dy[(i0+j)*out*p : (i0+j+1)*out*p]
		for o := 0; o < out; o++ {
			copy(s.ywide[o*gp+j*p:o*gp+(j+1)*p], dyi[o*p:(o+1)*p])
		}
		if s.db != nil && !c.skipDW {
			tensor.AddPlaneSums(s.db, dyi, p)
		}
	}
	if !c.skipDW {
		c.widePatches(s, i0, g, false)
		tensor.Gemm(false, true, out, kg, gp, 1, s.ywide, gp, s.wide, gp, 1, s.dW, kg)
	}
	if c.skipDx {
		return
	}
	tensor.Gemm(true, false, kg, gp, out, 1, c.W.Data, kg, s.ywide, gp, 0, s.dwide, gp)
	for j := 0; j < g; j++ {
		for r := 0; r < kg; r++ {
			copy(s.dcols[r*p:(r+1)*p], s.dwide[r*gp+j*p:r*gp+(j+1)*p])
		}
		dxi := c.dx.Data[(i0+j)*chw : (i0+j+1)*chw]
		clear(dxi)
		tensor.Col2Im(dxi, s.dcols, cin, h, w, c.k, c.k, c.stride, c.pad)
	}
}

// patches returns the im2col matrix of group g of image i (whose input is
// xi): the image itself for a pointwise convolution, its block of the
// cached patches, or else built in buf.
func (c *Conv2D) patches(buf, xi []float32, i, g int) []float32 {
	hw := c.in[1] * c.in[2]
	cg := c.in[0] / c.grp
	c0 := g * cg
	switch {
	case c.pointwise():
		return xi[c0*hw : (c0+cg)*hw]
	case c.colsValid:
		kg := c.W.Cols * c.oh * c.ow
		return c.cols[i*c.colLen+g*kg : i*c.colLen+(g+1)*kg]
	}
	tensor.Im2Col(buf, xi[c0*hw:(c0+cg)*hw], cg, c.in[1], c.in[2], c.k, c.k, c.stride, c.pad)
	return buf
}

// Backward adds the gradients of W and b into their Grad and returns
// dL/dx. Each of up to gradChunks batch slices accumulates into its own
// buffers; the slices are summed in order afterwards.
func (c *Conv2D) Backward(dy *tensor.Tensor) *tensor.Tensor {
	if c.x == nil {
		panic("nn: conv2d Backward before Forward")
	}
	c.check()
	if dy.Len() != c.y.Len() {
		panic(fmt.Sprintf("nn: conv2d output gradient has shape %v, output is %v", dy.Shape, c.y.Shape))
	}
	c.dy = dy.Data[:dy.Len()]
	c.dx = tensor.Reshape(c.dx, c.x.Shape...)
	if c.centreOnly() {
		c.gatherCentre()
	}
	if c.denseMaps() {
		c.n = c.x.Shape[0]
		if len(c.chunks) == 0 {
			c.chunks = make([]convScratch, 1)
		}
		c.backwardDense()
		c.dy = nil
		if c.skipDx {
			return nil
		}
		return c.dx
	}
	if c.dxByCorrelation() && c.groupImages() == 1 {
		c.gatherFlipped()
	}
	tensor.ParallelFor(c.prepare(c.x.Shape[0]), c.bwd)
	switch {
	case c.skipDW:
	case c.W.Len() < 1<<14:
		c.sum(0, c.W.Len())
	default:
		tensor.ParallelFor(c.W.Len(), c.sum)
	}
	if c.B != nil && !c.skipDW {
		nc := min(c.n, gradChunks)
		for o := range c.B.Grad {
			g := c.B.Grad[o]
			for ch := range c.chunks[:nc] {
				g += c.chunks[ch].db[o]
			}
			c.B.Grad[o] = g
		}
	}
	c.dy = nil
	if c.skipDx {
		return nil
	}
	return c.dx
}

// SkipInputGrad stops Backward from forming dL/dx (it returns nil): the
// first layer's input gradient is a third of its backward and unused.
func (c *Conv2D) SkipInputGrad(skip bool) { c.skipDx = skip }

// SkipParamGrad stops Backward from forming the gradients of W and b
// (their Grad is left as it is); dL/dx is unchanged, bitwise.
func (c *Conv2D) SkipParamGrad(skip bool) { c.skipDW = skip }

func (c *Conv2D) backwardChunks(lo, hi int) {
	nc := min(c.n, gradChunks)
	cin, h, w := c.in[0], c.in[1], c.in[2]
	p := c.oh * c.ow
	cg, og, kg := cin/c.grp, c.out/c.grp, c.W.Cols
	group := c.groupImages()
	corr := group == 1 && c.dxByCorrelation()
	for ch := lo; ch < hi; ch++ {
		s := &c.chunks[ch]
		clear(s.dW)
		clear(s.db)
		narrow := c.narrowFilters() && group == 1
		if narrow || corr {
			s.dWt = resize(s.dWt, c.W.Len())
			clear(s.dWt)
		}
		n0, n1 := c.chunkRange(ch, nc)
		if c.centreOnly() {
			c.backwardCentre(s, n0, n1)
			continue
		}
		for i := n0; i < n1; i++ {
			if group > 1 {
				g := min(group, n1-i)
				c.backwardGroup(s, i, g)
				i += g - 1
				continue
			}
			xi := c.x.Data[i*cin*h*w : (i+1)*cin*h*w]
			dxi := c.dx.Data[i*cin*h*w : (i+1)*cin*h*w]
			dyi := c.dy[i*c.out*p : (i+1)*c.out*p]
			if c.depthwise {
				if !c.skipDW {
					tensor.DepthwiseBackwardFilter(s.dW, dyi, xi, cin, h, w, c.k, c.k, c.stride, c.pad)
				}
				if !c.skipDx {
					clear(dxi)
					tensor.DepthwiseBackwardInput(dxi, dyi, c.W.Data, cin, h, w, c.k, c.k, c.stride, c.pad)
				}
			} else if corr {
				// D = im2col(dY) serves both products (grp == 1):
				// dWflip (out·k·k × C) += D · Xᵀ and dX = wt · D.
				hw, okk := h*w, c.out*c.k*c.k
				tensor.Im2Col(s.dcols, dyi, c.out, c.oh, c.ow, c.k, c.k, 1, c.k-1-c.pad)
				if !c.skipDW {
					tensor.Gemm(false, true, okk, cin, hw, 1, s.dcols, hw, xi, hw, 1, s.dWt, cin)
				}
				tensor.Gemm(false, false, cin, hw, okk, 1, c.wt, okk, s.dcols, hw, 0, dxi, hw)
			} else {
				for g := 0; g < c.grp; g++ {
					dyg := dyi[g*og*p : (g+1)*og*p]
					wg := c.W.Data[g*og*kg : (g+1)*og*kg]
					// dW_g += dY_g · colsᵀ; dcols = W_gᵀ · dY_g.
					switch {
					case c.skipDW:
					case narrow:
						cols := c.patches(s.cols, xi, i, g)
						tensor.Gemm(false, true, kg, og, p, 1, cols, p, dyg, p, 1, s.dWt, og)
					default:
						cols := c.patches(s.cols, xi, i, g)
						tensor.Gemm(false, true, og, kg, p, 1, dyg, p, cols, p, 1, s.dW[g*og*kg:], kg)
					}
					if c.skipDx {
						continue
					}
					dxg := dxi[g*cg*h*w : (g+1)*cg*h*w]
					if c.pointwise() {
						tensor.Gemm(true, false, kg, p, og, 1, wg, kg, dyg, p, 0, dxg, p)
						continue
					}
					tensor.Gemm(true, false, kg, p, og, 1, wg, kg, dyg, p, 0, s.dcols, p)
					clear(dxg)
					tensor.Col2Im(dxg, s.dcols, cg, h, w, c.k, c.k, c.stride, c.pad)
				}
			}
			if s.db != nil && !c.skipDW {
				tensor.AddPlaneSums(s.db, dyi, p)
			}
		}
		if c.skipDW {
			continue
		}
		if narrow {
			for o := 0; o < og; o++ {
				for t := 0; t < kg; t++ {
					s.dW[o*kg+t] = s.dWt[t*og+o]
				}
			}
		}
		if corr {
			// dW[o][ci][kk−1−t] = dWflip[o·k·k+t][ci].
			kk := c.k * c.k
			for o := 0; o < c.out; o++ {
				for ci := 0; ci < cin; ci++ {
					for t := 0; t < kk; t++ {
						s.dW[o*kg+ci*kk+kk-1-t] = s.dWt[(o*kk+t)*cin+ci]
					}
				}
			}
		}
	}
}

// sumGrads adds the slices' weight gradients into W.Grad in slice order.
func (c *Conv2D) sumGrads(lo, hi int) {
	nc := min(c.n, gradChunks)
	g := c.W.Grad
	for i := lo; i < hi; i++ {
		v := g[i]
		for ch := range c.chunks[:nc] {
			v += c.chunks[ch].dW[i]
		}
		g[i] = v
	}
}

// Patches returns the im2col patches of example n of the last Forward's
// input over all input channels: a (C·k·k)×(outH·outW) row-major matrix
// whose column h·outW+w is the patch p(n,h,w) that output position (h, w)
// sees (for groups = 1, the vector every filter's θ multiplies). dst is
// reused when large enough. After a Forward that kept its patches this is
// a copy.
func (c *Conv2D) Patches(dst []float32, n int) []float32 {
	if c.x == nil {
		panic("nn: conv2d Patches before Forward")
	}
	if n < 0 || n >= c.x.Shape[0] {
		panic(fmt.Sprintf("nn: conv2d Patches: example %d out of range [0,%d)", n, c.x.Shape[0]))
	}
	cin, h, w := c.x.Shape[1], c.x.Shape[2], c.x.Shape[3]
	full := cin * c.k * c.k * c.oh * c.ow
	dst = resize(dst, full)
	if c.colsValid && c.colLen == full {
		copy(dst, c.cols[n*full:(n+1)*full])
		return dst
	}
	tensor.Im2Col(dst, c.x.Data[n*cin*h*w:(n+1)*cin*h*w], cin, h, w, c.k, c.k, c.stride, c.pad)
	return dst
}

func (c *Conv2D) mustProduce(op string) {
	if c.grp != 1 {
		panic(fmt.Sprintf("nn: conv2d %s: a convolution with %d groups has no neurons of its own", op, c.grp))
	}
}

// Units is the number of filters (groups = 1 only, as for all Producer and
// Consumer methods).
func (c *Conv2D) Units() int { c.mustProduce("Units"); return c.out }

// FanIn is C·k·k, the length of one filter, as the input shape implies.
func (c *Conv2D) FanIn() int { c.mustProduce("FanIn"); return c.in[0] * c.k * c.k }

// Weight is W, whose row o is filter o.
func (c *Conv2D) Weight() *Param { c.mustProduce("Weight"); return c.W }

// BiasParam is b, or nil.
func (c *Conv2D) BiasParam() *Param { c.mustProduce("BiasParam"); return c.B }

// AppendUnits adds filters with the given weights (C·k·k values each; nil:
// zeros) and biases (missing entries: 0).
func (c *Conv2D) AppendUnits(in [][]float32, bias []float32) {
	c.mustProduce("AppendUnits")
	c.W.AppendRows(in)
	if c.B != nil {
		rows := make([][]float32, len(in))
		for i := range rows {
			if i < len(bias) {
				rows[i] = []float32{bias[i]}
			}
		}
		c.B.AppendRows(rows)
	}
	c.out = c.W.Rows
}

// RemoveUnits drops the listed filters.
func (c *Conv2D) RemoveUnits(idx []int) {
	c.mustProduce("RemoveUnits")
	c.W.RemoveRows(idx)
	if c.B != nil {
		c.B.RemoveRows(idx)
	}
	c.out = c.W.Rows
}

// InputColumn returns input channel j's weights: out×k·k values, filter by
// filter. spatial is ignored: a channel always owns k·k columns.
func (c *Conv2D) InputColumn(spatial, j int) []float32 {
	c.mustProduce("InputColumn")
	g := c.k * c.k
	col := make([]float32, 0, c.W.Rows*g)
	for r := 0; r < c.W.Rows; r++ {
		col = append(col, c.W.Data[r*c.W.Cols+j*g:r*c.W.Cols+(j+1)*g]...)
	}
	return col
}

// AppendInputs adds input channels whose weights are laid out as
// InputColumn returns them (nil: zeros, which leaves the output unchanged).
func (c *Conv2D) AppendInputs(spatial int, cols [][]float32) {
	c.mustProduce("AppendInputs")
	appendInputCols(c.W, c.k*c.k, cols)
	c.in[0] = c.W.Cols / (c.k * c.k)
	c.colsValid = false
}

// ScaleInput multiplies input channel j's weights by s.
func (c *Conv2D) ScaleInput(spatial, j int, s float32) {
	c.mustProduce("ScaleInput")
	c.W.ScaleColGroup(c.k*c.k, j, s)
}

// RemoveInputs drops the listed input channels' weights.
func (c *Conv2D) RemoveInputs(spatial int, idx []int) {
	c.mustProduce("RemoveInputs")
	c.W.RemoveColGroups(c.k*c.k, idx)
	c.in[0] = c.W.Cols / (c.k * c.k)
	c.colsValid = false
}

func (c *Conv2D) mustFollow(op string) {
	if !c.depthwise {
		panic(fmt.Sprintf("nn: conv2d %s: only a depthwise convolution follows its input's channels (groups %d)", op, c.grp))
	}
}

// FollowAppend adds one depthwise channel per entry of like: a copy of
// channel like[i]'s filter and bias, or, for like[i] < 0, a Dirac filter (1
// at the centre tap, bias 0), which passes its channel through unchanged
// when the padding is k/2 and the stride 1.
func (c *Conv2D) FollowAppend(like []int) {
	c.mustFollow("FollowAppend")
	kk := c.k * c.k
	rows := make([][]float32, len(like))
	bias := make([][]float32, len(like))
	for i, l := range like {
		if l >= 0 {
			rows[i] = append([]float32(nil), c.W.Data[l*kk:(l+1)*kk]...)
			if c.B != nil {
				bias[i] = []float32{c.B.Data[l]}
			}
			continue
		}
		rows[i] = make([]float32, kk)
		rows[i][(c.k/2)*c.k+c.k/2] = 1
	}
	c.W.AppendRows(rows)
	if c.B != nil {
		c.B.AppendRows(bias)
	}
	c.setChannels(c.W.Rows)
}

// FollowRemove drops the listed depthwise channels.
func (c *Conv2D) FollowRemove(idx []int) {
	c.mustFollow("FollowRemove")
	c.W.RemoveRows(idx)
	if c.B != nil {
		c.B.RemoveRows(idx)
	}
	c.setChannels(c.W.Rows)
}

func (c *Conv2D) setChannels(n int) { c.in[0], c.out, c.grp = n, n, n }
