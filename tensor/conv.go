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
	for ci := 0; ci < c; ci++ {
		plane := x[ci*h*w : (ci+1)*h*w]
		for ki := 0; ki < kh; ki++ {
			rlo, rhi := validRange(oh, h, stride, ki-pad)
			for kj := 0; kj < kw; kj++ {
				row := dst[((ci*kh+ki)*kw+kj)*p : ((ci*kh+ki)*kw+kj+1)*p]
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
						xs := xr[clo+off : chi+off]
						for j, v := range seg[clo:chi] {
							xs[j] += v
						}
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
	for ci := 0; ci < c; ci++ {
		in := x[ci*h*w : (ci+1)*h*w]
		out := dst[ci*oh*ow : (ci+1)*oh*ow]
		clear(out)
		for ki := 0; ki < kh; ki++ {
			rlo, rhi := validRange(oh, h, stride, ki-pad)
			for kj := 0; kj < kw; kj++ {
				fv := f[(ci*kh+ki)*kw+kj]
				off := kj - pad
				clo, chi := validRange(ow, w, stride, off)
				for o := rlo; o < rhi; o++ {
					xr := in[(o*stride+ki-pad)*w : (o*stride+ki-pad+1)*w]
					yr := out[o*ow : (o+1)*ow]
					if stride == 1 && clo < chi {
						xs := xr[clo+off : chi+off]
						for j, v := range xs {
							yr[clo+j] += fv * v
						}
						continue
					}
					for j := clo; j < chi; j++ {
						yr[j] += fv * xr[j*stride+off]
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
	for ci := 0; ci < c; ci++ {
		gin := dx[ci*h*w : (ci+1)*h*w]
		gout := dy[ci*oh*ow : (ci+1)*oh*ow]
		for ki := 0; ki < kh; ki++ {
			rlo, rhi := validRange(oh, h, stride, ki-pad)
			for kj := 0; kj < kw; kj++ {
				fv := f[(ci*kh+ki)*kw+kj]
				off := kj - pad
				clo, chi := validRange(ow, w, stride, off)
				for o := rlo; o < rhi; o++ {
					xr := gin[(o*stride+ki-pad)*w : (o*stride+ki-pad+1)*w]
					yr := gout[o*ow : (o+1)*ow]
					if stride == 1 && clo < chi {
						xs := xr[clo+off : chi+off]
						for j, v := range yr[clo:chi] {
							xs[j] += fv * v
						}
						continue
					}
					for j := clo; j < chi; j++ {
						xr[j*stride+off] += fv * yr[j]
					}
				}
			}
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
	for ci := 0; ci < c; ci++ {
		in := x[ci*h*w : (ci+1)*h*w]
		gout := dy[ci*oh*ow : (ci+1)*oh*ow]
		for ki := 0; ki < kh; ki++ {
			rlo, rhi := validRange(oh, h, stride, ki-pad)
			for kj := 0; kj < kw; kj++ {
				off := kj - pad
				clo, chi := validRange(ow, w, stride, off)
				var s float32
				for o := rlo; o < rhi; o++ {
					xr := in[(o*stride+ki-pad)*w : (o*stride+ki-pad+1)*w]
					yr := gout[o*ow : (o+1)*ow]
					if stride == 1 && clo < chi {
						xs := xr[clo+off : chi+off]
						for j, v := range yr[clo:chi] {
							s += v * xs[j]
						}
						continue
					}
					for j := clo; j < chi; j++ {
						s += yr[j] * xr[j*stride+off]
					}
				}
				df[(ci*kh+ki)*kw+kj] += s
			}
		}
	}
}
