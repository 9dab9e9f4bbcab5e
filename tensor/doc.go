// Package tensor holds nadir's float32 storage and the few kernels that
// training spends its time in: GEMM (every transpose combination), im2col /
// col2im convolution, depthwise convolution and pooling.
//
// The entry points are deliberately few and narrow (Gemm, Im2Col, Col2Im,
// the depthwise and pooling kernels) so that fast paths can live behind
// them: on amd64, Gemm runs packed, cache-blocked AVX-512 or AVX2+FMA
// micro-kernels chosen at run time from the CPU's features; the portable Go
// path stays as the reference and is selected with the noasm build tag.
// Stride-1 im2col/col2im and the 3×3 depthwise kernels have AVX-512 paths
// too (hand-written, in conv_amd64.s), tested against the portable code, as
// do the elementwise passes of training (elem_amd64.s): BatchNorm's float64
// sums (Moments64, SumDot64) and affine maps (AffineReLU, LinComb), ReLU
// and its gradient, the 2×2 stride-2 max pool, and two passes of the
// splitting statistics (SoftplusD2Times, Mul), which give the portable
// code's bits.
//
// Kernels parallelise over a fixed partition of the work (ParallelFor),
// never over a scheduler-dependent one, so results are identical from run
// to run. Buffers are reused through Reshape, which keeps a steady-state
// training step free of allocation. Shape mismatches inside kernels are
// programmer errors and panic, as in gonum.
package tensor
