package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchGemm times impl on an m×n×k problem with the given transposes and
// reports GFLOP/s (2mnk per call).
func benchGemm(b *testing.B, transA, transB bool, m, n, k int, impl func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)) {
	rng := rand.New(rand.NewPCG(1, 1))
	fill := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = rng.Float32()
		}
		return s
	}
	a, bm, c := fill(m*k), fill(k*n), fill(m*n)
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	impl(transA, transB, m, n, k, 1, a, lda, bm, ldb, 0, c, n) // warm the buffers
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		impl(transA, transB, m, n, k, 1, a, lda, bm, ldb, 0, c, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

var benchTrans = []struct {
	name   string
	ta, tb bool
}{{"NN", false, false}, {"NT", false, true}, {"TN", true, false}}

// BenchmarkGemm times Gemm as installed on square problems, and the portable
// gemmGeneric for comparison.
func BenchmarkGemm(b *testing.B) {
	for _, tr := range benchTrans {
		for _, n := range []int{512, 1024} {
			b.Run(fmt.Sprintf("%s/%d", tr.name, n), func(b *testing.B) { benchGemm(b, tr.ta, tr.tb, n, n, n, Gemm) })
		}
	}
	for _, n := range []int{512, 1024} {
		b.Run(fmt.Sprintf("generic/NN/%d", n), func(b *testing.B) { benchGemm(b, false, false, n, n, n, gemmGeneric) })
	}
}

// BenchmarkGemmKernels times each kernel this CPU supports at 1024³ NN.
func BenchmarkGemmKernels(b *testing.B) {
	for _, kn := range gemmKernels {
		for _, n := range []int{512, 1024} {
			b.Run(fmt.Sprintf("%s/%d", kn.name, n), func(b *testing.B) {
				benchGemm(b, false, false, n, n, n, func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, bm []float32, ldb int, beta float32, c []float32, ldc int) {
					gemmRun(kn, &gemmArgs{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta, a: a, b: bm, c: c, lda: lda, ldb: ldb, ldc: ldc})
				})
			})
		}
	}
}

// BenchmarkGemmShapes times the shapes nadir's layers produce: a dense
// layer of 784→256 on a batch of 128 (forward NT, weight gradient TN, input
// gradient NN) and a 5×5 im2col convolution with 32 filters on 24×24 output.
func BenchmarkGemmShapes(b *testing.B) {
	shapes := []struct {
		name    string
		ta, tb  bool
		m, n, k int
	}{
		{"dense-fwd-NT/128x256x784", false, true, 128, 256, 784},
		{"dense-dW-TN/256x784x128", true, false, 256, 784, 128},
		{"dense-dx-NN/128x784x256", false, false, 128, 784, 256},
		{"dense-fwd-NT/128x10x256", false, true, 128, 10, 256},
		{"conv-NN/32x576x25", false, false, 32, 576, 25},
		{"conv-NN/64x64x800", false, false, 64, 64, 800},
		{"small-NN/16x16x16", false, false, 16, 16, 16},
	}
	for _, s := range shapes {
		b.Run(s.name, func(b *testing.B) { benchGemm(b, s.ta, s.tb, s.m, s.n, s.k, Gemm) })
		b.Run(s.name+"/generic", func(b *testing.B) { benchGemm(b, s.ta, s.tb, s.m, s.n, s.k, gemmGeneric) })
	}
}
