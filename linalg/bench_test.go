package linalg

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// splittingOp returns an n-dimensional splitting matrix from m signed
// rank-one terms, the shape S2D produces for an MLP neuron with n−1 inputs
// and a bias, estimated from m samples.
func splittingOp(n, m int) RankOneSum {
	return randRankOne(n, m, false, rand.New(rand.NewPCG(41, 42)))
}

var benchSizes = []struct{ n, m int }{{65, 200}, {785, 200}}

// BenchmarkLanczos: matrix-free Lanczos on Σ c p pᵀ, O(m·n) per product.
func BenchmarkLanczos(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(fmt.Sprintf("n=%d/m=%d", s.n, s.m), func(b *testing.B) {
			op := splittingOp(s.n, s.m)
			r := rand.New(rand.NewPCG(1, 2))
			iters := 0
			for b.Loop() {
				e, err := Lanczos(op, LanczosOptions{}, r)
				if err != nil {
					b.Fatal(err)
				}
				iters = e.Iters
			}
			b.ReportMetric(float64(iters), "products")
		})
	}
}

// BenchmarkLanczosFormed: Lanczos on the formed matrix, O(n²) per product.
func BenchmarkLanczosFormed(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(fmt.Sprintf("n=%d/m=%d", s.n, s.m), func(b *testing.B) {
			op := Dense{N: s.n, Data: splittingOp(s.n, s.m).Matrix()}
			r := rand.New(rand.NewPCG(1, 2))
			for b.Loop() {
				if _, err := Lanczos(op, LanczosOptions{}, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDense: the reference full eigendecomposition, O(n³), on the
// formed matrix (forming it is BenchmarkRankOneSumMatrix).
func BenchmarkDense(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(fmt.Sprintf("n=%d/m=%d", s.n, s.m), func(b *testing.B) {
			a := splittingOp(s.n, s.m).Matrix()
			for b.Loop() {
				if _, err := DenseExtremes(a, s.n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRankOneSumMatrix(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(fmt.Sprintf("n=%d/m=%d", s.n, s.m), func(b *testing.B) {
			op := splittingOp(s.n, s.m)
			for b.Loop() {
				op.Matrix()
			}
		})
	}
}

// BenchmarkKnapsack: LP selection and greedy on problems shaped like a
// MobileNet round (2 groups, 14 layers, per-item costs so that no layer
// can be pruned).
func BenchmarkKnapsack(b *testing.B) {
	for _, m := range []int{50, 200} {
		p := randKnapsack(knapsackKind{groups: 2, layers: 14}, m, rand.New(rand.NewPCG(43, 44)))
		for i := range p.LayerCap {
			p.LayerCap[i] = m / 20
		}
		b.Run(fmt.Sprintf("LP/items=%d", m), func(b *testing.B) {
			for b.Loop() {
				if _, err := SolveKnapsackLP(p); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("greedy/items=%d", m), func(b *testing.B) {
			for b.Loop() {
				if _, err := SelectGreedy(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Lanczos stopping on λ_min alone with the growth step's tolerances (1e-3,
// 1e-2 for a separated λ_min) against both ends at 1e-4: products per solve.
func BenchmarkLanczosMinOnly(b *testing.B) {
	for _, s := range benchSizes {
		for _, o := range []LanczosOptions{{Tol: 1e-4}, {Tol: 1e-3, MinOnly: true, LooseTol: 1e-2}} {
			b.Run(fmt.Sprintf("n=%d/m=%d/minOnly=%v", s.n, s.m, o.MinOnly), func(b *testing.B) {
				op := splittingOp(s.n, s.m)
				r := rand.New(rand.NewPCG(1, 2))
				iters := 0
				for b.Loop() {
					e, err := Lanczos(op, o, r)
					if err != nil && !errors.Is(err, ErrNotConverged) {
						b.Fatal(err)
					}
					iters = e.Iters
				}
				b.ReportMetric(float64(iters), "products")
			})
		}
	}
}
