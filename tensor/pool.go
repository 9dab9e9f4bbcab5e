package tensor

import (
	"fmt"
	"math"
)

// Pooling kernels work on c independent h×w planes. A batch of N images with
// C channels each is simply c = N·C planes, so a layer can hand any
// contiguous run of images to one call. Windows are k×k, slide with the
// given stride and have no padding (floor mode: a window that would leave
// the plane is not formed).

func poolGeom(op string, c, h, w, k, stride int) (oh, ow int) {
	if c < 0 || h < 1 || w < 1 || k < 1 || stride < 1 || k > h || k > w {
		panic(fmt.Sprintf("tensor: %s: bad geometry c=%d h=%d w=%d window %d stride %d", op, c, h, w, k, stride))
	}
	return ConvOutSize(h, k, stride, 0), ConvOutSize(w, k, stride, 0)
}

func needIdx(op string, s []int32, n int) {
	if len(s) < n {
		panic(fmt.Sprintf("tensor: %s: argmax has %d elements, need %d", op, len(s), n))
	}
}

// MaxPool2DForward writes into dst (c×outH×outW) the maximum of every k×k
// window of the c planes of x (c×h×w), and into arg the position of that
// maximum within its plane (row·w+col), which the backward pass routes the
// gradient to. The position is the first strict maximum in row-major order,
// so ties go to the first. A window holding a NaN yields NaN, so divergence
// propagates; its recorded position is then unspecified within the window.
//
// The scan updates the maximum with the branch-free built-in max and the
// position by a conditional move; k = 2, the common window, is unrolled,
// and with stride 2 runs 16 windows at a time on AVX-512 (elem_amd64.s).
func MaxPool2DForward(dst []float32, arg []int32, x []float32, c, h, w, k, stride int) {
	oh, ow := poolGeom("MaxPool2DForward", c, h, w, k, stride)
	if h*w > math.MaxInt32 {
		panic("tensor: MaxPool2DForward: plane too large for int32 indices")
	}
	need("MaxPool2DForward", "x", x, c*h*w)
	need("MaxPool2DForward", "dst", dst, c*oh*ow)
	needIdx("MaxPool2DForward", arg, c*oh*ow)
	for ci := 0; ci < c; ci++ {
		in := x[ci*h*w : (ci+1)*h*w]
		out := dst[ci*oh*ow : (ci+1)*oh*ow]
		idx := arg[ci*oh*ow : (ci+1)*oh*ow]
		if k == 2 && stride == 2 && elemAVX512 {
			// Rows 2i, 2i+1 < h and columns < 2·ow ≤ w: within in.
			maxPool2AVX512(&out[0], &idx[0], &in[0], ow, w, oh, 0)
			continue
		}
		for i := 0; i < oh; i++ {
			yr, ir := out[i*ow:(i+1)*ow], idx[i*ow:(i+1)*ow]
			top := i * stride * w
			if k == 2 {
				r0, r1 := in[top:top+w], in[top+w:top+2*w]
				for j := range yr {
					p := j * stride
					a, b := r0[p:p+2:p+2], r1[p:p+2:p+2]
					m, best := a[0], top+p
					if a[1] > m {
						best = top + p + 1
					}
					m = max(m, a[1])
					if b[0] > m {
						best = top + w + p
					}
					m = max(m, b[0])
					if b[1] > m {
						best = top + w + p + 1
					}
					yr[j], ir[j] = max(m, b[1]), int32(best)
				}
				continue
			}
			for j := range yr {
				best := top + j*stride
				m := in[best]
				for a := 0; a < k; a++ {
					r := top + a*w + j*stride
					for b, v := range in[r : r+k] {
						if v > m {
							best = r + b
						}
						m = max(m, v)
					}
				}
				yr[j], ir[j] = m, int32(best)
			}
		}
	}
}

// MaxPool2DBackward adds each element of dy (c×outH×outW) to the element
// of dx (c×h×w) that MaxPool2DForward selected, as recorded in arg. It
// accumulates; clear dx first for a plain gradient.
func MaxPool2DBackward(dx, dy []float32, arg []int32, c, h, w, k, stride int) {
	oh, ow := poolGeom("MaxPool2DBackward", c, h, w, k, stride)
	need("MaxPool2DBackward", "dx", dx, c*h*w)
	need("MaxPool2DBackward", "dy", dy, c*oh*ow)
	needIdx("MaxPool2DBackward", arg, c*oh*ow)
	for ci := 0; ci < c; ci++ {
		g := dx[ci*h*w : (ci+1)*h*w]
		idx := arg[ci*oh*ow : (ci+1)*oh*ow]
		for o, v := range dy[ci*oh*ow : (ci+1)*oh*ow] {
			g[idx[o]] += v
		}
	}
}

// AvgPool2DForward writes into dst (c×outH×outW) the mean of every k×k
// window of the c planes of x (c×h×w).
func AvgPool2DForward(dst, x []float32, c, h, w, k, stride int) {
	oh, ow := poolGeom("AvgPool2DForward", c, h, w, k, stride)
	need("AvgPool2DForward", "x", x, c*h*w)
	need("AvgPool2DForward", "dst", dst, c*oh*ow)
	inv := 1 / float32(k*k)
	for ci := 0; ci < c; ci++ {
		in := x[ci*h*w : (ci+1)*h*w]
		out := dst[ci*oh*ow : (ci+1)*oh*ow]
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				var s float32
				for a := 0; a < k; a++ {
					r := (i*stride+a)*w + j*stride
					for _, v := range in[r : r+k] {
						s += v
					}
				}
				out[i*ow+j] = s * inv
			}
		}
	}
}

// AvgPool2DBackward spreads each element of dy (c×outH×outW) evenly over
// its k×k window of dx (c×h×w). It accumulates.
func AvgPool2DBackward(dx, dy []float32, c, h, w, k, stride int) {
	oh, ow := poolGeom("AvgPool2DBackward", c, h, w, k, stride)
	need("AvgPool2DBackward", "dx", dx, c*h*w)
	need("AvgPool2DBackward", "dy", dy, c*oh*ow)
	inv := 1 / float32(k*k)
	for ci := 0; ci < c; ci++ {
		g := dx[ci*h*w : (ci+1)*h*w]
		gout := dy[ci*oh*ow : (ci+1)*oh*ow]
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				v := gout[i*ow+j] * inv
				for a := 0; a < k; a++ {
					r := (i*stride+a)*w + j*stride
					gr := g[r : r+k]
					for b := range gr {
						gr[b] += v
					}
				}
			}
		}
	}
}

// GlobalAvgPoolForward writes into dst[i] the mean of plane i of x, for c
// planes of hw elements each.
func GlobalAvgPoolForward(dst, x []float32, c, hw int) {
	if c < 0 || hw < 1 {
		panic(fmt.Sprintf("tensor: GlobalAvgPoolForward: bad geometry c=%d hw=%d", c, hw))
	}
	need("GlobalAvgPoolForward", "x", x, c*hw)
	need("GlobalAvgPoolForward", "dst", dst, c)
	inv := 1 / float32(hw)
	for ci := 0; ci < c; ci++ {
		var s float32
		for _, v := range x[ci*hw : (ci+1)*hw] {
			s += v
		}
		dst[ci] = s * inv
	}
}

// GlobalAvgPoolBackward adds dy[i]/hw to every element of plane i of dx.
// It accumulates.
func GlobalAvgPoolBackward(dx, dy []float32, c, hw int) {
	if c < 0 || hw < 1 {
		panic(fmt.Sprintf("tensor: GlobalAvgPoolBackward: bad geometry c=%d hw=%d", c, hw))
	}
	need("GlobalAvgPoolBackward", "dx", dx, c*hw)
	need("GlobalAvgPoolBackward", "dy", dy, c)
	inv := 1 / float32(hw)
	for ci := 0; ci < c; ci++ {
		v := dy[ci] * inv
		g := dx[ci*hw : (ci+1)*hw]
		for i := range g {
			g[i] += v
		}
	}
}
