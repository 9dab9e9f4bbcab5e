package data

import (
	"fmt"
	"math/rand/v2"

	"github.com/nadir-ml/nadir/tensor"
)

// ShiftAugment translates each image of the batch x ([n, ..., H, W], at
// least 3 dimensions) in place by a random offset of up to maxShift pixels
// in each direction, filling uncovered pixels with 0. Every channel of an
// example moves together. Two offsets per example are drawn from r in
// order, so the result is determined by r's state.
//
// Zero is the background of images scaled to [0,1]; for normalised images
// use ShiftAugmentFill with the normalised background.
func ShiftAugment(x *tensor.Tensor, maxShift int, r *rand.Rand) {
	ShiftAugmentFill(x, maxShift, 0, r)
}

// ShiftAugmentFill is ShiftAugment filling uncovered pixels with fill.
func ShiftAugmentFill(x *tensor.Tensor, maxShift int, fill float32, r *rand.Rand) {
	if len(x.Shape) < 3 {
		panic(fmt.Sprintf("data: ShiftAugment needs a batch of images [n,...,H,W], have shape %v", x.Shape))
	}
	if maxShift <= 0 {
		return
	}
	nd := len(x.Shape)
	n, h, w := x.Shape[0], x.Shape[nd-2], x.Shape[nd-1]
	per := x.Len() / max(n, 1)
	planes := per / max(h*w, 1)
	span := 2*maxShift + 1
	for i := range n {
		dy := r.IntN(span) - maxShift
		dx := r.IntN(span) - maxShift
		if dx == 0 && dy == 0 {
			continue
		}
		for p := range planes {
			off := i*per + p*h*w
			shiftPlane(x.Data[off:off+h*w], h, w, dy, dx, fill)
		}
	}
}

// shiftPlane moves an h×w plane by (dy, dx) in place: out[y][x] = in[y-dy][x-dx].
// Rows are visited so that each source row is read before it is
// overwritten; copy handles the overlap within a row.
func shiftPlane(a []float32, h, w, dy, dx int, fill float32) {
	row := func(y int) {
		dst := a[y*w : (y+1)*w]
		sy := y - dy
		if sy < 0 || sy >= h || dx >= w || -dx >= w {
			fillRow(dst, fill)
			return
		}
		src := a[sy*w : (sy+1)*w]
		if dx >= 0 {
			copy(dst[dx:], src[:w-dx])
			fillRow(dst[:dx], fill)
		} else {
			copy(dst[:w+dx], src[-dx:])
			fillRow(dst[w+dx:], fill)
		}
	}
	if dy > 0 {
		for y := h - 1; y >= 0; y-- {
			row(y)
		}
	} else {
		for y := range h {
			row(y)
		}
	}
}

func fillRow(s []float32, v float32) {
	if v == 0 {
		clear(s)
		return
	}
	for i := range s {
		s[i] = v
	}
}
