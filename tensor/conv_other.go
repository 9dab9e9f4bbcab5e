//go:build !amd64 || noasm

package tensor

// Without assembly the convolution kernels keep their portable code;
// convAVX512 is never set, so the stubs below are never called.

var convAVX512 = false

const noConvAsm = "tensor: convolution assembly kernel called in a build without it"

func im2colS1LdAVX512(dst, src *float32, masks *uint16, r0, h, w, kw, oh, ow, pad, ld int) {
	panic(noConvAsm)
}

func col2imS1AVX512(dst, col *float32, masks *uint16, h, w, kh, kw, pad, oh, ow int) {
	panic(noConvAsm)
}

func dw3CorrAVX512(dst *float32, ldd, rows int, src *float32, lds, srows, off, q int, f *float32, masks uint64, init *float32) {
	panic(noConvAsm)
}

func dw3FilterGradAVX512(dy *float32, ldy, rows int, src *float32, lds, srows, off, q int, df *float32, masks uint64) {
	panic(noConvAsm)
}

func sumAVX512(x *float32, n int) float32 { panic(noConvAsm) }

func addScalarAVX512(x *float32, n int, b float32) { panic(noConvAsm) }
