//go:build amd64 && !noasm

package tensor

import "golang.org/x/sys/cpu"

//go:generate go -C internal/asmgen run . -out ../../gemm_amd64.s

// Micro-kernels generated into gemm_amd64.s; see microKernel for the contract.

//go:noescape
func gemmKernAVX512_14x32(k int, a, b *float32, bstride int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func gemmKernAVX512_12x32(k int, a, b *float32, bstride int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func gemmKernAVX512_8x48(k int, a, b *float32, bstride int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func gemmKernAVX512_6x64(k int, a, b *float32, bstride int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func packT16AVX512(dst *float32, dw int, src *float32, ld int, nrows int, mask uint16, nblk int)

//go:noescape
func packNAVX512(dst *float32, src *float32, ld int, kc int, nfull int, mask uint16, nzero int)

//go:noescape
func gemmKernAVX2_6x16(k int, a, b *float32, bstride int, c *float32, ldc int, alpha, beta float32)

var (
	gemmAVX512 = &gemmKernel{name: "avx512-14x32", mr: 14, nr: 32, kern: gemmKernAVX512_14x32,
		kc: 384, mc: 1008, nc: 384, t16: true, minFlops: 1 << 14, parFlops: 1 << 20}
	gemmAVX512b = &gemmKernel{name: "avx512-12x32", mr: 12, nr: 32, kern: gemmKernAVX512_12x32,
		kc: 384, mc: 1008, nc: 384, t16: true, minFlops: 1 << 14, parFlops: 1 << 20}
	gemmAVX512c = &gemmKernel{name: "avx512-8x48", mr: 8, nr: 48, kern: gemmKernAVX512_8x48,
		kc: 384, mc: 1008, nc: 384, t16: true, minFlops: 1 << 14, parFlops: 1 << 20}
	gemmAVX512d = &gemmKernel{name: "avx512-6x64", mr: 6, nr: 64, kern: gemmKernAVX512_6x64,
		kc: 384, mc: 1008, nc: 384, t16: true, minFlops: 1 << 14, parFlops: 1 << 20}
	gemmAVX2 = &gemmKernel{name: "avx2-6x16", mr: 6, nr: 16, kern: gemmKernAVX2_6x16,
		kc: 256, mc: 1008, nc: 256, minFlops: 1 << 14, parFlops: 1 << 20}
)

// gemmKernels lists the kernels this CPU can run, best first.
var gemmKernels []*gemmKernel

func init() {
	// AVX-512 also needs the OS to save the zmm state, which cpu checks.
	if cpu.X86.HasAVX512F {
		packT16, packN = packT16AVX512, packNAVX512
		gemmKernels = append(gemmKernels, gemmAVX512, gemmAVX512b, gemmAVX512c, gemmAVX512d)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		gemmKernels = append(gemmKernels, gemmAVX2)
	}
	if len(gemmKernels) > 0 {
		gemmDefault = gemmKernels[0]
		gemmImpl = gemmFast
	}
}
