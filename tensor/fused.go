package tensor

import "fmt"

// Fused epilogues of an inference convolution: after W·cols has put one
// image's pre-activations in cache, the BatchNorm shift (folded into the
// weights and a per-channel bias), the ReLU and a following 2×2 max pool
// are applied in one pass instead of three passes over the batch. On
// AVX-512 they run 16 lanes at a time (elem_amd64.s) with the same results.

// BiasReLU sets y = max(y + b[i], 0) on each of the len(b) consecutive
// planes of size plane that y begins with.
func BiasReLU(y, b []float32, plane int) {
	if plane < 0 {
		panic(fmt.Sprintf("tensor: BiasReLU: plane size %d", plane))
	}
	need("BiasReLU", "y", y, len(b)*plane)
	for i, v := range b {
		row := y[i*plane : (i+1)*plane]
		if elemAVX512 && plane > 0 {
			// 1·x + v rounds once, as x + v does.
			affineAVX512(&row[0], &row[0], &row[0], plane, 1, v)
			continue
		}
		for j, x := range row {
			row[j] = max(x+v, 0)
		}
	}
}

// BiasReLUMaxPool2 pools the len(b) consecutive h×w planes of x over 2×2
// windows with stride 2 (floor: an odd last row or column is dropped),
// adds b[i] and clamps at 0, writing len(b) planes of (h/2)×(w/2) to dst.
// Since x ↦ max(x+b, 0) is monotone, this equals pooling after the bias
// and ReLU, at a quarter of the additions.
func BiasReLUMaxPool2(dst, x, b []float32, h, w int) {
	if h < 2 || w < 2 {
		panic(fmt.Sprintf("tensor: BiasReLUMaxPool2: %dx%d plane smaller than the window", h, w))
	}
	oh, ow := h/2, w/2
	need("BiasReLUMaxPool2", "x", x, len(b)*h*w)
	need("BiasReLUMaxPool2", "dst", dst, len(b)*oh*ow)
	for c, v := range b {
		in := x[c*h*w : (c+1)*h*w]
		out := dst[c*oh*ow : (c+1)*oh*ow]
		if elemAVX512 {
			maxPool2BiasReLUAVX512(&out[0], &in[0], ow, w, oh, v)
			continue
		}
		for i := 0; i < oh; i++ {
			r0 := in[2*i*w : 2*i*w+2*ow]
			r1 := in[(2*i+1)*w : (2*i+1)*w+2*ow]
			yr := out[i*ow : (i+1)*ow]
			for j := range yr {
				m := max(r0[2*j], r0[2*j+1], r1[2*j], r1[2*j+1])
				yr[j] = max(m+v, 0)
			}
		}
	}
}
