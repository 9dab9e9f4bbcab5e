//go:build amd64 && !noasm

#include "textflag.h"

// AVX-512 convolution kernels; conv_amd64.go documents their contracts.
//
// Every kernel works on blocks of 16 columns. The lane masks that clip a
// block to the image and to the zero padding are computed in Go (laneMask)
// and passed in, so a tap that reads outside a row is a masked-off lane:
// masked-off elements of an AVX-512 load are neither read nor faulted on,
// which is why the address of lane 0 may lie before the start of a row.
// Rows outside the source image are skipped (or written as zeros) by an
// unsigned compare of the row index against the row count, which also
// rejects negative indices.

// DW3ARGS loads the arguments shared by the two 3×3 depthwise kernels:
// K1-K3 the tap-column masks, K4 the block's mask, SI the source plane,
// R11 its row in bytes, R10 its row count, AX the source row of tap row 0
// of output row 0 (−q) and DX that row's address at lane 0 of tap
// column 0.
#define DW3ARGS \
	MOVQ  masks+72(FP), AX; \
	KMOVW AX, K1; \
	SHRQ  $16, AX; \
	KMOVW AX, K2; \
	SHRQ  $16, AX; \
	KMOVW AX, K3; \
	SHRQ  $16, AX; \
	KMOVW AX, K4; \
	MOVQ  src+24(FP), SI; \
	MOVQ  lds+32(FP), R11; \
	SHLQ  $2, R11; \
	MOVQ  srows+40(FP), R10; \
	MOVQ  off+48(FP), DX; \
	LEAQ  (SI)(DX*4), DX; \
	MOVQ  q+56(FP), AX; \
	NEGQ  AX; \
	MOVQ  AX, R12; \
	IMULQ R11, R12; \
	ADDQ  R12, DX

// LOAD3 loads tap columns 0, 1 and 2 of the source row at p (K1-K3).
#define LOAD3(p, z0, z1, z2) \
	VMOVUPS.Z (p), K1, z0; \
	VMOVUPS.Z 4(p), K2, z1; \
	VMOVUPS.Z 8(p), K3, z2

// FMA3 adds Z4·f0 + Z5·f1 + Z6·f2 to acc, in that order.
#define FMA3(f0, f1, f2, acc) \
	VFMADD231PS Z4, f0, acc; \
	VFMADD231PS Z5, f1, acc; \
	VFMADD231PS Z6, f2, acc

// GRAD3 adds Z10·dy, Z11·dy and Z12·dy to a0, a1 and a2.
#define GRAD3(dy, a0, a1, a2) \
	VFMADD231PS Z10, dy, a0; \
	VFMADD231PS Z11, dy, a1; \
	VFMADD231PS Z12, dy, a2

// HSUM reduces the 16 lanes of Z register z (whose low half is y) to
// lane 0 of X10, using Y10 and X11 as scratch, always in the same order.
#define HSUM(z, y) \
	VEXTRACTF64X4 $1, z, Y10; \
	VADDPS        Y10, y, Y10; \
	VEXTRACTF128  $1, Y10, X11; \
	VADDPS        X11, X10, X10; \
	VPERMILPS     $0x4e, X10, X11; \
	VADDPS        X11, X10, X10; \
	VPERMILPS     $0xb1, X10, X11; \
	VADDPS        X11, X10, X10

// DFADD adds lane 0 of X10 to the float at off(DI).
#define DFADD(off) \
	VADDSS off(DI), X10, X10; \
	VMOVSS X10, off(DI)

// func im2colS1LdAVX512(dst, src *float32, masks *uint16, r0, h, w, kw, oh, ow, pad, ld int)
TEXT ·im2colS1LdAVX512(SB), NOSPLIT, $0-88
	MOVQ   dst+0(FP), DI
	MOVQ   src+8(FP), SI
	MOVQ   w+40(FP), R10
	SHLQ   $2, R10              // source row, bytes
	MOVQ   ow+64(FP), R11
	SHLQ   $2, R11              // destination row, bytes
	VPXORD Z1, Z1, Z1           // the padding rows
	XORQ   R8, R8               // kj

i2cld_tap:
	MOVQ masks+16(FP), BX       // masks of block 0
	XORQ R9, R9                 // jb, first column of the block

i2cld_block:
	KMOVW (BX), K2              // lanes inside the output row
	KMOVW 2(BX)(R8*2), K1       // lanes whose tap falls inside the image
	LEAQ  (DI)(R9*4), DX        // destination of output row 0
	MOVQ  r0+24(FP), AX         // source row of output row 0
	MOVQ  AX, R12
	IMULQ R10, R12
	ADDQ  SI, R12
	MOVQ  R9, R13
	ADDQ  R8, R13
	SUBQ  pad+72(FP), R13       // source column of lane 0: jb+kj-pad
	LEAQ  (R12)(R13*4), R12
	MOVQ  oh+56(FP), CX

i2cld_row:
	CMPQ      AX, h+32(FP)
	JCC       i2cld_zero          // row in the padding (or negative)
	VMOVUPS.Z (R12), K1, Z0
	VMOVUPS   Z0, K2, (DX)
	JMP       i2cld_next

i2cld_zero:
	VMOVUPS Z1, K2, (DX)

i2cld_next:
	ADDQ R11, DX
	ADDQ R10, R12
	INCQ AX
	DECQ CX
	JNZ  i2cld_row

	ADDQ $16, R9
	MOVQ kw+48(FP), R13
	LEAQ 2(BX)(R13*2), BX       // the next block's kw+1 masks
	CMPQ R9, ow+64(FP)
	JLT  i2cld_block

	MOVQ  ld+80(FP), R13
	SHLQ  $2, R13
	ADDQ  R13, DI               // the next tap's row of dst
	INCQ  R8
	CMPQ  R8, kw+48(FP)
	JLT   i2cld_tap
	VZEROUPPER
	RET

// func col2imS1AVX512(dst, col *float32, masks *uint16, h, w, kh, kw, pad, oh, ow int)
TEXT ·col2imS1AVX512(SB), NOSPLIT, $0-80
	MOVQ  dst+0(FP), DI
	MOVQ  col+8(FP), SI
	MOVQ  masks+16(FP), BX
	MOVQ  oh+64(FP), R11
	IMULQ ow+72(FP), R11        // p = oh·ow, one row of col
	MOVQ  R11, R10
	SHLQ  $2, R10
	SUBQ  $4, R10               // bytes from tap kj to kj+1, one column left
	IMULQ kw+48(FP), R11        // floats from tap row ki to ki+1
	XORQ  R9, R9                // jb

c2i_block:
	KMOVW (BX), K2              // lanes inside the image row
	LEAQ  (DI)(R9*4), R8        // dst row 0 of the block
	XORQ  CX, CX                // r, image row

c2i_row:
	VMOVUPS.Z (R8), K2, Z0
	XORQ      DX, DX            // ki

c2i_ki:
	MOVQ  CX, R13
	ADDQ  pad+56(FP), R13
	SUBQ  DX, R13               // o = r+pad-ki, the output row that saw it
	CMPQ  R13, oh+64(FP)
	JCC   c2i_kinext
	IMULQ ow+72(FP), R13
	ADDQ  R9, R13
	ADDQ  pad+56(FP), R13       // column of lane 0 at kj = 0: jb+pad
	MOVQ  DX, R12
	IMULQ R11, R12
	ADDQ  R13, R12
	LEAQ  (SI)(R12*4), R12
	XORQ  AX, AX                // kj

c2i_kj:
	KMOVW  2(BX)(AX*2), K1
	VADDPS (R12), Z0, K1, Z0    // merge-masked: lanes outside K1 keep Z0
	ADDQ   R10, R12
	INCQ   AX
	CMPQ   AX, kw+48(FP)
	JLT    c2i_kj

c2i_kinext:
	INCQ DX
	CMPQ DX, kh+40(FP)
	JLT  c2i_ki

	VMOVUPS Z0, K2, (R8)
	MOVQ    w+32(FP), R13
	LEAQ    (R8)(R13*4), R8
	INCQ    CX
	CMPQ    CX, h+24(FP)
	JLT     c2i_row

	ADDQ $16, R9
	MOVQ kw+48(FP), R13
	LEAQ 2(BX)(R13*2), BX
	CMPQ R9, w+32(FP)
	JLT  c2i_block
	VZEROUPPER
	RET

// The two 3×3 kernels take output rows in pairs: rows i and i+1 read
// source rows i−q … i+3−q, so the middle two are loaded once for both,
// 12 loads instead of 18 (most of them split across cache lines, which
// is what bounds these kernels). Each accumulator still receives its taps
// in row-major order, so the result does not depend on the pairing; an
// odd last row runs alone.

// func dw3CorrAVX512(dst *float32, ldd, rows int, src *float32, lds, srows, off, q int, f *float32, masks uint64, init *float32)
TEXT ·dw3CorrAVX512(SB), NOSPLIT, $0-88
	MOVQ         f+64(FP), BX
	VBROADCASTSS (BX), Z16
	VBROADCASTSS 4(BX), Z17
	VBROADCASTSS 8(BX), Z18
	VBROADCASTSS 12(BX), Z19
	VBROADCASTSS 16(BX), Z20
	VBROADCASTSS 20(BX), Z21
	VBROADCASTSS 24(BX), Z22
	VBROADCASTSS 28(BX), Z23
	VBROADCASTSS 32(BX), Z24
	DW3ARGS
	MOVQ         dst+0(FP), DI
	MOVQ         ldd+8(FP), R9
	SHLQ         $2, R9
	MOVQ         rows+16(FP), CX
	MOVQ         init+80(FP), BX

dwc_pair:
	CMPQ         CX, $2
	JLT          dwc_single
	TESTQ        BX, BX
	JZ           dwc_pacc
	VBROADCASTSS (BX), Z0
	VMOVAPS      Z0, Z1
	JMP          dwc_p0

dwc_pacc:
	VMOVUPS.Z (DI), K4, Z0
	VMOVUPS.Z (DI)(R9*1), K4, Z1

dwc_p0:
	CMPQ AX, R10
	JCC  dwc_p1
	LOAD3(DX, Z4, Z5, Z6)
	FMA3(Z16, Z17, Z18, Z0)

dwc_p1:
	LEAQ 1(AX), R12
	CMPQ R12, R10
	JCC  dwc_p2
	LEAQ (DX)(R11*1), R13
	LOAD3(R13, Z4, Z5, Z6)
	FMA3(Z19, Z20, Z21, Z0)
	FMA3(Z16, Z17, Z18, Z1)

dwc_p2:
	LEAQ 2(AX), R12
	CMPQ R12, R10
	JCC  dwc_p3
	LEAQ (DX)(R11*2), R13
	LOAD3(R13, Z4, Z5, Z6)
	FMA3(Z22, Z23, Z24, Z0)
	FMA3(Z19, Z20, Z21, Z1)

dwc_p3:
	LEAQ 3(AX), R12
	CMPQ R12, R10
	JCC  dwc_pstore
	LEAQ (DX)(R11*2), R13
	ADDQ R11, R13
	LOAD3(R13, Z4, Z5, Z6)
	FMA3(Z22, Z23, Z24, Z1)

dwc_pstore:
	VMOVUPS Z0, K4, (DI)
	VMOVUPS Z1, K4, (DI)(R9*1)
	LEAQ    (DI)(R9*2), DI
	LEAQ    (DX)(R11*2), DX
	ADDQ    $2, AX
	SUBQ    $2, CX
	JMP     dwc_pair

dwc_single:
	TESTQ        CX, CX
	JZ           dwc_done
	TESTQ        BX, BX
	JZ           dwc_sacc
	VBROADCASTSS (BX), Z0
	JMP          dwc_s0

dwc_sacc:
	VMOVUPS.Z (DI), K4, Z0

dwc_s0:
	CMPQ AX, R10
	JCC  dwc_s1
	LOAD3(DX, Z4, Z5, Z6)
	FMA3(Z16, Z17, Z18, Z0)

dwc_s1:
	LEAQ 1(AX), R12
	CMPQ R12, R10
	JCC  dwc_s2
	LEAQ (DX)(R11*1), R13
	LOAD3(R13, Z4, Z5, Z6)
	FMA3(Z19, Z20, Z21, Z0)

dwc_s2:
	LEAQ 2(AX), R12
	CMPQ R12, R10
	JCC  dwc_sstore
	LEAQ (DX)(R11*2), R13
	LOAD3(R13, Z4, Z5, Z6)
	FMA3(Z22, Z23, Z24, Z0)

dwc_sstore:
	VMOVUPS Z0, K4, (DI)

dwc_done:
	VZEROUPPER
	RET

// func dw3FilterGradAVX512(dy *float32, ldy, rows int, src *float32, lds, srows, off, q int, df *float32, masks uint64)
TEXT ·dw3FilterGradAVX512(SB), NOSPLIT, $0-80
	DW3ARGS
	MOVQ   dy+0(FP), DI
	MOVQ   ldy+8(FP), R9
	SHLQ   $2, R9
	MOVQ   rows+16(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8

dwf_pair:
	CMPQ      CX, $2
	JLT       dwf_single
	VMOVUPS.Z (DI), K4, Z9
	VMOVUPS.Z (DI)(R9*1), K4, Z13
	CMPQ      AX, R10
	JCC       dwf_p1
	LOAD3(DX, Z10, Z11, Z12)
	GRAD3(Z9, Z0, Z1, Z2)

dwf_p1:
	LEAQ 1(AX), R12
	CMPQ R12, R10
	JCC  dwf_p2
	LEAQ (DX)(R11*1), R13
	LOAD3(R13, Z10, Z11, Z12)
	GRAD3(Z9, Z3, Z4, Z5)
	GRAD3(Z13, Z0, Z1, Z2)

dwf_p2:
	LEAQ 2(AX), R12
	CMPQ R12, R10
	JCC  dwf_p3
	LEAQ (DX)(R11*2), R13
	LOAD3(R13, Z10, Z11, Z12)
	GRAD3(Z9, Z6, Z7, Z8)
	GRAD3(Z13, Z3, Z4, Z5)

dwf_p3:
	LEAQ 3(AX), R12
	CMPQ R12, R10
	JCC  dwf_pnext
	LEAQ (DX)(R11*2), R13
	ADDQ R11, R13
	LOAD3(R13, Z10, Z11, Z12)
	GRAD3(Z13, Z6, Z7, Z8)

dwf_pnext:
	LEAQ (DI)(R9*2), DI
	LEAQ (DX)(R11*2), DX
	ADDQ $2, AX
	SUBQ $2, CX
	JMP  dwf_pair

dwf_single:
	TESTQ     CX, CX
	JZ        dwf_reduce
	VMOVUPS.Z (DI), K4, Z9
	CMPQ      AX, R10
	JCC       dwf_s1
	LOAD3(DX, Z10, Z11, Z12)
	GRAD3(Z9, Z0, Z1, Z2)

dwf_s1:
	LEAQ 1(AX), R12
	CMPQ R12, R10
	JCC  dwf_s2
	LEAQ (DX)(R11*1), R13
	LOAD3(R13, Z10, Z11, Z12)
	GRAD3(Z9, Z3, Z4, Z5)

dwf_s2:
	LEAQ 2(AX), R12
	CMPQ R12, R10
	JCC  dwf_reduce
	LEAQ (DX)(R11*2), R13
	LOAD3(R13, Z10, Z11, Z12)
	GRAD3(Z9, Z6, Z7, Z8)

dwf_reduce:
	MOVQ df+64(FP), DI
	HSUM(Z0, Y0)
	DFADD(0)
	HSUM(Z1, Y1)
	DFADD(4)
	HSUM(Z2, Y2)
	DFADD(8)
	HSUM(Z3, Y3)
	DFADD(12)
	HSUM(Z4, Y4)
	DFADD(16)
	HSUM(Z5, Y5)
	DFADD(20)
	HSUM(Z6, Y6)
	DFADD(24)
	HSUM(Z7, Y7)
	DFADD(28)
	HSUM(Z8, Y8)
	DFADD(32)
	VZEROUPPER
	RET

// func sumAVX512(x *float32, n int) float32
TEXT ·sumAVX512(SB), NOSPLIT, $0-20
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3

sum_64:
	CMPQ   CX, $64
	JLT    sum_16
	VADDPS (SI), Z0, Z0
	VADDPS 64(SI), Z1, Z1
	VADDPS 128(SI), Z2, Z2
	VADDPS 192(SI), Z3, Z3
	ADDQ   $256, SI
	SUBQ   $64, CX
	JMP    sum_64

sum_16:
	CMPQ   CX, $16
	JLT    sum_tail
	VADDPS (SI), Z0, Z0
	ADDQ   $64, SI
	SUBQ   $16, CX
	JMP    sum_16

sum_tail:
	TESTQ  CX, CX
	JZ     sum_reduce
	MOVL   $1, AX
	SHLL   CX, AX
	DECL   AX
	KMOVW  AX, K1
	VADDPS (SI), Z0, K1, Z0

sum_reduce:
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	HSUM(Z0, Y0)
	VMOVSS X10, ret+16(FP)
	VZEROUPPER
	RET

// func addScalarAVX512(x *float32, n int, b float32)
TEXT ·addScalarAVX512(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS b+16(FP), Z4

add_64:
	CMPQ    CX, $64
	JLT     add_16
	VADDPS  (SI), Z4, Z0
	VADDPS  64(SI), Z4, Z1
	VADDPS  128(SI), Z4, Z2
	VADDPS  192(SI), Z4, Z3
	VMOVUPS Z0, (SI)
	VMOVUPS Z1, 64(SI)
	VMOVUPS Z2, 128(SI)
	VMOVUPS Z3, 192(SI)
	ADDQ    $256, SI
	SUBQ    $64, CX
	JMP     add_64

add_16:
	CMPQ    CX, $16
	JLT     add_tail
	VADDPS  (SI), Z4, Z0
	VMOVUPS Z0, (SI)
	ADDQ    $64, SI
	SUBQ    $16, CX
	JMP     add_16

add_tail:
	TESTQ     CX, CX
	JZ        add_done
	MOVL      $1, AX
	SHLL      CX, AX
	DECL      AX
	KMOVW     AX, K1
	VMOVUPS.Z (SI), K1, Z0
	VADDPS    Z4, Z0, Z0
	VMOVUPS   Z0, K1, (SI)

add_done:
	VZEROUPPER
	RET
