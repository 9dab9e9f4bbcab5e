//go:build !amd64 || noasm

package tensor

// Without assembly kernels Gemm keeps the portable gemmGeneric.

// gemmKernels is empty: no micro-kernel is available.
var gemmKernels []*gemmKernel
