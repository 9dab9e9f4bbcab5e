package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

type poolCase struct{ c, h, w, k, stride int }

func poolCases(r *rand.Rand) []poolCase {
	cs := []poolCase{
		{1, 1, 1, 1, 1},
		{3, 7, 7, 2, 2}, // odd size: last row and column dropped
		{2, 33, 33, 3, 2},
		{2, 7, 33, 3, 1},
		{4, 24, 24, 2, 2},
		{1, 5, 5, 5, 1},
		{2, 8, 8, 2, 3},
		{2, 9, 70, 2, 2},  // 35 windows a row: two full vector blocks and a tail
		{3, 28, 28, 2, 2}, // the growth benchmark's first pool
	}
	sizes := []int{1, 2, 3, 7, 8, 33}
	for len(cs) < 40 {
		g := poolCase{c: 1 + r.IntN(4), h: sizes[r.IntN(len(sizes))], w: sizes[r.IntN(len(sizes))], k: 1 + r.IntN(3), stride: 1 + r.IntN(3)}
		if g.k <= g.h && g.k <= g.w {
			cs = append(cs, g)
		}
	}
	return cs
}

func (g poolCase) String() string {
	return fmt.Sprintf("c%d_%dx%d_k%d_s%d", g.c, g.h, g.w, g.k, g.stride)
}

func (g poolCase) out() (int, int) {
	return ConvOutSize(g.h, g.k, g.stride, 0), ConvOutSize(g.w, g.k, g.stride, 0)
}

func TestMaxPool2D(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, g := range poolCases(r) {
		oh, ow := g.out()
		x := randSlice(r, g.c*g.h*g.w)
		y := randSlice(r, g.c*oh*ow)
		arg := make([]int32, len(y))
		MaxPool2DForward(y, arg, x, g.c, g.h, g.w, g.k, g.stride)
		dy := randSlice(r, len(y))
		dx := randSlice(r, len(x))
		want := make([]float32, len(dx))
		copy(want, dx)
		for ci := 0; ci < g.c; ci++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					m, at := float32(math.Inf(-1)), -1
					for a := 0; a < g.k; a++ {
						for b := 0; b < g.k; b++ {
							p := (i*g.stride+a)*g.w + j*g.stride + b
							if v := x[ci*g.h*g.w+p]; v > m {
								m, at = v, p
							}
						}
					}
					o := (ci*oh+i)*ow + j
					if y[o] != m || int(arg[o]) != at {
						t.Fatalf("%v: y[%d] = %v at %d, want %v at %d", g, o, y[o], arg[o], m, at)
					}
					want[ci*g.h*g.w+at] += dy[o]
				}
			}
		}
		MaxPool2DBackward(dx, dy, arg, g.c, g.h, g.w, g.k, g.stride)
		for i := range want {
			if !closeTo(float64(dx[i]), float64(want[i]), 1e-6) {
				t.Fatalf("%v: dx[%d] = %v, want %v", g, i, dx[i], want[i])
			}
		}
	}
}

func TestMaxPool2DTiesAndNaN(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		x       []float32
		h, w, k int
		want    []float32 // NaN: any position
		arg     []int32
	}{
		{ // the unrolled 2×2 window
			x: []float32{
				1, 1, 0, nan, 3, 2,
				1, 1, 2, 5, 3, 3,
			},
			h: 2, w: 6, k: 2, want: []float32{1, nan, 3}, arg: []int32{0, -1, 4},
		},
		{ // the general loop
			x: []float32{
				1, 1, 1, 0, 0, 0,
				1, 1, 1, 0, nan, 0,
				1, 1, 1, 0, 0, 0,
			},
			h: 3, w: 6, k: 3, want: []float32{1, nan}, arg: []int32{0, -1},
		},
	} {
		oh, ow := ConvOutSize(tc.h, tc.k, tc.k, 0), ConvOutSize(tc.w, tc.k, tc.k, 0)
		y := make([]float32, oh*ow)
		arg := make([]int32, oh*ow)
		MaxPool2DForward(y, arg, tc.x, 1, tc.h, tc.w, tc.k, tc.k)
		for i, want := range tc.want {
			if math.IsNaN(float64(want)) {
				if !math.IsNaN(float64(y[i])) {
					t.Errorf("k=%d window %d holds a NaN but gave %v", tc.k, i, y[i])
				}
				continue
			}
			if y[i] != want || arg[i] != tc.arg[i] {
				t.Errorf("k=%d window %d: got %v at %d, want %v at %d (first maximum)", tc.k, i, y[i], arg[i], want, tc.arg[i])
			}
		}
	}
}

func TestAvgPool2D(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, g := range poolCases(r) {
		oh, ow := g.out()
		x := randSlice(r, g.c*g.h*g.w)
		y := randSlice(r, g.c*oh*ow)
		AvgPool2DForward(y, x, g.c, g.h, g.w, g.k, g.stride)
		dy := randSlice(r, len(y))
		dx := randSlice(r, len(x))
		want := make([]float64, len(dx))
		for i, v := range dx {
			want[i] = float64(v)
		}
		n := float64(g.k * g.k)
		for ci := 0; ci < g.c; ci++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					var s float64
					o := (ci*oh+i)*ow + j
					for a := 0; a < g.k; a++ {
						for b := 0; b < g.k; b++ {
							p := ci*g.h*g.w + (i*g.stride+a)*g.w + j*g.stride + b
							s += float64(x[p])
							want[p] += float64(dy[o]) / n
						}
					}
					if !closeTo(float64(y[o]), s/n, 1e-6) {
						t.Fatalf("%v: y[%d] = %v, want %v", g, o, y[o], s/n)
					}
				}
			}
		}
		AvgPool2DBackward(dx, dy, g.c, g.h, g.w, g.k, g.stride)
		for i := range want {
			if !closeTo(float64(dx[i]), want[i], 1e-5) {
				t.Fatalf("%v: dx[%d] = %v, want %v", g, i, dx[i], want[i])
			}
		}
	}
}

func TestGlobalAvgPool(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, hw := range []int{1, 7, 33, 64} {
		c := 1 + r.IntN(5)
		x := randSlice(r, c*hw)
		y := randSlice(r, c)
		GlobalAvgPoolForward(y, x, c, hw)
		dy := randSlice(r, c)
		dx := randSlice(r, len(x))
		old := append([]float32(nil), dx...)
		GlobalAvgPoolBackward(dx, dy, c, hw)
		for ci := 0; ci < c; ci++ {
			var s float64
			for _, v := range x[ci*hw : (ci+1)*hw] {
				s += float64(v)
			}
			if !closeTo(float64(y[ci]), s/float64(hw), 1e-6) {
				t.Fatalf("hw %d: y[%d] = %v, want %v", hw, ci, y[ci], s/float64(hw))
			}
			for i := ci * hw; i < (ci+1)*hw; i++ {
				if want := float64(old[i]) + float64(dy[ci])/float64(hw); !closeTo(float64(dx[i]), want, 1e-6) {
					t.Fatalf("hw %d: dx[%d] = %v, want %v", hw, i, dx[i], want)
				}
			}
		}
	}
}

func TestPoolPanicsOnBadGeometry(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("window larger than the plane: no panic")
		}
	}()
	AvgPool2DForward(make([]float32, 4), make([]float32, 4), 1, 2, 2, 3, 1)
}

func ExampleMaxPool2DForward() {
	x := []float32{
		1, 3, 2, 0,
		4, 2, 1, 1,
		0, 0, 5, 6,
		1, 2, 7, 8,
	}
	y := make([]float32, 4)
	arg := make([]int32, 4)
	MaxPool2DForward(y, arg, x, 1, 4, 4, 2, 2)
	fmt.Println(y, arg)
	// Output: [4 2 2 8] [4 2 13 15]
}

// The AVX-512 2×2 stride-2 kernel equals the portable loop exactly, ties
// (small integers) included.
func TestMaxPool2AsmMatchesPortable(t *testing.T) {
	if !elemAVX512 {
		t.Skip("no AVX-512 on this machine or build")
	}
	defer func(on bool) { elemAVX512 = on }(elemAVX512)
	r := rand.New(rand.NewPCG(13, 14))
	for _, sz := range [][3]int{{3, 7, 7}, {2, 28, 28}, {1, 2, 2}, {2, 5, 67}, {4, 3, 3}} {
		c, h, w := sz[0], sz[1], sz[2]
		x := make([]float32, c*h*w)
		for i := range x {
			x[i] = float32(r.IntN(5)) // many ties
		}
		n := c * (h / 2) * (w / 2)
		var y [2][]float32
		var arg [2][]int32
		for k, asm := range []bool{true, false} {
			elemAVX512 = asm
			y[k], arg[k] = make([]float32, n), make([]int32, n)
			MaxPool2DForward(y[k], arg[k], x, c, h, w, 2, 2)
		}
		for i := range n {
			if y[0][i] != y[1][i] || arg[0][i] != arg[1][i] {
				t.Fatalf("%v: window %d: asm %v at %d, portable %v at %d", sz, i, y[0][i], arg[0][i], y[1][i], arg[1][i])
			}
		}
	}
}

func BenchmarkMaxPool2DForward(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	const c, h, w = 128 * 16, 28, 28
	x := randSlice(r, c*h*w)
	y, arg := make([]float32, c*h*w/4), make([]int32, c*h*w/4)
	b.SetBytes(4 * c * h * w)
	for b.Loop() {
		MaxPool2DForward(y, arg, x, c, h, w, 2, 2)
	}
}
