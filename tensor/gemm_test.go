package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// gemmCase is one Gemm problem with padded strides.
type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	pad            int // extra elements per row of A, B and C
}

func (tc gemmCase) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%s%s/m=%d,n=%d,k=%d/alpha=%g,beta=%g/pad=%d", t(tc.transA), t(tc.transB), tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.pad)
}

// operands returns random A, B and C for tc; C is NaN-filled when beta == 0
// so that a kernel reading it is caught.
func (tc gemmCase) operands(rng *rand.Rand) (a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = ac, ar
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = bc, br
	}
	lda, ldb, ldc = ac+tc.pad, bc+tc.pad, tc.n+tc.pad
	fill := func(s []float32) []float32 {
		for i := range s {
			s[i] = rng.Float32()*2 - 1
		}
		return s
	}
	a = fill(make([]float32, max(0, (ar-1)*lda+ac)))
	b = fill(make([]float32, max(0, (br-1)*ldb+bc)))
	c = fill(make([]float32, max(0, (tc.m-1)*ldc+tc.n)))
	if tc.beta == 0 {
		for i := range c {
			c[i] = float32(math.NaN())
		}
	}
	return
}

// bound returns, per element of C, the float64 sum of |alpha·a·b| + |beta·c|
// that scales the rounding error allowed at that element.
func (tc gemmCase) bound(a []float32, lda int, b []float32, ldb int, c []float32, ldc int) []float64 {
	out := make([]float64, len(c))
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			var s float64
			for p := 0; p < tc.k; p++ {
				var av, bv float32
				if tc.transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if tc.transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += math.Abs(float64(av) * float64(bv))
			}
			s *= math.Abs(float64(tc.alpha))
			if tc.beta != 0 {
				s += math.Abs(float64(tc.beta) * float64(c[i*ldc+j]))
			}
			out[i*ldc+j] = s
		}
	}
	return out
}

// gemmImplCase is a named implementation under test.
type gemmImplCase struct {
	name string
	run  func(g *gemmArgs)
}

// checkGemmCase runs each impl on tc and compares it with gemmGeneric,
// element by element, within a forward error bound (both results may be off
// by about k·eps·Σ|alpha·a·b| + |beta·c|); padding between rows of C must be
// left untouched.
func checkGemmCase(t *testing.T, tc gemmCase, rng *rand.Rand, impls []gemmImplCase) {
	t.Helper()
	a, lda, b, ldb, c, ldc := tc.operands(rng)
	want := append([]float32(nil), c...)
	gemmGeneric(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want, ldc)
	bnd := tc.bound(a, lda, b, ldb, c, ldc)
	const eps = 1.0 / (1 << 23)
	got := make([]float32, len(c))
	for _, impl := range impls {
		copy(got, c)
		impl.run(&gemmArgs{transA: tc.transA, transB: tc.transB, m: tc.m, n: tc.n, k: tc.k, alpha: tc.alpha, beta: tc.beta,
			a: a, b: b, c: got, lda: lda, ldb: ldb, ldc: ldc})
		for idx := range got {
			i, j := idx/ldc, idx%ldc
			g, w := got[idx], want[idx]
			if j >= tc.n { // padding
				if math.Float32bits(g) != math.Float32bits(c[idx]) {
					t.Fatalf("%s %v: padding C[%d][%d] changed to %g", impl.name, tc, i, j, g)
				}
				continue
			}
			tol := 2*float64(tc.k+2)*eps*bnd[idx] + 1e-30
			if math.IsNaN(float64(g)) || math.Abs(float64(g)-float64(w)) > tol {
				t.Fatalf("%s %v: C[%d][%d] = %g, want %g (tol %g)", impl.name, tc, i, j, g, w, tol)
			}
		}
	}
}

// testKernels returns every driver configuration to check: each CPU kernel
// as installed, the same with blocking shrunk so that small problems cross
// every block boundary, without the small-problem path and with threading
// from small sizes on, and the portable Go kernel in the same driver.
func testKernels() []*gemmKernel {
	var ks []*gemmKernel
	add := func(kn *gemmKernel) {
		ks = append(ks, kn)
		tiny := *kn
		tiny.name += "/tiny-blocks"
		tiny.kc, tiny.mc, tiny.nc = 13, 2*kn.mr, 2*kn.nr
		tiny.minFlops, tiny.parFlops = 0, 1<<16
		ks = append(ks, &tiny)
	}
	for _, kn := range gemmKernels {
		add(kn)
	}
	add(&gemmKernel{name: "go-4x8", mr: 4, nr: 8, kern: goKernel(4, 8), kc: 64, mc: 64, nc: 64, minFlops: 1 << 12, parFlops: 1 << 16})
	return ks
}

func gemmCases() []gemmCase {
	var cs []gemmCase
	dims := []int{1, 7, 33, 100}
	ab := [][2]float32{{1, 0}, {-0.5, 0}, {1, 1}, {1.5, -0.25}}
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			for _, m := range dims {
				for _, n := range dims {
					for _, k := range dims {
						s := ab[(m+n+k)%len(ab)]
						cs = append(cs, gemmCase{ta, tb, m, n, k, s[0], s[1], (m + k) % 3 * 3})
					}
				}
			}
			// 1000 on one dimension at a time, and the shapes nn layers use.
			for i, d := range [][3]int{{1000, 7, 33}, {7, 1000, 33}, {33, 7, 1000}, {1000, 33, 1}, {128, 256, 784}, {32, 576, 25}, {1, 1000, 100}, {100, 1, 1000}} {
				s := ab[i%len(ab)]
				cs = append(cs, gemmCase{ta, tb, d[0], d[1], d[2], s[0], s[1], 1})
			}
		}
	}
	return cs
}

// TestGemmKernels checks every kernel configuration, the small-problem path
// and the installed Gemm against gemmGeneric.
func TestGemmKernels(t *testing.T) {
	var impls []gemmImplCase
	for _, kn := range testKernels() {
		impls = append(impls, gemmImplCase{kn.name, func(g *gemmArgs) { gemmRun(kn, g) }})
	}
	impls = append(impls, gemmImplCase{"Gemm", func(g *gemmArgs) {
		Gemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, g.c, g.ldc)
	}})
	small := append(impls, gemmImplCase{"small", gemmSmall})
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range gemmCases() {
		if tc.m*tc.n*tc.k <= 1<<16 {
			checkGemmCase(t, tc, rng, small)
		} else {
			checkGemmCase(t, tc, rng, impls)
		}
	}
}

// TestGemmZeroK: with k == 0 the product is empty and C becomes beta*C.
func TestGemmZeroK(t *testing.T) {
	for _, kn := range testKernels() {
		c := []float32{1, 2, 3, 4}
		gemmRun(kn, &gemmArgs{m: 2, n: 2, k: 0, alpha: 1, beta: 0.5, c: c, lda: 1, ldb: 2, ldc: 2})
		if c[0] != 0.5 || c[3] != 2 {
			t.Errorf("%s: k=0 beta=0.5 gave %v", kn.name, c)
		}
		nan := float32(math.NaN())
		c = []float32{nan, nan}
		gemmRun(kn, &gemmArgs{m: 1, n: 2, k: 0, alpha: 1, beta: 0, c: c, lda: 1, ldb: 2, ldc: 2})
		if c[0] != 0 || c[1] != 0 {
			t.Errorf("%s: k=0 beta=0 gave %v", kn.name, c)
		}
	}
}

// TestGemmThreadInvariance: the result must be bit-identical whatever the
// thread count, since every element is computed by the same operations.
func TestGemmThreadInvariance(t *testing.T) {
	defer SetThreads(Threads())
	rng := rand.New(rand.NewPCG(7, 8))
	for _, kn := range testKernels() {
		for _, tc := range []gemmCase{{false, true, 301, 257, 530, 1, 0, 0}, {true, false, 45, 700, 129, 0.5, 1, 2}} {
			a, lda, b, ldb, c0, ldc := tc.operands(rng)
			var first []float32
			for _, th := range []int{1, 2, 3, 7} {
				SetThreads(th)
				c := append([]float32(nil), c0...)
				gemmRun(kn, &gemmArgs{transA: tc.transA, transB: tc.transB, m: tc.m, n: tc.n, k: tc.k, alpha: tc.alpha, beta: tc.beta,
					a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc})
				if first == nil {
					first = c
					continue
				}
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
						t.Fatalf("%s %v: threads=%d differs at %d: %g vs %g", kn.name, tc, th, i, c[i], first[i])
					}
				}
			}
		}
	}
}

// TestGemmKernelInvariance: the kernels share kc, so they must agree bit
// for bit (Gemm picks one per call by shape).
func TestGemmKernelInvariance(t *testing.T) {
	if len(gemmKernels) < 2 {
		t.Skip("a single kernel on this CPU")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for _, tc := range []gemmCase{{false, false, 50, 100, 1000, 1, 0, 0}, {true, true, 33, 65, 129, -2, 0.5, 1}} {
		a, lda, b, ldb, c0, ldc := tc.operands(rng)
		var first []float32
		for _, kn := range gemmKernels {
			c := append([]float32(nil), c0...)
			gemmRun(kn, &gemmArgs{transA: tc.transA, transB: tc.transB, m: tc.m, n: tc.n, k: tc.k, alpha: tc.alpha, beta: tc.beta,
				a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc})
			if first == nil {
				first = c
				continue
			}
			for i := range c {
				if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
					t.Fatalf("%s %v: element %d = %g, %s gave %g", kn.name, tc, i, c[i], gemmKernels[0].name, first[i])
				}
			}
		}
	}
}

// TestGemmNoAlloc: repeated same-size calls reuse their packing buffers.
func TestGemmNoAlloc(t *testing.T) {
	const n = 200
	a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	for _, kn := range testKernels() {
		run := func() {
			gemmRun(kn, &gemmArgs{transB: true, m: n, n: n, k: n, alpha: 1, beta: 0, a: a, b: b, c: c, lda: n, ldb: n, ldc: n})
		}
		run()
		if allocs := testing.AllocsPerRun(20, run); allocs != 0 {
			t.Errorf("%s: %v allocations per call", kn.name, allocs)
		}
	}
}

// TestGemmConcurrent: Gemm may be called from several goroutines at once
// (layers parallelise over a batch) while calls also take helper threads
// when some are free; calls must neither deadlock nor mix.
func TestGemmConcurrent(t *testing.T) {
	defer SetThreads(Threads())
	SetThreads(4)
	rng := rand.New(rand.NewPCG(9, 10))
	tc := gemmCase{false, true, 300, 64, 250, 1, 0, 0} // above the threading threshold
	a, lda, b, ldb, c0, ldc := tc.operands(rng)
	want := append([]float32(nil), c0...)
	Gemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want, ldc)
	outs := make([][]float32, 6)
	ParallelFor(len(outs), func(lo, hi int) {
		for w := lo; w < hi; w++ {
			for rep := 0; rep < 10; rep++ {
				outs[w] = append(outs[w][:0], c0...)
				Gemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, outs[w], ldc)
			}
		}
	})
	for w, c := range outs {
		for i := range c {
			if math.Float32bits(c[i]) != math.Float32bits(want[i]) {
				t.Fatalf("goroutine %d: element %d = %g, want %g", w, i, c[i], want[i])
			}
		}
	}
}

// Gemm multiplies row-major matrices; here C = A·Bᵀ with A 2×3 and B 2×3,
// accumulating into C (beta = 1).
func ExampleGemm() {
	a := []float32{
		1, 2, 3,
		4, 5, 6,
	}
	b := []float32{
		1, 0, 1,
		0, 1, 0,
	}
	c := []float32{
		10, 10,
		10, 10,
	}
	Gemm(false, true, 2, 2, 3, 1, a, 3, b, 3, 1, c, 2)
	fmt.Println(c)
	// Output: [14 12 20 15]
}

// goKernel returns a portable micro-kernel of shape mr×nr (at most 16×64).
// It restates the assembly kernels' contract and lets the driver be tested
// on every platform.
func goKernel(mr, nr int) microKernel {
	return func(k int, a, b *float32, bstride int, c *float32, ldc int, alpha, beta float32) {
		var acc [16 * 64]float32
		as := unsafe.Slice(a, k*mr)
		bs := unsafe.Slice(b, (k-1)*bstride+nr)
		for p := 0; p < k; p++ {
			ap := as[p*mr : p*mr+mr]
			bp := bs[p*bstride : p*bstride+nr]
			for i, av := range ap {
				row := acc[i*nr : i*nr+nr]
				for j, bv := range bp {
					row[j] += av * bv
				}
			}
		}
		cs := unsafe.Slice(c, (mr-1)*ldc+nr)
		for i := 0; i < mr; i++ {
			ci := cs[i*ldc : i*ldc+nr]
			for j := range ci {
				v := alpha * acc[i*nr+j]
				if beta != 0 {
					v += beta * ci[j]
				}
				ci[j] = v
			}
		}
	}
}
