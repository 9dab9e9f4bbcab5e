//go:build amd64 && !noasm

package tensor

import "golang.org/x/sys/cpu"

// elemAVX512 selects the AVX-512 kernels of elem_amd64.s. It is a variable
// only so that tests can run the portable code on the same machine and
// compare. The Go wrappers in elem.go check every slice bound the kernels
// rely on.
var elemAVX512 = cpu.X86.HasAVX512F

// moments64AVX512 is (Σ x[i], Σ x[i]²) over x[:n], in float64.
//
//go:noescape
func moments64AVX512(x *float32, n int) (s, ss float64)

// sumDot64AVX512 is (Σ d[i], Σ d[i]·x[i]) over n values, in float64.
//
//go:noescape
func sumDot64AVX512(d, x *float32, n int) (sd, sdx float64)

// affineAVX512 sets y[i] = a·x[i] + b (one rounding) and, when r is not
// nil, r[i] = max(y[i], 0), for i < n.
//
//go:noescape
func affineAVX512(y, r, x *float32, n int, a, b float32)

// linCombAVX512 sets dst[i] = a·u[i] + (b·v[i] + c) for i < n.
//
//go:noescape
func linCombAVX512(dst, u, v *float32, n int, a, b, c float32)

// reluAVX512 sets y[i] = max(x[i], 0) for i < n.
//
//go:noescape
func reluAVX512(y, x *float32, n int)

// reluGradAVX512 sets dx[i] = dy[i] where z[i] > 0, else 0, for i < n.
//
//go:noescape
func reluGradAVX512(dx, dy, z *float32, n int)

// maxPool2AVX512 is MaxPool2DForward with 2×2 windows at stride 2 over
// rows output rows of one plane: output row i, ow values, pools input rows
// 2i and 2i+1 (w floats apart, starting at x + 2i·w); positions in arg
// are offset by base. A NaN in a window gives NaN (with the position
// unspecified); otherwise values and positions equal the portable code's.
//
//go:noescape
func maxPool2AVX512(dst *float32, arg *int32, x *float32, ow, w, rows, base int)

// maxPool2BiasReLUAVX512 is BiasReLUMaxPool2 for one plane with bias b:
// rows output rows of ow values from the h×w plane x (w floats a row).
//
//go:noescape
func maxPool2BiasReLUAVX512(dst, x *float32, ow, w, rows int, b float32)

// softplusD2TimesAVX512 is SoftplusD2Times over n values.
//
//go:noescape
func softplusD2TimesAVX512(dst, z, grad *float32, n int, beta, scale float32)

// mulAVX512 sets dst[i] = a[i]·b[i] for i < n.
//
//go:noescape
func mulAVX512(dst, a, b *float32, n int)
