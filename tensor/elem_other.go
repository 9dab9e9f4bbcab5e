//go:build !amd64 || noasm

package tensor

// Without assembly the elementwise kernels keep their portable code;
// elemAVX512 is never set, so the stubs below are never called.

var elemAVX512 = false

const noElemAsm = "tensor: elementwise assembly kernel called in a build without it"

func moments64AVX512(x *float32, n int) (s, ss float64)        { panic(noElemAsm) }
func sumDot64AVX512(d, x *float32, n int) (sd, sdx float64)    { panic(noElemAsm) }
func affineAVX512(y, r, x *float32, n int, a, b float32)       { panic(noElemAsm) }
func linCombAVX512(dst, u, v *float32, n int, a, b, c float32) { panic(noElemAsm) }
func reluAVX512(y, x *float32, n int)                          { panic(noElemAsm) }
func reluGradAVX512(dx, dy, z *float32, n int)                 { panic(noElemAsm) }

func maxPool2AVX512(dst *float32, arg *int32, x *float32, ow, w, rows, base int) {
	panic(noElemAsm)
}

func maxPool2BiasReLUAVX512(dst, x *float32, ow, w, rows int, b float32) { panic(noElemAsm) }

func softplusD2TimesAVX512(dst, z, grad *float32, n int, beta, scale float32) { panic(noElemAsm) }

func mulAVX512(dst, a, b *float32, n int) { panic(noElemAsm) }
