package split

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// synthStats is a conv-like layer: many rows, small K.
func synthStats(m, k, units int) *LayerStats {
	r := rand.New(rand.NewPCG(1, 2))
	st := &LayerStats{Units: units, K: k, M: m, Batches: 10, P: make([]float32, m*k), C: make([]float32, m*units)}
	for i := range st.P {
		st.P[i] = float32(r.NormFloat64())
	}
	for i := range st.C {
		st.C[i] = float32(r.NormFloat64())
	}
	return st
}

func TestDenseMatricesMatchesPerNeuron(t *testing.T) {
	st := synthStats(3000, 13, 5)
	all := st.DenseMatrices()
	for i := 0; i < st.Units; i++ {
		one := st.DenseMatrix(i)
		for j := range one {
			if d := one[j] - all[i][j]; d > 1e-3 || d < -1e-3 {
				t.Fatalf("neuron %d entry %d: %v vs %v", i, j, one[j], all[i][j])
			}
		}
	}
}

// Forming all splitting matrices of a conv layer (the reference approach's
// dominant cost at small K): per neuron vs all at once.
func BenchmarkFormPerNeuron(b *testing.B) {
	st := synthStats(60000, 72, 16)
	for i := 0; i < b.N; i++ {
		for u := 0; u < st.Units; u++ {
			st.DenseMatrix(u)
		}
	}
}

func BenchmarkFormAllAtOnce(b *testing.B) {
	st := synthStats(60000, 72, 16)
	for i := 0; i < b.N; i++ {
		st.DenseMatrices()
	}
}

// synthConv is a convolution's statistics kept as its input images (rows
// rebuilt per example): n examples of c×h×w, 3×3 "same" windows, and the
// coefficients of a layer followed by a 2×2 max pool (one row in four of
// each window nonzero per unit, as the pool's gradient leaves them).
func synthConv(n, c, h, w, units int) *LayerStats {
	r := rand.New(rand.NewPCG(3, 4))
	pos := h * w
	st := &LayerStats{Units: units, K: c * 9, M: n * pos, Pos: pos, Batches: 1,
		Geom: ConvGeom{C: c, H: h, W: w, Kernel: 3, Stride: 1, Pad: 1},
		X:    make([]float32, n*c*h*w), C: make([]float32, n*pos*units), BatchRows: []int{0, n * pos}}
	for i := range st.X {
		st.X[i] = float32(r.NormFloat64())
	}
	for e := 0; e < n; e++ {
		for y := 0; y < h; y += 2 {
			for x := 0; x < w; x += 2 {
				for u := 0; u < units; u++ {
					q := (y+r.IntN(2))*w + x + r.IntN(2)
					st.C[(e*pos+q)*units+u] = float32(r.NormFloat64())
				}
			}
		}
	}
	return st
}

// Forming a small convolution's matrices from rows rebuilt per example
// (Collect's per-batch forming of the first layer: 28×28, K = 9).
func BenchmarkFormConvPooled(b *testing.B) {
	st := synthConv(128, 1, 28, 28, 16)
	for b.Loop() {
		st.DenseMatrices()
	}
}

// The batched matrix-free Lanczos on the growth benchmark's 14×14 layer
// (K = 144, 16 neurons, 128 examples): sweeps of two GEMMs per example.
func BenchmarkSolveBatchedConv(b *testing.B) {
	st := synthConv(128, 16, 14, 14, 16)
	for b.Loop() {
		if _, err := Solve(context.Background(), st, SolverOptions{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// One batched product over the 14×14 layer (128 examples) for 1 and for 16
// neurons: most of a product's cost is rebuilding and packing the patches,
// so the single-neuron products at the end of a solve cost most of a full
// one.
func benchProduct(b *testing.B, neurons int) {
	st := synthConv(128, 16, 14, 14, 16)
	p := newBatchedProduct(st, st.M)
	for b.Loop() {
		v := p.start(neurons)
		for k := range v {
			v[k] = float32(k%7) - 3
		}
		for j := range p.idx {
			p.idx[j] = j
		}
		p.run()
	}
}

func BenchmarkBatchedProduct1(b *testing.B)  { benchProduct(b, 1) }
func BenchmarkBatchedProduct16(b *testing.B) { benchProduct(b, 16) }

// The pairwise-product forming (CollectOptions.Pairs) on the same layer.
func BenchmarkFormPairsConvPooled(b *testing.B) {
	st := synthConv(128, 1, 28, 28, 16)
	for b.Loop() {
		st.formPairs()
	}
}

// formPairs gives formSums' matrices to float32 rounding (of sums over
// thousands of rows, so relative to each matrix's largest entry), with and
// without a bias coordinate, for a partial last group of examples.
func TestFormPairs(t *testing.T) {
	for _, bias := range []bool{false, true} {
		st := synthConv(7, 2, 28, 28, 5)
		if bias {
			st.Bias, st.K = true, st.K+1
		}
		all := make([]int, st.Units)
		for i := range all {
			all[i] = i
		}
		sums := st.formSums(all)
		got := st.formPairs()
		K := st.K
		for i := range all {
			want := symmetric(sums, K, st.Units, i, 1)
			var big float64 // float32 sums of a few thousand rows: error relative to the largest entry
			for _, w := range want {
				big = math.Max(big, math.Abs(w))
			}
			for k, w := range want {
				if g := got[i*K*K+k]; math.Abs(g-w) > 1e-5*(1+big) {
					t.Fatalf("bias %v neuron %d entry %d: %g vs %g", bias, i, k, g, w)
				}
			}
		}
	}
}

// The float32 ReLU-surrogate coefficients (CollectOptions.Fast32) of the
// growth benchmark's first layer for one batch: 128 images, 16 units,
// 28×28 positions, a gradient on one position in four (a max pool's).
func BenchmarkReluCoefficients(b *testing.B) {
	n, units, pos := 128, 16, 784
	r := rand.New(rand.NewPCG(1, 2))
	z := make([]float32, n*units*pos)
	g := make([]float32, n*units*pos)
	for i := range z {
		z[i] = float32(r.NormFloat64())
		if r.IntN(4) == 0 {
			g[i] = float32(r.NormFloat64())
		}
	}
	dst := make([]float32, n*units*pos)
	b.Run("unit-major", func(b *testing.B) {
		for b.Loop() {
			reluCoefficients(dst, n*pos, 0, z, g, n, units, pos, nil, 3, 1)
		}
	})
	b.Run("rows-before", func(b *testing.B) { // the row-major path it replaced
		for b.Loop() {
			refReluCoefficients(dst, z, g, n, units, pos, nil, 3, 1)
		}
	})
}
