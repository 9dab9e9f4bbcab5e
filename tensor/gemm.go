package tensor

import "fmt"

// Gemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices, where
// op(X) is X or its transpose. op(A) is m×k, op(B) is k×n, C is m×n; lda, ldb,
// ldc are the row strides of A, B, C as stored. When beta == 0, C is not read
// (NaNs in C are overwritten).
//
// Gemm is the one matrix-multiply entry point of nadir: every dense layer and
// convolution goes through it, so the fast paths (assembly micro-kernels) live
// behind it. Results do not depend on the number of threads' scheduling.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	gemmImpl(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmImpl is replaced by faster implementations at init time where the CPU
// allows; gemmGeneric stays the portable reference.
var gemmImpl = gemmGeneric

func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("tensor: negative gemm dimension m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	need := func(name string, s []float32, rows, cols, ld int) {
		if rows == 0 || cols == 0 {
			return
		}
		if ld < cols {
			panic(fmt.Sprintf("tensor: gemm %s stride %d < %d columns", name, ld, cols))
		}
		if len(s) < (rows-1)*ld+cols {
			panic(fmt.Sprintf("tensor: gemm %s too short: %d < %d", name, len(s), (rows-1)*ld+cols))
		}
	}
	need("A", a, ar, ac, lda)
	need("B", b, br, bc, ldb)
	need("C", c, m, n, ldc)
}

// gemmGeneric is the portable path: scale C by beta, then accumulate
// row-by-row with an inner loop over contiguous memory.
func gemmGeneric(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	parallelFor(m, func(i0, i1 int) {
		tmp := make([]float32, n)
		for i := i0; i < i1; i++ {
			ci := c[i*ldc : i*ldc+n]
			clear(tmp)
			for p := 0; p < k; p++ {
				var av float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if av == 0 {
					continue
				}
				if transB {
					for j := range tmp {
						tmp[j] += av * b[j*ldb+p]
					}
				} else {
					bp := b[p*ldb : p*ldb+n]
					for j, bv := range bp {
						tmp[j] += av * bv
					}
				}
			}
			if beta == 0 {
				for j := range ci {
					ci[j] = alpha * tmp[j]
				}
			} else {
				for j := range ci {
					ci[j] = beta*ci[j] + alpha*tmp[j]
				}
			}
		}
	})
}
