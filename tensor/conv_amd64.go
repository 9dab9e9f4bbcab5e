//go:build amd64 && !noasm

package tensor

import "golang.org/x/sys/cpu"

// convAVX512 selects the AVX-512 kernels of conv_amd64.s for the cases
// they cover (stride 1; 3×3 for depthwise). It is a variable only so that
// tests can run the portable code on the same machine and compare.
var convAVX512 = cpu.X86.HasAVX512F

// Each kernel below works in blocks of 16 columns whose lane masks come
// from Go (see laneMask); the Go wrappers in conv.go state the contracts
// and check every slice bound the kernels rely on.

// im2colS1LdAVX512 writes the kw rows (taps kj = 0…kw−1, ld floats apart)
// of the stride-1 im2col matrix that belong to one input channel and tap
// row: output row o of tap kj is source row r0+o of the h×w plane src,
// shifted by kj−pad, or zeros where that row is in the padding. masks holds, per 16-column block
// of an output row, its store mask and then the load mask of each kj.
//
//go:noescape
func im2colS1LdAVX512(dst, src *float32, masks *uint16, r0, h, w, kw, oh, ow, pad, ld int)

// col2imS1AVX512 adds into the h×w plane dst the kh·kw rows of the
// stride-1 column matrix col that belong to it, gathering every pixel's
// contributions in (ki, kj) order. masks holds, per 16-column block of an
// image row, its store mask and then the load mask of each kj.
//
//go:noescape
func col2imS1AVX512(dst, col *float32, masks *uint16, h, w, kh, kw, pad, oh, ow int)

// dw3CorrAVX512 computes one 16-column block of a stride-1 3×3
// correlation: for i < rows,
//
//	dst[i·ldd+l] = init + Σ_a Σ_b f[3a+b]·src[(i+a−q)·lds + off+b+l]
//
// over the lanes l of masks>>48, where a tap whose source row is outside
// [0, srows) or whose lane is off in masks>>(16b) adds nothing; init is
// *init, or dst[i·ldd+l] itself when init is nil (accumulate).
//
//go:noescape
func dw3CorrAVX512(dst *float32, ldd, rows int, src *float32, lds, srows, off, q int, f *float32, masks uint64, init *float32)

// dw3FilterGradAVX512 adds to df[3a+b] the sum over one 16-column block of
//
//	dy[i·ldy+l]·src[(i+a−q)·lds + off+b+l]
//
// with the same masking as dw3CorrAVX512.
//
//go:noescape
func dw3FilterGradAVX512(dy *float32, ldy, rows int, src *float32, lds, srows, off, q int, df *float32, masks uint64)

// sumAVX512 is the sum of x[:n] in a fixed order.
//
//go:noescape
func sumAVX512(x *float32, n int) float32

// addScalarAVX512 adds b to x[:n].
//
//go:noescape
func addScalarAVX512(x *float32, n int, b float32)
