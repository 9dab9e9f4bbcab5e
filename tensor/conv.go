package tensor

import "fmt"

// Convolution kernels for one NCHW image (a c×h×w block). A batch is a loop
// over images; layers parallelise that loop. Square stride and zero padding
// are applied to both spatial dimensions.
//
// For every kernel tap (ki, kj) the output positions whose input lies inside
// the image form a contiguous range, computed once by validRange, so the
// inner loops carry no bounds tests and, at stride 1, are plain slice copies
// or axpys over contiguous memory.
//
// On amd64 with AVX-512 (conv_amd64.s), stride-1 Im2Col and Col2Im and the
// 3×3 stride-1 depthwise kernels run vectorised: 16 output columns at a
// time, with lane masks in place of the padding. Other cases, and the
// noasm build, run the portable code, which the tests compare with.

// ConvOutSize is the output length of a convolution or pooling window of
// size k sliding with the given stride over in positions padded by pad on
// both sides: floor((in+2pad−k)/stride)+1, or 0 when the window does not fit.
func ConvOutSize(in, k, stride, pad int) int {
	if stride < 1 {
		panic(fmt.Sprintf("tensor: convolution stride %d < 1", stride))
	}
	span := in + 2*pad - k
	if span < 0 {
		return 0
	}
	return span/stride + 1
}

// validRange returns [lo, hi), the output positions o < nOut whose input
// index o*stride+off lies in [0, nIn); lo == hi when there are none.
func validRange(nOut, nIn, stride, off int) (lo, hi int) {
	lo = min(max(ceilDiv(-off, stride), 0), nOut)
	hi = max(min(ceilDiv(nIn-off, stride), nOut), lo)
	return lo, hi
}

// ceilDiv is ⌈a/b⌉ for b > 0 and any sign of a.
func ceilDiv(a, b int) int {
	if a <= 0 {
		return -(-a / b)
	}
	return (a + b - 1) / b
}

// convGeom checks a convolution's arguments and returns its output size.
func convGeom(op string, c, h, w, kh, kw, stride, pad int) (oh, ow int) {
	if c < 0 || h < 1 || w < 1 || kh < 1 || kw < 1 || stride < 1 || pad < 0 {
		panic(fmt.Sprintf("tensor: %s: bad geometry c=%d h=%d w=%d kernel %dx%d stride %d pad %d", op, c, h, w, kh, kw, stride, pad))
	}
	return ConvOutSize(h, kh, stride, pad), ConvOutSize(w, kw, stride, pad)
}

func need(op, name string, s []float32, n int) {
	if len(s) < n {
		panic(fmt.Sprintf("tensor: %s: %s has %d elements, need %d", op, name, len(s), n))
	}
}

// Im2Col unrolls the receptive fields of one c×h×w image x into the
// (c·kh·kw)×(outH·outW) row-major matrix dst: row (ci·kh+ki)·kw+kj holds
// input channel ci shifted by kernel tap (ki, kj), column oh·outW+ow is one
// output position; taps that fall in the padding are 0. A convolution with
// filters W (out×c·kh·kw, row-major) is then the product W·dst. dst is
// overwritten.
func Im2Col(dst, x []float32, c, h, w, kh, kw, stride, pad int) {
	oh, ow := convGeom("Im2Col", c, h, w, kh, kw, stride, pad)
	p := oh * ow
	need("Im2Col", "x", x, c*h*w)
	need("Im2Col", "dst", dst, c*kh*kw*p)
	if p == 0 || c == 0 {
		return
	}
	if FastIm2Col(kw, stride, ow) {
		im2colS1(dst, x, c, h, w, kh, kw, pad, oh, ow)
		return
	}
	im2colRows(dst, p, x, c, h, w, kh, kw, stride, pad, oh, ow)
}

// Im2ColLd is Im2Col writing row r of the patch matrix to
// dst[r·ld : r·ld+outH·outW] (ld ≥ outH·outW), leaving the rest of dst as
// it is: several images' patches can thus be placed side by side in one
// matrix, image j at column offset j·outH·outW, with no copy.
func Im2ColLd(dst []float32, ld int, x []float32, c, h, w, kh, kw, stride, pad int) {
	oh, ow := convGeom("Im2ColLd", c, h, w, kh, kw, stride, pad)
	p := oh * ow
	if ld < p {
		panic(fmt.Sprintf("tensor: Im2ColLd: row stride %d below the row length %d", ld, p))
	}
	need("Im2ColLd", "x", x, c*h*w)
	if p == 0 || c == 0 {
		return
	}
	need("Im2ColLd", "dst", dst, (c*kh*kw-1)*ld+p)
	if FastIm2Col(kw, stride, ow) {
		im2colS1Ld(dst, ld, x, c, h, w, kh, kw, pad, oh, ow)
		return
	}
	im2colRows(dst, ld, x, c, h, w, kh, kw, stride, pad, oh, ow)
}

// im2colRows is the portable Im2Col with rows ld apart.
func im2colRows(dst []float32, ld int, x []float32, c, h, w, kh, kw, stride, pad, oh, ow int) {
	p := oh * ow
	for ci := 0; ci < c; ci++ {
		plane := x[ci*h*w : (ci+1)*h*w]
		for ki := 0; ki < kh; ki++ {
			rlo, rhi := validRange(oh, h, stride, ki-pad)
			for kj := 0; kj < kw; kj++ {
				r := (ci*kh+ki)*kw + kj
				row := dst[r*ld : r*ld+p]
				off := kj - pad
				clo, chi := validRange(ow, w, stride, off)
				clear(row[:rlo*ow])
				clear(row[rhi*ow:])
				for o := rlo; o < rhi; o++ {
					xr := plane[(o*stride+ki-pad)*w : (o*stride+ki-pad+1)*w]
					seg := row[o*ow : (o+1)*ow]
					clear(seg[:clo])
					clear(seg[chi:])
					if stride == 1 && clo < chi {
						copy(seg[clo:chi], xr[clo+off:chi+off])
						continue
					}
					for j := clo; j < chi; j++ {
						seg[j] = xr[j*stride+off]
					}
				}
			}
		}
	}
}

// Col2Im is the adjoint of Im2Col: it adds every entry of the
// (c·kh·kw)×(outH·outW) matrix col into the pixel of the c×h×w image dst it
// was read from (entries that Im2Col took from the padding are dropped). It
// accumulates; clear dst first for a plain transpose. In a convolution's
// backward pass col is Wᵀ·dY and dst the input gradient.
func Col2Im(dst, col []float32, c, h, w, kh, kw, stride, pad int) {
	oh, ow := convGeom("Col2Im", c, h, w, kh, kw, stride, pad)
	p := oh * ow
	need("Col2Im", "dst", dst, c*h*w)
	need("Col2Im", "col", col, c*kh*kw*p)
	if p == 0 || c == 0 {
		return
	}
	if convAVX512 && stride == 1 && col2imS1(dst, col, c, h, w, kh, kw, pad, oh, ow) {
		return
	}
	for ci := 0; ci < c; ci++ {
		plane := dst[ci*h*w : (ci+1)*h*w]
		for ki := 0; ki < kh; ki++ {
			rlo, rhi := validRange(oh, h, stride, ki-pad)
			for kj := 0; kj < kw; kj++ {
				row := col[((ci*kh+ki)*kw+kj)*p : ((ci*kh+ki)*kw+kj+1)*p]
				off := kj - pad
				clo, chi := validRange(ow, w, stride, off)
				for o := rlo; o < rhi; o++ {
					xr := plane[(o*stride+ki-pad)*w : (o*stride+ki-pad+1)*w]
					seg := row[o*ow : (o+1)*ow]
					if stride == 1 && clo < chi {
						addTo(xr[clo+off:chi+off], seg[clo:chi])
						continue
					}
					for j := clo; j < chi; j++ {
						xr[j*stride+off] += seg[j]
					}
				}
			}
		}
	}
}

// maxMasks bounds the lane-mask table that the stride-1 AVX-512 kernels
// take (one store mask and kw load masks per 16-column block); it covers
// any row up to 1008 columns with 3×3 kernels. Larger geometries run the
// portable code.
const maxMasks = 256

// laneMask is the 16-lane AVX-512 mask of the lanes l with lo ≤ l < hi.
func laneMask(lo, hi int) uint16 {
	lo, hi = max(lo, 0), min(hi, 16)
	if hi <= lo {
		return 0
	}
	return uint16(1<<hi - 1<<lo)
}

// FastIm2Col reports whether Im2Col has a vectorised kernel on this
// machine for kernels kw wide at this stride and outW output columns (at
// present: AVX-512, stride 1, outW·(kw+1) up to about 4000). It then runs
// at nearly the speed of a copy, so that rebuilding patches costs less
// than keeping them in memory (see nn.Conv2D).
func FastIm2Col(kw, stride, outW int) bool {
	return convAVX512 && stride == 1 && (outW+15)/16*(kw+1) <= maxMasks
}

// im2colS1 is Im2Col at stride 1 with the AVX-512 kernel, one call per
// input channel and tap row, where FastIm2Col holds.
func im2colS1(dst, x []float32, c, h, w, kh, kw, pad, oh, ow int) {
	im2colS1Ld(dst, oh*ow, x, c, h, w, kh, kw, pad, oh, ow)
}

// im2colS1Ld is im2colS1 with the rows of the patch matrix ld apart.
func im2colS1Ld(dst []float32, ld int, x []float32, c, h, w, kh, kw, pad, oh, ow int) {
	nb := (ow + 15) / 16
	var masks [maxMasks]uint16
	for t := range nb {
		jb := 16 * t
		m := masks[t*(kw+1) : (t+1)*(kw+1)]
		m[0] = laneMask(0, ow-jb)
		for kj := range kw {
			// Output column j reads input column j+kj−pad.
			m[1+kj] = laneMask(pad-kj-jb, min(w+pad-kj, ow)-jb)
		}
	}
	for ci := range c {
		for ki := range kh {
			im2colS1LdAVX512(&dst[(ci*kh+ki)*kw*ld], &x[ci*h*w], &masks[0], ki-pad, h, w, kw, oh, ow, pad, ld)
		}
	}
}

// col2imS1 is Col2Im at stride 1 with the AVX-512 kernel, one call per
// channel; it reports false, doing nothing, when the mask table would not
// fit. Each pixel gathers its contributions in the (ki, kj) order of the
// portable scatter, so both give the same sums.
func col2imS1(dst, col []float32, c, h, w, kh, kw, pad, oh, ow int) bool {
	nb := (w + 15) / 16
	var masks [maxMasks]uint16
	if nb*(kw+1) > len(masks) {
		return false
	}
	for t := range nb {
		jb := 16 * t
		m := masks[t*(kw+1) : (t+1)*(kw+1)]
		m[0] = laneMask(0, w-jb)
		for kj := range kw {
			// Pixel column jj was read by output column jj+pad−kj.
			m[1+kj] = laneMask(kj-pad-jb, min(ow+kj-pad, w)-jb)
		}
	}
	p := oh * ow
	for ci := range c {
		col2imS1AVX512(&dst[ci*h*w], &col[ci*kh*kw*p], &masks[0], h, w, kh, kw, pad, oh, ow)
	}
	return true
}

// The portable depthwise kernels stage each channel in a zero-padded
// copy, so that every tap of every output position is in range and the
// inner loops are free of border logic; 3×3 filters, the common case, are
// unrolled with the nine taps held in registers. Planes whose padded copy
// fits maxPadded floats are staged on the stack; larger ones allocate.
const maxPadded = 8192

// stagePlane copies the h×w plane into the interior of the (h+2pad)×pw
// buffer xp, whose border must be zero.
func stagePlane(xp, plane []float32, h, w, pw, pad int) {
	for i := 0; i < h; i++ {
		copy(xp[(i+pad)*pw+pad:(i+pad)*pw+pad+w], plane[i*w:(i+1)*w])
	}
}

// DepthwiseForward convolves each channel of the c×h×w image x with its
// own kh×kw filter: f holds c filters (c×kh×kw, row-major) and dst, the
// c×outH×outW result, is overwritten. This is a grouped convolution with
// one input and one output channel per group; it runs directly, since
// im2col would give matrix products of a single row.
func DepthwiseForward(dst, x, f []float32, c, h, w, kh, kw, stride, pad int) {
	oh, ow := convGeom("DepthwiseForward", c, h, w, kh, kw, stride, pad)
	need("DepthwiseForward", "x", x, c*h*w)
	need("DepthwiseForward", "f", f, c*kh*kw)
	need("DepthwiseForward", "dst", dst, c*oh*ow)
	if oh == 0 || ow == 0 {
		return
	}
	if convAVX512 && kh == 3 && kw == 3 && stride == 1 && dw3Forward(dst, x, f, c, h, w, pad, oh, ow) {
		return
	}
	ph, pw := h+2*pad, w+2*pad
	var stack [maxPadded]float32
	xp := stack[:]
	if ph*pw > len(xp) {
		xp = make([]float32, ph*pw)
	}
	xp = xp[:ph*pw]
	for ci := 0; ci < c; ci++ {
		stagePlane(xp, x[ci*h*w:(ci+1)*h*w], h, w, pw, pad)
		fc := f[ci*kh*kw : (ci+1)*kh*kw]
		out := dst[ci*oh*ow : (ci+1)*oh*ow]
		if kh == 3 && kw == 3 {
			f0, f1, f2, f3, f4, f5, f6, f7, f8 := fc[0], fc[1], fc[2], fc[3], fc[4], fc[5], fc[6], fc[7], fc[8]
			for o := 0; o < oh; o++ {
				r := o * stride * pw
				r0, r1, r2 := xp[r:r+pw], xp[r+pw:r+2*pw], xp[r+2*pw:r+3*pw]
				yr := out[o*ow : (o+1)*ow]
				for j := range yr {
					b := j * stride
					a0, a1, a2 := r0[b:b+3:b+3], r1[b:b+3:b+3], r2[b:b+3:b+3]
					yr[j] = f0*a0[0] + f1*a0[1] + f2*a0[2] + f3*a1[0] + f4*a1[1] + f5*a1[2] + f6*a2[0] + f7*a2[1] + f8*a2[2]
				}
			}
			continue
		}
		for o := 0; o < oh; o++ {
			yr := out[o*ow : (o+1)*ow]
			clear(yr)
			for a := 0; a < kh; a++ {
				xr := xp[(o*stride+a)*pw : (o*stride+a+1)*pw]
				for b, fv := range fc[a*kw : (a+1)*kw] {
					if stride == 1 {
						axpy(yr, fv, xr[b:b+ow])
						continue
					}
					for j := range yr {
						yr[j] += fv * xr[j*stride+b]
					}
				}
			}
		}
	}
}

// DepthwiseBackwardInput adds to dx (c×h×w) the gradient of
// DepthwiseForward with respect to its input, given the output gradient dy
// (c×outH×outW) and the filters f (c×kh×kw). It accumulates.
func DepthwiseBackwardInput(dx, dy, f []float32, c, h, w, kh, kw, stride, pad int) {
	oh, ow := convGeom("DepthwiseBackwardInput", c, h, w, kh, kw, stride, pad)
	need("DepthwiseBackwardInput", "dx", dx, c*h*w)
	need("DepthwiseBackwardInput", "f", f, c*kh*kw)
	need("DepthwiseBackwardInput", "dy", dy, c*oh*ow)
	if oh == 0 || ow == 0 {
		return
	}
	if convAVX512 && kh == 3 && kw == 3 && stride == 1 && dw3BackwardInput(dx, dy, f, c, h, w, pad, oh, ow) {
		return
	}
	ph, pw := h+2*pad, w+2*pad
	var stack [maxPadded]float32
	gp := stack[:]
	if ph*pw > len(gp) {
		gp = make([]float32, ph*pw)
	}
	gp = gp[:ph*pw]
	for ci := 0; ci < c; ci++ {
		// Scatter into the padded gradient, then keep its interior.
		clear(gp)
		fc := f[ci*kh*kw : (ci+1)*kh*kw]
		gout := dy[ci*oh*ow : (ci+1)*oh*ow]
		if kh == 3 && kw == 3 {
			f0, f1, f2, f3, f4, f5, f6, f7, f8 := fc[0], fc[1], fc[2], fc[3], fc[4], fc[5], fc[6], fc[7], fc[8]
			for o := 0; o < oh; o++ {
				r := o * stride * pw
				r0, r1, r2 := gp[r:r+pw], gp[r+pw:r+2*pw], gp[r+2*pw:r+3*pw]
				for j, g := range gout[o*ow : (o+1)*ow] {
					b := j * stride
					a0, a1, a2 := r0[b:b+3:b+3], r1[b:b+3:b+3], r2[b:b+3:b+3]
					a0[0] += f0 * g
					a0[1] += f1 * g
					a0[2] += f2 * g
					a1[0] += f3 * g
					a1[1] += f4 * g
					a1[2] += f5 * g
					a2[0] += f6 * g
					a2[1] += f7 * g
					a2[2] += f8 * g
				}
			}
		} else {
			for o := 0; o < oh; o++ {
				yr := gout[o*ow : (o+1)*ow]
				for a := 0; a < kh; a++ {
					gr := gp[(o*stride+a)*pw : (o*stride+a+1)*pw]
					for b, fv := range fc[a*kw : (a+1)*kw] {
						if stride == 1 {
							axpy(gr[b:b+ow], fv, yr)
							continue
						}
						for j, g := range yr {
							gr[j*stride+b] += fv * g
						}
					}
				}
			}
		}
		plane := dx[ci*h*w : (ci+1)*h*w]
		for i := 0; i < h; i++ {
			addTo(plane[i*w:(i+1)*w], gp[(i+pad)*pw+pad:])
		}
	}
}

// DepthwiseBackwardFilter adds to df (c×kh×kw) the gradient of
// DepthwiseForward with respect to its filters, given the input x (c×h×w)
// and the output gradient dy (c×outH×outW). It accumulates, so a batch is a
// loop over images into the same df.
func DepthwiseBackwardFilter(df, dy, x []float32, c, h, w, kh, kw, stride, pad int) {
	oh, ow := convGeom("DepthwiseBackwardFilter", c, h, w, kh, kw, stride, pad)
	need("DepthwiseBackwardFilter", "df", df, c*kh*kw)
	need("DepthwiseBackwardFilter", "x", x, c*h*w)
	need("DepthwiseBackwardFilter", "dy", dy, c*oh*ow)
	if oh == 0 || ow == 0 {
		return
	}
	if convAVX512 && kh == 3 && kw == 3 && stride == 1 && dw3BackwardFilter(df, dy, x, c, h, w, pad, oh, ow) {
		return
	}
	ph, pw := h+2*pad, w+2*pad
	var stack [maxPadded]float32
	xp := stack[:]
	if ph*pw > len(xp) {
		xp = make([]float32, ph*pw)
	}
	xp = xp[:ph*pw]
	for ci := 0; ci < c; ci++ {
		stagePlane(xp, x[ci*h*w:(ci+1)*h*w], h, w, pw, pad)
		gout := dy[ci*oh*ow : (ci+1)*oh*ow]
		dc := df[ci*kh*kw : (ci+1)*kh*kw]
		if kh == 3 && kw == 3 {
			var s0, s1, s2, s3, s4, s5, s6, s7, s8 float32
			for o := 0; o < oh; o++ {
				r := o * stride * pw
				r0, r1, r2 := xp[r:r+pw], xp[r+pw:r+2*pw], xp[r+2*pw:r+3*pw]
				for j, g := range gout[o*ow : (o+1)*ow] {
					b := j * stride
					a0, a1, a2 := r0[b:b+3:b+3], r1[b:b+3:b+3], r2[b:b+3:b+3]
					s0 += g * a0[0]
					s1 += g * a0[1]
					s2 += g * a0[2]
					s3 += g * a1[0]
					s4 += g * a1[1]
					s5 += g * a1[2]
					s6 += g * a2[0]
					s7 += g * a2[1]
					s8 += g * a2[2]
				}
			}
			dc = dc[:9]
			dc[0] += s0
			dc[1] += s1
			dc[2] += s2
			dc[3] += s3
			dc[4] += s4
			dc[5] += s5
			dc[6] += s6
			dc[7] += s7
			dc[8] += s8
			continue
		}
		for a := 0; a < kh; a++ {
			for b := 0; b < kw; b++ {
				var s float32
				for o := 0; o < oh; o++ {
					xr := xp[(o*stride+a)*pw : (o*stride+a+1)*pw]
					yr := gout[o*ow : (o+1)*ow]
					if stride == 1 {
						s += dotUnitary(yr, xr[b:b+ow])
						continue
					}
					for j, g := range yr {
						s += g * xr[j*stride+b]
					}
				}
				dc[a*kw+b] += s
			}
		}
	}
}

// The 3×3 stride-1 depthwise kernels of conv_amd64.s need no padded copy:
// a tap that falls in the padding is a masked-off lane or a skipped row of
// the plane itself. Each call covers one 16-column block of one channel.
// The input gradient is the correlation of dy with the filter turned by
// 180° (reversed), over dy padded by 2−pad, so it is a gather like the
// forward pass rather than a scatter.

// maxDW3Blocks bounds the 16-column blocks of a row (1024 columns) whose
// masks the 3×3 kernels precompute; wider planes run the portable code.
const maxDW3Blocks = 64

// dw3Masks packs the masks of the 16-column block at column jb of rows n
// wide, whose tap column b reads source column jb+l+b−q (lane l) of rows
// sw wide: bits 16b… the lanes of tap column b inside the source, bits
// 48… the lanes inside the row.
func dw3Masks(jb, n, sw, q int) uint64 {
	m := uint64(laneMask(0, n-jb)) << 48
	for b := range 3 {
		m |= uint64(laneMask(q-b-jb, min(sw+q-b, n)-jb)) << (16 * b)
	}
	return m
}

// dw3Forward, dw3BackwardInput and dw3BackwardFilter are the AVX-512
// paths of the exported kernels for 3×3 filters at stride 1; each reports
// false, doing nothing, when the plane is too wide for its mask table.
func dw3Forward(dst, x, f []float32, c, h, w, pad, oh, ow int) bool {
	var masks [maxDW3Blocks]uint64
	nb := (ow + 15) / 16
	if nb > len(masks) {
		return false
	}
	for t := range nb {
		masks[t] = dw3Masks(16*t, ow, w, pad)
	}
	var zero float32
	for ci := range c {
		for t := range nb {
			dw3CorrAVX512(&dst[ci*oh*ow+16*t], ow, oh, &x[ci*h*w], w, h, 16*t-pad, pad, &f[ci*9], masks[t], &zero)
		}
	}
	return true
}

func dw3BackwardInput(dx, dy, f []float32, c, h, w, pad, oh, ow int) bool {
	var masks [maxDW3Blocks]uint64
	nb := (w + 15) / 16
	if nb > len(masks) {
		return false
	}
	// dx[i][j] = Σ f[a][b]·dy[i+pad−a][j+pad−b] = Σ rev[a][b]·dy[i+a−q][j+b−q].
	q := 2 - pad
	for t := range nb {
		masks[t] = dw3Masks(16*t, w, ow, q)
	}
	for ci := range c {
		fc := f[ci*9 : ci*9+9]
		rev := [9]float32{fc[8], fc[7], fc[6], fc[5], fc[4], fc[3], fc[2], fc[1], fc[0]}
		for t := range nb {
			dw3CorrAVX512(&dx[ci*h*w+16*t], w, h, &dy[ci*oh*ow], ow, oh, 16*t-q, q, &rev[0], masks[t], nil)
		}
	}
	return true
}

func dw3BackwardFilter(df, dy, x []float32, c, h, w, pad, oh, ow int) bool {
	var masks [maxDW3Blocks]uint64
	nb := (ow + 15) / 16
	if nb > len(masks) {
		return false
	}
	for t := range nb {
		masks[t] = dw3Masks(16*t, ow, w, pad)
	}
	for ci := range c {
		for t := range nb {
			dw3FilterGradAVX512(&dy[ci*oh*ow+16*t], ow, oh, &x[ci*h*w], w, h, 16*t-pad, pad, &df[ci*9], masks[t])
		}
	}
	return true
}

// AddPlaneBias adds b[i] to every element of plane i of y, for the len(b)
// consecutive planes of size plane that y begins with: the bias of a
// convolution's output channels.
func AddPlaneBias(y, b []float32, plane int) {
	if plane < 0 {
		panic(fmt.Sprintf("tensor: AddPlaneBias: plane size %d", plane))
	}
	need("AddPlaneBias", "y", y, len(b)*plane)
	if plane == 0 {
		return
	}
	for i, v := range b {
		row := y[i*plane : (i+1)*plane]
		if convAVX512 {
			addScalarAVX512(&row[0], plane, v)
			continue
		}
		for j := range row {
			row[j] += v
		}
	}
}

// AddPlaneSums adds to dst[i] the sum of plane i of x, for the len(dst)
// consecutive planes of size plane that x begins with: the bias gradient of
// a convolution's output channels. Each plane is summed in an order fixed
// by its size.
func AddPlaneSums(dst, x []float32, plane int) {
	if plane < 0 {
		panic(fmt.Sprintf("tensor: AddPlaneSums: plane size %d", plane))
	}
	need("AddPlaneSums", "x", x, len(dst)*plane)
	if plane == 0 {
		return
	}
	for i := range dst {
		row := x[i*plane : (i+1)*plane]
		if convAVX512 {
			dst[i] += sumAVX512(&row[0], plane)
			continue
		}
		var s0, s1, s2, s3 float32
		j := 0
		for ; j+4 <= len(row); j += 4 {
			v := row[j : j+4 : j+4]
			s0 += v[0]
			s1 += v[1]
			s2 += v[2]
			s3 += v[3]
		}
		for ; j < len(row); j++ {
			s0 += row[j]
		}
		dst[i] += (s0 + s1) + (s2 + s3)
	}
}

// addTo computes dst += src over len(dst) elements.
func addTo(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}

// axpy computes dst += a·x over len(dst) elements, four at a time.
func axpy(dst []float32, a float32, x []float32) {
	x = x[:len(dst)]
	i := 0
	for ; i+4 <= len(dst); i += 4 {
		d, v := dst[i:i+4:i+4], x[i:i+4:i+4]
		d[0] += a * v[0]
		d[1] += a * v[1]
		d[2] += a * v[2]
		d[3] += a * v[3]
	}
	for ; i < len(dst); i++ {
		dst[i] += a * x[i]
	}
}

// dotUnitary is Σ a[i]·b[i] over len(a) elements with four partial sums,
// which breaks the dependency chain of a single accumulator.
func dotUnitary(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		u, v := a[i:i+4:i+4], b[i:i+4:i+4]
		s0 += u[0] * v[0]
		s1 += u[1] * v[1]
		s2 += u[2] * v[2]
		s3 += u[3] * v[3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}
