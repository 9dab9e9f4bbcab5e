package tensor

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// softplusInputs draws z over the exponential's whole range (including
// past its -87 clamp and exact zeros of both signs) and g with three of
// four values ±0, as behind a max pool.
func softplusInputs(r *rand.Rand, n int) (z, g []float32) {
	z, g = make([]float32, n+1)[1:], make([]float32, n) // z off a 64-byte boundary
	for i := range z {
		switch r.IntN(8) {
		case 0:
			z[i] = 0
		case 1:
			z[i] = float32(math.Copysign(0, -1))
		case 2:
			z[i] = float32(r.NormFloat64() * 40)
		default:
			z[i] = float32(r.NormFloat64())
		}
		switch r.IntN(4) {
		case 0:
			g[i] = float32(r.NormFloat64())
		case 1:
			g[i] = float32(math.Copysign(0, -1))
		}
	}
	return z, g
}

// SoftplusD2Times equals its float64 definition to float32 rounding, and
// the AVX-512 kernel gives the portable code's bits.
func TestSoftplusD2Times(t *testing.T) {
	var want [][]float32
	withElemPaths(t, func(t *testing.T, asm bool) {
		r := rand.New(rand.NewPCG(4, 4))
		for li, n := range append(elemLens, 4096) {
			z, g := softplusInputs(r, n)
			dst := make([]float32, n)
			for i := range dst {
				dst[i] = float32(math.NaN())
			}
			const beta, scale = 3, 0.7
			SoftplusD2Times(dst, z, g, beta, scale*beta)
			for i := range dst {
				// The exponential's argument is rounded to float32 first
				// (relative error 6e-8 times |beta·z| in e).
				x := math.Abs(float64(float32(beta * z[i])))
				e := math.Exp(-x)
				ref := float64(g[i]) * beta * e / ((1 + e) * (1 + e)) * scale
				if g[i] == 0 {
					if math.Float32bits(dst[i]) != math.Float32bits(g[i]) {
						t.Fatalf("n=%d i=%d: g=%g gives %g", n, i, g[i], dst[i])
					}
					continue
				}
				if x > 87 {
					e = math.Exp(-87) // the clamp
					ref = float64(g[i]) * beta * e / ((1 + e) * (1 + e)) * scale
				}
				if d := math.Abs(float64(dst[i]) - ref); d > 1e-6*math.Abs(ref)+1e-44 { // subnormals: absolute
					t.Fatalf("n=%d i=%d z=%g g=%g: %g, want %g", n, i, z[i], g[i], dst[i], ref)
				}
			}
			if !asm {
				want = append(want, dst)
			} else if w := want[li]; !bitsEqual(dst, w) {
				t.Fatalf("n=%d: the AVX-512 kernel differs from the portable code", n)
			}
		}
	})
}

func bitsEqual(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

// The exponential is within 2 ulp of e^x over [-87, 0].
func TestExpNeg32(t *testing.T) {
	for i := 0; i <= 870000; i++ {
		x := float32(-float64(i) * 1e-4)
		got, want := float64(ExpNeg32(x)), math.Exp(float64(x))
		if math.Abs(got-want) > 2.4e-7*want {
			t.Fatalf("ExpNeg32(%g) = %g, want %g", x, got, want)
		}
	}
	if v := ExpNeg32(float32(math.NaN())); !math.IsNaN(float64(v)) {
		t.Fatalf("ExpNeg32(NaN) = %g", v)
	}
}

// BenchmarkSoftplusD2Times: one 28×28 plane, a quarter of its gradients
// nonzero (a pooled layer).
func BenchmarkSoftplusD2Times(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 5))
	z, g := softplusInputs(r, 784)
	dst := make([]float32, 784)
	for b.Loop() {
		SoftplusD2Times(dst, z, g, 3, 3)
	}
}

// Mul is the elementwise product, bitwise, on every tail length and an
// unaligned start.
func TestMul(t *testing.T) {
	withElemPaths(t, func(t *testing.T, asm bool) {
		r := rand.New(rand.NewPCG(6, 6))
		for _, n := range append(elemLens, 4099) {
			a, b := randSlice(r, n+1)[1:], randSlice(r, n)
			dst := make([]float32, n+1)
			dst[n] = 7
			Mul(dst, a, b)
			for i := range n {
				if math.Float32bits(dst[i]) != math.Float32bits(a[i]*b[i]) {
					t.Fatalf("n=%d i=%d: %g·%g = %g", n, i, a[i], b[i], dst[i])
				}
			}
			if dst[n] != 7 {
				t.Fatalf("n=%d: wrote past the end", n)
			}
		}
	})
}
