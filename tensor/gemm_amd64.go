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
func gemmKernAVX512_12x16(k int, a, b *float32, bstride int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func packT16AVX512(dst *float32, dw int, src *float32, ld int, nrows int, mask uint16, nblk int)

//go:noescape
func packNAVX512(dst *float32, src *float32, ld int, kc int, nfull int, mask uint16, nzero int)

//go:noescape
func packNarrowAVX512(dst *float32, dw int, src *float32, ld int, kc int, lmask, smask uint16)

//go:noescape
func gemmKernAVX2_6x16(k int, a, b *float32, bstride int, c *float32, ldc int, alpha, beta float32)

// Block sizes for Zen 4 (32 KiB L1d, 1 MiB L2 per core), shared by every
// kernel (kc must be, for identical results): a kc-step A micro-panel (at
// most 14·384·4 = 21 KiB) stays in L1 while the kc×nc packed B block
// (576 KiB) streams from L2. mc only bounds the packed A block (up to
// 3 MiB, read one micro-panel at a time): the larger it is, the fewer
// times B is packed. Within the noise of this machine, kc 256-768 and nc
// 192-768 measured the same (about 105 GFLOP/s per core at 1024³).
const (
	gemmKC = 384
	gemmMC = 2016 // a multiple of every mr
	gemmNC = 384  // a multiple of every nr
	// Below gemmMinFlops (2mnk) packing does not pay: about 6×6×6.
	gemmMinFlops = 1 << 9
	// From gemmParFlops (about 80 µs on one core) a call splits over
	// threads. Below it, waking helpers and the barriers cost more than
	// they save as soon as the other core is busy: 64×64×800 (a LeNet
	// convolution, per image inside a layer's ParallelFor) ran at 88 GFLOP/s
	// on one thread and 44 on two beside another process.
	gemmParFlops = 1 << 23
)

func newKernel(name string, mr, nr int, kern microKernel, t16 bool) *gemmKernel {
	return &gemmKernel{name: name, mr: mr, nr: nr, kern: kern, kc: gemmKC, mc: gemmMC, nc: gemmNC, t16: t16,
		minFlops: gemmMinFlops, parFlops: gemmParFlops}
}

// gemmKernels lists the kernels this CPU can run, best first.
var gemmKernels []*gemmKernel

func init() {
	// cpu reports AVX-512 only where the OS also saves the zmm state.
	if cpu.X86.HasAVX512F {
		packT16, packN, packNarrow = packT16AVX512, packNAVX512, packNarrowAVX512
		gemmKernels = append(gemmKernels,
			newKernel("avx512-14x32", 14, 32, gemmKernAVX512_14x32, true),
			newKernel("avx512-12x32", 12, 32, gemmKernAVX512_12x32, true),
			newKernel("avx512-8x48", 8, 48, gemmKernAVX512_8x48, true),
			newKernel("avx512-6x64", 6, 64, gemmKernAVX512_6x64, true),
			newKernel("avx512-12x16", 12, 16, gemmKernAVX512_12x16, true))
		gemmAuto = gemmKernels
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		gemmKernels = append(gemmKernels, newKernel("avx2-6x16", 6, 16, gemmKernAVX2_6x16, false))
		if gemmAuto == nil {
			gemmAuto = gemmKernels
		}
	}
	if gemmAuto != nil {
		gemmImpl = gemmFast
	}
}
