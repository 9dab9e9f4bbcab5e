package tensor

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// elemLens covers empty, sub-vector, exact-vector and ragged lengths.
var elemLens = []int{0, 1, 5, 15, 16, 17, 31, 49, 64, 100, 784, 1001}

// withElemPaths runs f with the portable kernels and, where the machine
// has them, the AVX-512 ones.
func withElemPaths(t *testing.T, f func(t *testing.T, asm bool)) {
	defer func(on bool) { elemAVX512 = on }(elemAVX512)
	has := elemAVX512
	elemAVX512 = false
	t.Run("portable", func(t *testing.T) { f(t, false) })
	if has {
		elemAVX512 = true
		t.Run("avx512", func(t *testing.T) { f(t, true) })
	}
}

func near64(a, b, scale float64) bool { return math.Abs(a-b) <= 1e-12*scale }

// The reductions equal float64 sums formed one term at a time, to float64
// rounding, on every tail length and an unaligned start.
func TestElemReductions(t *testing.T) {
	withElemPaths(t, func(t *testing.T, asm bool) {
		r := rand.New(rand.NewPCG(2, 2))
		for _, n := range elemLens {
			buf := randSlice(r, n+1)
			d, x := buf[1:], randSlice(r, n) // d starts off a 64-byte boundary
			var s, ss, sd, sdx, scale float64
			for i := range n {
				s += float64(x[i])
				ss += float64(x[i]) * float64(x[i])
				sd += float64(d[i])
				sdx += float64(d[i]) * float64(x[i])
				scale += 1 + math.Abs(float64(x[i]))
			}
			gs, gss := Moments64(x)
			if !near64(gs, s, scale) || !near64(gss, ss, scale) {
				t.Errorf("n=%d: Moments64 = %v, %v; want %v, %v", n, gs, gss, s, ss)
			}
			gsd, gsdx := SumDot64(d, x)
			if !near64(gsd, sd, scale) || !near64(gsdx, sdx, scale) {
				t.Errorf("n=%d: SumDot64 = %v, %v; want %v, %v", n, gsd, gsdx, sd, sdx)
			}
		}
	})
}

// The elementwise maps equal their definitions (to one float32 rounding
// for the affine ones) and never write past len(x).
func TestElemMaps(t *testing.T) {
	withElemPaths(t, func(t *testing.T, asm bool) {
		r := rand.New(rand.NewPCG(3, 3))
		const guard = 7
		for _, n := range elemLens {
			x, u := randSlice(r, n), randSlice(r, n)
			x = append(x, 0) // an exact zero: ReLU and its mask at 0
			u = append(u, 1)
			n := n + 1
			a, b, c := float32(1.7), float32(-0.3), float32(0.05)
			y, rl := make([]float32, n+guard), make([]float32, n+guard)
			for i := n; i < n+guard; i++ {
				y[i], rl[i] = 99, 99
			}
			AffineReLU(y, rl, x, a, b)
			for i := range n {
				want := float64(a)*float64(x[i]) + float64(b)
				if math.Abs(float64(y[i])-want) > 1e-6*(1+math.Abs(want)) {
					t.Fatalf("n=%d: AffineReLU y[%d] = %v, want %v", n, i, y[i], want)
				}
				if rl[i] != max(y[i], 0) {
					t.Fatalf("n=%d: AffineReLU r[%d] = %v, y %v", n, i, rl[i], y[i])
				}
			}
			y2 := make([]float32, n+guard)
			y2[n] = 99
			Affine(y2, x, a, b)
			if !slices.Equal(y2[:n], y[:n]) || y2[n] != 99 {
				t.Fatalf("n=%d: Affine differs from AffineReLU's y or wrote past n", n)
			}
			LinComb(y2, u, x, a, b, c)
			for i := range n {
				want := float64(a)*float64(u[i]) + float64(b)*float64(x[i]) + float64(c)
				if math.Abs(float64(y2[i])-want) > 1e-6*(1+math.Abs(want)) {
					t.Fatalf("n=%d: LinComb[%d] = %v, want %v", n, i, y2[i], want)
				}
			}
			ReLU(y, x)
			ReLUGrad(y2, u, x)
			for i := range n {
				if y[i] != max(x[i], 0) || math.Signbit(float64(y[i])) {
					t.Fatalf("n=%d: ReLU(%v) = %v", n, x[i], y[i])
				}
				want := float32(0)
				if x[i] > 0 {
					want = u[i]
				}
				if y2[i] != want {
					t.Fatalf("n=%d: ReLUGrad at z=%v: %v, want %v", n, x[i], y2[i], want)
				}
			}
			for i := n; i < n+guard; i++ {
				if y[i] != 99 || rl[i] != 99 {
					t.Fatalf("n=%d: wrote past the end", n)
				}
			}
		}
	})
}

// The AVX-512 kernels agree with the portable ones: exactly for ReLU and
// its gradient, to rounding elsewhere.
func TestElemAsmMatchesPortable(t *testing.T) {
	if !elemAVX512 {
		t.Skip("no AVX-512 on this machine or build")
	}
	defer func(on bool) { elemAVX512 = on }(elemAVX512)
	r := rand.New(rand.NewPCG(4, 4))
	x, d := randSlice(r, 1003), randSlice(r, 1003)
	run := func(asm bool) (out [3][]float32, sums [4]float64) {
		elemAVX512 = asm
		for i := range out {
			out[i] = make([]float32, len(x))
		}
		sums[0], sums[1] = Moments64(x)
		sums[2], sums[3] = SumDot64(d, x)
		ReLU(out[0], x)
		ReLUGrad(out[1], d, x)
		AffineReLU(out[2], out[2], x, 0.5, 0.25) // r overwrites y
		return out, sums
	}
	a, as := run(true)
	p, ps := run(false)
	for i := range as {
		if !near64(as[i], ps[i], 2000) {
			t.Errorf("sum %d: asm %v, portable %v", i, as[i], ps[i])
		}
	}
	if !slices.Equal(a[0], p[0]) || !slices.Equal(a[1], p[1]) {
		t.Error("ReLU or ReLUGrad: asm differs from portable")
	}
	for i := range a[2] {
		if math.Abs(float64(a[2][i]-p[2][i])) > 1e-6 {
			t.Fatalf("AffineReLU[%d]: asm %v, portable %v", i, a[2][i], p[2][i])
		}
	}
}

// One BatchNorm-sized plane set: 128 images × 16 channels × 28×28.
const elemBenchN = 128 * 16 * 28 * 28

func benchElem(b *testing.B, f func(x, y, z []float32)) {
	r := rand.New(rand.NewPCG(1, 1))
	x, y, z := randSlice(r, elemBenchN), randSlice(r, elemBenchN), make([]float32, elemBenchN)
	b.SetBytes(4 * elemBenchN)
	b.ResetTimer()
	for b.Loop() {
		f(x, y, z)
	}
}

func BenchmarkMoments64(b *testing.B) {
	benchElem(b, func(x, _, _ []float32) { Moments64(x) })
}

func BenchmarkSumDot64(b *testing.B) {
	benchElem(b, func(x, y, _ []float32) { SumDot64(x, y) })
}

func BenchmarkAffineReLU(b *testing.B) {
	benchElem(b, func(x, y, z []float32) { AffineReLU(y, z, x, 1.5, -0.5) })
}

func BenchmarkLinComb(b *testing.B) {
	benchElem(b, func(x, y, z []float32) { LinComb(z, x, y, 1.5, -0.5, 0.1) })
}

func BenchmarkReLU(b *testing.B) {
	benchElem(b, func(x, y, _ []float32) { ReLU(y, x) })
}

func BenchmarkReLUGrad(b *testing.B) {
	benchElem(b, func(x, y, z []float32) { ReLUGrad(z, y, x) })
}
