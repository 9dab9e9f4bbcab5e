package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// convCase is one convolution geometry of the kernel tests.
type convCase struct {
	c, h, w, kh, kw, stride, pad int
}

func (g convCase) String() string {
	return fmt.Sprintf("c%d_%dx%d_k%dx%d_s%d_p%d", g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
}

func (g convCase) out() (int, int) {
	return ConvOutSize(g.h, g.kh, g.stride, g.pad), ConvOutSize(g.w, g.kw, g.stride, g.pad)
}

// convCases mixes hand-picked awkward shapes (sizes 1, 7, 33, kernels larger
// than the unpadded input, padding as wide as the kernel) with random ones.
func convCases(r *rand.Rand) []convCase {
	cs := []convCase{
		{1, 1, 1, 1, 1, 1, 0},
		{2, 1, 1, 3, 3, 1, 1},
		{3, 7, 7, 3, 3, 1, 1},
		{3, 7, 7, 3, 3, 2, 1},
		{2, 7, 33, 5, 3, 2, 2},
		{1, 33, 7, 5, 5, 3, 0},
		{4, 33, 33, 1, 1, 2, 0},
		{2, 5, 6, 1, 1, 1, 2}, // rows and columns entirely in the padding
		{2, 4, 4, 2, 3, 1, 3},
		{1, 28, 28, 5, 5, 1, 0},
		{1, 100, 95, 3, 3, 2, 1}, // padded plane beyond the depthwise stack buffer
		{2, 91, 91, 5, 4, 1, 2},
		// Rows of several 16-column blocks for the AVX-512 kernels,
		// with padding from none to wider than the 3×3 kernel.
		{2, 9, 40, 3, 3, 1, 0},
		{1, 5, 100, 3, 3, 1, 3},
		{2, 6, 17, 3, 3, 1, 2},
		{1, 3, 70, 5, 5, 1, 2},
		// Too wide for their mask tables: the portable code runs.
		{1, 2, 1100, 3, 3, 1, 1},
	}
	sizes := []int{1, 2, 3, 7, 8, 33}
	for len(cs) < 60 {
		g := convCase{
			c: 1 + r.IntN(4), h: sizes[r.IntN(len(sizes))], w: sizes[r.IntN(len(sizes))],
			kh: 1 + r.IntN(5), kw: 1 + r.IntN(5), stride: 1 + r.IntN(3), pad: r.IntN(3),
		}
		if oh, ow := g.out(); oh > 0 && ow > 0 {
			cs = append(cs, g)
		}
	}
	return cs
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(2*r.Float64() - 1)
	}
	return s
}

// pixel returns x[ci, i, j] of a c×h×w image, 0 outside (the padding).
func pixel(x []float32, h, w, ci, i, j int) float32 {
	if i < 0 || i >= h || j < 0 || j >= w {
		return 0
	}
	return x[(ci*h+i)*w+j]
}

func closeTo(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func TestConvOutSize(t *testing.T) {
	for _, tc := range []struct{ in, k, stride, pad, want int }{
		{28, 5, 1, 0, 24},
		{12, 5, 1, 0, 8},
		{7, 3, 2, 1, 4},
		{8, 3, 2, 1, 4},
		{1, 3, 1, 1, 1},
		{2, 5, 1, 1, 0},
		{33, 2, 2, 0, 16},
	} {
		if got := ConvOutSize(tc.in, tc.k, tc.stride, tc.pad); got != tc.want {
			t.Errorf("ConvOutSize(%d,%d,%d,%d) = %d, want %d", tc.in, tc.k, tc.stride, tc.pad, got, tc.want)
		}
	}
}

func TestIm2ColMatchesDefinition(t *testing.T) { bothPaths(t, testIm2ColMatchesDefinition) }

func testIm2ColMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, g := range convCases(r) {
		oh, ow := g.out()
		x := randSlice(r, g.c*g.h*g.w)
		dst := randSlice(r, g.c*g.kh*g.kw*oh*ow) // garbage must be overwritten
		Im2Col(dst, x, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
		for ci := 0; ci < g.c; ci++ {
			for ki := 0; ki < g.kh; ki++ {
				for kj := 0; kj < g.kw; kj++ {
					row := (ci*g.kh+ki)*g.kw + kj
					for i := 0; i < oh; i++ {
						for j := 0; j < ow; j++ {
							want := pixel(x, g.h, g.w, ci, i*g.stride-g.pad+ki, j*g.stride-g.pad+kj)
							if got := dst[row*oh*ow+i*ow+j]; got != want {
								t.Fatalf("%v: col[%d][%d,%d] = %v, want %v", g, row, i, j, got, want)
							}
						}
					}
				}
			}
		}
	}
}

func TestCol2ImIsAdjoint(t *testing.T) { bothPaths(t, testCol2ImIsAdjoint) }

func testCol2ImIsAdjoint(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, g := range convCases(r) {
		oh, ow := g.out()
		col := randSlice(r, g.c*g.kh*g.kw*oh*ow)
		base := randSlice(r, g.c*g.h*g.w)
		got := append([]float32(nil), base...)
		Col2Im(got, col, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
		// Direct scatter: every column entry goes back to its pixel.
		want := make([]float64, len(base))
		for i, v := range base {
			want[i] = float64(v)
		}
		for ci := 0; ci < g.c; ci++ {
			for ki := 0; ki < g.kh; ki++ {
				for kj := 0; kj < g.kw; kj++ {
					row := (ci*g.kh+ki)*g.kw + kj
					for i := 0; i < oh; i++ {
						for j := 0; j < ow; j++ {
							ii, jj := i*g.stride-g.pad+ki, j*g.stride-g.pad+kj
							if ii >= 0 && ii < g.h && jj >= 0 && jj < g.w {
								want[(ci*g.h+ii)*g.w+jj] += float64(col[row*oh*ow+i*ow+j])
							}
						}
					}
				}
			}
		}
		for i := range want {
			if !closeTo(float64(got[i]), want[i], 1e-5) {
				t.Fatalf("%v: dst[%d] = %v, want %v", g, i, got[i], want[i])
			}
		}
		// ⟨Im2Col(x), col⟩ = ⟨x, Col2Im(col)⟩.
		x := randSlice(r, len(base))
		cx := make([]float32, len(col))
		Im2Col(cx, x, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
		adj := make([]float32, len(base))
		Col2Im(adj, col, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
		if l, rr := dot(cx, col), dot(x, adj); !closeTo(l, rr, 1e-5) {
			t.Fatalf("%v: <Im2Col x, y> = %v, <x, Col2Im y> = %v", g, l, rr)
		}
	}
}

// bothPaths runs test with the AVX-512 kernels, where this machine and
// build have them, and with the portable code.
func bothPaths(t *testing.T, test func(*testing.T)) {
	defer func(on bool) { convAVX512 = on }(convAVX512)
	if convAVX512 {
		t.Run("avx512", test)
	}
	convAVX512 = false
	t.Run("portable", test)
}

// The AVX-512 kernels must agree with the portable code: exactly where
// both only copy or add in the same order (im2col, col2im, bias), within
// rounding where the assembly fuses multiply and add or sums in another
// order.
func TestConvKernelsMatchPortable(t *testing.T) {
	if !convAVX512 {
		t.Skip("no AVX-512 kernels in this build or on this CPU")
	}
	defer func(on bool) { convAVX512 = on }(convAVX512)
	r := rand.New(rand.NewPCG(9, 10))
	both := func(f func()) {
		convAVX512 = true
		f()
		convAVX512 = false
		f()
	}
	for _, g := range convCases(r) {
		oh, ow := g.out()
		x := randSlice(r, g.c*g.h*g.w)
		f := randSlice(r, g.c*g.kh*g.kw)
		dy := randSlice(r, g.c*oh*ow)
		col := randSlice(r, g.c*g.kh*g.kw*oh*ow)
		base := randSlice(r, len(x))
		var got [2][][]float32
		n := 0
		both(func() {
			c := make([]float32, len(col))
			Im2Col(c, x, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
			im := append([]float32(nil), base...)
			Col2Im(im, col, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
			y := make([]float32, len(dy))
			DepthwiseForward(y, x, f, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
			dx := append([]float32(nil), base...)
			DepthwiseBackwardInput(dx, dy, f, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
			df := append([]float32(nil), f...)
			DepthwiseBackwardFilter(df, dy, x, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
			got[n] = [][]float32{c, im, y, dx, df}
			n++
		})
		for k, name := range []string{"Im2Col", "Col2Im", "DepthwiseForward", "DepthwiseBackwardInput", "DepthwiseBackwardFilter"} {
			a, p := got[0][k], got[1][k]
			for i := range a {
				if k < 2 && a[i] != p[i] || !closeTo(float64(a[i]), float64(p[i]), 1e-5) {
					t.Fatalf("%v %s: [%d] = %v with AVX-512, %v portable", g, name, i, a[i], p[i])
				}
			}
		}
	}
}

func TestPlaneBiasAndSums(t *testing.T) { bothPaths(t, testPlaneBiasAndSums) }

func testPlaneBiasAndSums(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, plane := range []int{0, 1, 3, 15, 16, 17, 63, 64, 65, 200, 576} {
		b := randSlice(r, 3)
		x := randSlice(r, 3*plane+2) // the tail is not a plane
		y := append([]float32(nil), x...)
		AddPlaneBias(y, b, plane)
		for i, v := range y {
			want := x[i]
			if i < 3*plane {
				want += b[i/plane]
			}
			if v != want {
				t.Fatalf("plane %d: AddPlaneBias gave y[%d] = %v, want %v", plane, i, v, want)
			}
		}
		sums := append([]float32(nil), b...)
		AddPlaneSums(sums, x, plane)
		for i := range sums {
			want := float64(b[i])
			for _, v := range x[i*plane : (i+1)*plane] {
				want += float64(v)
			}
			if !closeTo(float64(sums[i]), want, 1e-5) {
				t.Fatalf("plane %d: AddPlaneSums gave %v for plane %d, want %v", plane, sums[i], i, want)
			}
		}
	}
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// naiveConv is the direct definition of a convolution of one image with
// out filters of c×kh×kw (cross-correlation, as in every deep learning
// library), in float64.
func naiveConv(x, f []float32, out int, g convCase) []float64 {
	oh, ow := g.out()
	y := make([]float64, out*oh*ow)
	for o := 0; o < out; o++ {
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				var s float64
				for ci := 0; ci < g.c; ci++ {
					for ki := 0; ki < g.kh; ki++ {
						for kj := 0; kj < g.kw; kj++ {
							s += float64(f[((o*g.c+ci)*g.kh+ki)*g.kw+kj]) *
								float64(pixel(x, g.h, g.w, ci, i*g.stride-g.pad+ki, j*g.stride-g.pad+kj))
						}
					}
				}
				y[(o*oh+i)*ow+j] = s
			}
		}
	}
	return y
}

func TestIm2ColGemmIsConvolution(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, g := range convCases(r)[:30] {
		oh, ow := g.out()
		out := 1 + r.IntN(5)
		k := g.c * g.kh * g.kw
		x := randSlice(r, g.c*g.h*g.w)
		f := randSlice(r, out*k)
		col := make([]float32, k*oh*ow)
		Im2Col(col, x, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
		y := make([]float32, out*oh*ow)
		Gemm(false, false, out, oh*ow, k, 1, f, k, col, oh*ow, 0, y, oh*ow)
		want := naiveConv(x, f, out, g)
		for i := range want {
			if !closeTo(float64(y[i]), want[i], 1e-5) {
				t.Fatalf("%v: y[%d] = %v, want %v", g, i, y[i], want[i])
			}
		}
	}
}

func TestDepthwise(t *testing.T) { bothPaths(t, testDepthwise) }

func testDepthwise(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, g := range convCases(r) {
		oh, ow := g.out()
		x := randSlice(r, g.c*g.h*g.w)
		f := randSlice(r, g.c*g.kh*g.kw)
		dy := randSlice(r, g.c*oh*ow)

		y := randSlice(r, g.c*oh*ow) // overwritten
		DepthwiseForward(y, x, f, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
		// Each channel is a one-channel convolution.
		one := g
		one.c = 1
		plane := g.h * g.w
		for ci := 0; ci < g.c; ci++ {
			want := naiveConv(x[ci*plane:(ci+1)*plane], f[ci*g.kh*g.kw:(ci+1)*g.kh*g.kw], 1, one)
			for i, v := range want {
				if got := y[ci*oh*ow+i]; !closeTo(float64(got), v, 1e-5) {
					t.Fatalf("%v forward: y[%d,%d] = %v, want %v", g, ci, i, got, v)
				}
			}
		}

		// Direct loops for both gradients, accumulating onto random bases.
		dx := randSlice(r, len(x))
		df := randSlice(r, len(f))
		wantDx := make([]float64, len(dx))
		wantDf := make([]float64, len(df))
		for i, v := range dx {
			wantDx[i] = float64(v)
		}
		for i, v := range df {
			wantDf[i] = float64(v)
		}
		for ci := 0; ci < g.c; ci++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					d := float64(dy[(ci*oh+i)*ow+j])
					for ki := 0; ki < g.kh; ki++ {
						for kj := 0; kj < g.kw; kj++ {
							ii, jj := i*g.stride-g.pad+ki, j*g.stride-g.pad+kj
							if ii < 0 || ii >= g.h || jj < 0 || jj >= g.w {
								continue
							}
							fi := (ci*g.kh+ki)*g.kw + kj
							xi := (ci*g.h+ii)*g.w + jj
							wantDx[xi] += d * float64(f[fi])
							wantDf[fi] += d * float64(x[xi])
						}
					}
				}
			}
		}
		DepthwiseBackwardInput(dx, dy, f, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
		DepthwiseBackwardFilter(df, dy, x, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
		for i, v := range wantDx {
			if !closeTo(float64(dx[i]), v, 1e-5) {
				t.Fatalf("%v: dx[%d] = %v, want %v", g, i, dx[i], v)
			}
		}
		for i, v := range wantDf {
			if !closeTo(float64(df[i]), v, 1e-5) {
				t.Fatalf("%v: df[%d] = %v, want %v", g, i, df[i], v)
			}
		}
	}
}

func TestConvKernelsPanicOnShortSlices(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	x := make([]float32, 2*5*5)
	mustPanic("Im2Col dst", func() { Im2Col(make([]float32, 10), x, 2, 5, 5, 3, 3, 1, 1) })
	mustPanic("Col2Im col", func() { Col2Im(x, make([]float32, 10), 2, 5, 5, 3, 3, 1, 1) })
	mustPanic("DepthwiseForward f", func() { DepthwiseForward(make([]float32, 50), x, make([]float32, 9), 2, 5, 5, 3, 3, 1, 1) })
	mustPanic("stride 0", func() { Im2Col(make([]float32, 1000), x, 2, 5, 5, 3, 3, 0, 1) })
	mustPanic("AddPlaneBias y", func() { AddPlaneBias(x, make([]float32, 3), 17) })
	mustPanic("AddPlaneSums x", func() { AddPlaneSums(make([]float32, 3), x, 17) })
}

func ExampleIm2Col() {
	// One 3×3 channel, 2×2 kernel, stride 1, no padding: four output
	// positions, each column one receptive field.
	x := []float32{
		1, 2, 3,
		4, 5, 6,
		7, 8, 9,
	}
	oh, ow := ConvOutSize(3, 2, 1, 0), ConvOutSize(3, 2, 1, 0)
	col := make([]float32, 1*2*2*oh*ow)
	Im2Col(col, x, 1, 3, 3, 2, 2, 1, 0)
	for r := 0; r < 4; r++ {
		fmt.Println(col[r*oh*ow : (r+1)*oh*ow])
	}
	// Output:
	// [1 2 4 5]
	// [2 3 5 6]
	// [4 5 7 8]
	// [5 6 8 9]
}

func ExampleAddPlaneSums() {
	// Two output channels of a 2×2 map: the bias gradient is the sum of
	// each channel's output gradient.
	dy := []float32{1, 2, 3, 4, 0.5, 0.5, 0.5, 0.5}
	db := make([]float32, 2)
	AddPlaneSums(db, dy, 4)
	fmt.Println(db)
	// Output: [10 2]
}

func ExampleConvOutSize() {
	// LeNet: 28×28 input, 5×5 kernel; a stride-2 3×3 convolution with
	// padding 1 halves a 16×16 map.
	fmt.Println(ConvOutSize(28, 5, 1, 0), ConvOutSize(16, 3, 2, 1))
	// Output: 24 8
}

func BenchmarkIm2Col(b *testing.B) {
	for _, g := range []convCase{{32, 12, 12, 5, 5, 1, 0}, {64, 16, 16, 3, 3, 1, 1}, {32, 16, 16, 3, 3, 2, 1}} {
		b.Run(g.String(), func(b *testing.B) {
			oh, ow := g.out()
			x := make([]float32, g.c*g.h*g.w)
			col := make([]float32, g.c*g.kh*g.kw*oh*ow)
			b.SetBytes(int64(4 * len(col)))
			for b.Loop() {
				Im2Col(col, x, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
			}
		})
	}
}

func BenchmarkCol2Im(b *testing.B) {
	for _, g := range []convCase{{32, 12, 12, 5, 5, 1, 0}, {64, 16, 16, 3, 3, 1, 1}, {32, 16, 16, 3, 3, 2, 1}} {
		b.Run(g.String(), func(b *testing.B) {
			oh, ow := g.out()
			x := make([]float32, g.c*g.h*g.w)
			col := make([]float32, g.c*g.kh*g.kw*oh*ow)
			b.SetBytes(int64(4 * len(col)))
			for b.Loop() {
				Col2Im(x, col, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
			}
		})
	}
}

func BenchmarkDepthwise(b *testing.B) {
	g := convCase{64, 16, 16, 3, 3, 1, 1}
	oh, ow := g.out()
	r := rand.New(rand.NewPCG(1, 1))
	x, f := randSlice(r, g.c*g.h*g.w), randSlice(r, g.c*9)
	y, dx, df := make([]float32, g.c*oh*ow), make([]float32, len(x)), make([]float32, len(f))
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			DepthwiseForward(y, x, f, g.c, g.h, g.w, 3, 3, 1, 1)
		}
	})
	b.Run("backward", func(b *testing.B) {
		for b.Loop() {
			DepthwiseBackwardInput(dx, y, f, g.c, g.h, g.w, 3, 3, 1, 1)
			DepthwiseBackwardFilter(df, y, x, g.c, g.h, g.w, 3, 3, 1, 1)
		}
	})
}
