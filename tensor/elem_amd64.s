//go:build amd64 && !noasm

#include "textflag.h"

// AVX-512 elementwise kernels of training's memory-bound passes (BatchNorm,
// ReLU); elem_amd64.go documents their contracts. Each loop handles 16
// floats per step; the last n mod 16 go through a lane mask (K1), and
// masked-off lanes of a load are neither read nor faulted on. Reductions
// keep their partial sums in fixed lanes and reduce them in a fixed order,
// so a result depends on n alone.

// TAILMASK sets K1 to the low CX bits (CX < 16).
#define TAILMASK \
	MOVL  $1, AX; \
	SHLL  CX, AX; \
	DECL  AX; \
	KMOVW AX, K1

// WIDEN converts the 16 floats of z (whose low half is y) to doubles:
// the low 8 into lo, the high 8 into hi, using Y14 as scratch.
#define WIDEN(z, y, lo, hi) \
	VCVTPS2PD     y, lo; \
	VEXTRACTF64X4 $1, z, Y14; \
	VCVTPS2PD     Y14, hi

// HSUMPD reduces the 8 double lanes of Z register z (low half y, low
// quarter x) to lane 0 of x, using Y13 and X13 as scratch.
#define HSUMPD(z, y, x) \
	VEXTRACTF64X4 $1, z, Y13; \
	VADDPD        Y13, y, y; \
	VEXTRACTF128  $1, y, X13; \
	VADDPD        X13, x, x; \
	VPERMILPD     $1, x, X13; \
	VADDSD        X13, x, x

// func moments64AVX512(x *float32, n int) (s, ss float64)
TEXT ·moments64AVX512(SB), NOSPLIT, $0-32
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3

mom_16:
	CMPQ        CX, $16
	JLT         mom_tail
	VMOVUPS     (SI), Z4
	WIDEN(Z4, Y4, Z5, Z6)
	VADDPD      Z5, Z0, Z0
	VADDPD      Z6, Z1, Z1
	VFMADD231PD Z5, Z5, Z2
	VFMADD231PD Z6, Z6, Z3
	ADDQ        $64, SI
	SUBQ        $16, CX
	JMP         mom_16

mom_tail:
	TESTQ       CX, CX
	JZ          mom_reduce
	TAILMASK
	VMOVUPS.Z   (SI), K1, Z4
	WIDEN(Z4, Y4, Z5, Z6)
	VADDPD      Z5, Z0, Z0
	VADDPD      Z6, Z1, Z1
	VFMADD231PD Z5, Z5, Z2
	VFMADD231PD Z6, Z6, Z3

mom_reduce:
	VADDPD Z1, Z0, Z0
	VADDPD Z3, Z2, Z2
	HSUMPD(Z0, Y0, X0)
	HSUMPD(Z2, Y2, X2)
	VMOVSD X0, s+16(FP)
	VMOVSD X2, ss+24(FP)
	VZEROUPPER
	RET

// func sumDot64AVX512(d, x *float32, n int) (sd, sdx float64)
TEXT ·sumDot64AVX512(SB), NOSPLIT, $0-40
	MOVQ   d+0(FP), SI
	MOVQ   x+8(FP), DI
	MOVQ   n+16(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3

sd_16:
	CMPQ        CX, $16
	JLT         sd_tail
	VMOVUPS     (SI), Z4
	VMOVUPS     (DI), Z7
	WIDEN(Z4, Y4, Z5, Z6)
	WIDEN(Z7, Y7, Z8, Z9)
	VADDPD      Z5, Z0, Z0
	VADDPD      Z6, Z1, Z1
	VFMADD231PD Z5, Z8, Z2
	VFMADD231PD Z6, Z9, Z3
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         sd_16

sd_tail:
	TESTQ       CX, CX
	JZ          sd_reduce
	TAILMASK
	VMOVUPS.Z   (SI), K1, Z4
	VMOVUPS.Z   (DI), K1, Z7
	WIDEN(Z4, Y4, Z5, Z6)
	WIDEN(Z7, Y7, Z8, Z9)
	VADDPD      Z5, Z0, Z0
	VADDPD      Z6, Z1, Z1
	VFMADD231PD Z5, Z8, Z2
	VFMADD231PD Z6, Z9, Z3

sd_reduce:
	VADDPD Z1, Z0, Z0
	VADDPD Z3, Z2, Z2
	HSUMPD(Z0, Y0, X0)
	HSUMPD(Z2, Y2, X2)
	VMOVSD X0, sd+24(FP)
	VMOVSD X2, sdx+32(FP)
	VZEROUPPER
	RET

// func affineAVX512(y, r, x *float32, n int, a, b float32)
TEXT ·affineAVX512(SB), NOSPLIT, $0-40
	MOVQ         y+0(FP), DI
	MOVQ         r+8(FP), DX
	MOVQ         x+16(FP), SI
	MOVQ         n+24(FP), CX
	VBROADCASTSS a+32(FP), Z8
	VBROADCASTSS b+36(FP), Z9
	VPXORD       Z15, Z15, Z15
	TESTQ        DX, DX
	JZ           aff_16

	// y and r = max(y, 0).
affr_16:
	CMPQ        CX, $16
	JLT         affr_tail
	VMOVUPS     (SI), Z0
	VFMADD213PS Z9, Z8, Z0
	VMAXPS      Z15, Z0, Z1
	VMOVUPS     Z0, (DI)
	VMOVUPS     Z1, (DX)
	ADDQ        $64, SI
	ADDQ        $64, DI
	ADDQ        $64, DX
	SUBQ        $16, CX
	JMP         affr_16

affr_tail:
	TESTQ       CX, CX
	JZ          aff_done
	TAILMASK
	VMOVUPS.Z   (SI), K1, Z0
	VFMADD213PS Z9, Z8, Z0
	VMAXPS      Z15, Z0, Z1
	VMOVUPS     Z0, K1, (DI)
	VMOVUPS     Z1, K1, (DX)
	JMP         aff_done

	// y alone.
aff_16:
	CMPQ        CX, $16
	JLT         aff_tail
	VMOVUPS     (SI), Z0
	VFMADD213PS Z9, Z8, Z0
	VMOVUPS     Z0, (DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         aff_16

aff_tail:
	TESTQ       CX, CX
	JZ          aff_done
	TAILMASK
	VMOVUPS.Z   (SI), K1, Z0
	VFMADD213PS Z9, Z8, Z0
	VMOVUPS     Z0, K1, (DI)

aff_done:
	VZEROUPPER
	RET

// func linCombAVX512(dst, u, v *float32, n int, a, b, c float32)
TEXT ·linCombAVX512(SB), NOSPLIT, $0-44
	MOVQ         dst+0(FP), DI
	MOVQ         u+8(FP), DX
	MOVQ         v+16(FP), SI
	MOVQ         n+24(FP), CX
	VBROADCASTSS a+32(FP), Z8
	VBROADCASTSS b+36(FP), Z9
	VBROADCASTSS c+40(FP), Z10

lc_16:
	CMPQ        CX, $16
	JLT         lc_tail
	VMOVUPS     (SI), Z0
	VFMADD213PS Z10, Z9, Z0
	VFMADD231PS (DX), Z8, Z0
	VMOVUPS     Z0, (DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	ADDQ        $64, DX
	SUBQ        $16, CX
	JMP         lc_16

lc_tail:
	TESTQ       CX, CX
	JZ          lc_done
	TAILMASK
	VMOVUPS.Z   (SI), K1, Z0
	VMOVUPS.Z   (DX), K1, Z1
	VFMADD213PS Z10, Z9, Z0
	VFMADD231PS Z1, Z8, Z0
	VMOVUPS     Z0, K1, (DI)

lc_done:
	VZEROUPPER
	RET

// func reluAVX512(y, x *float32, n int)
TEXT ·reluAVX512(SB), NOSPLIT, $0-24
	MOVQ   y+0(FP), DI
	MOVQ   x+8(FP), SI
	MOVQ   n+16(FP), CX
	VPXORD Z15, Z15, Z15

relu_64:
	CMPQ    CX, $64
	JLT     relu_16
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS 128(SI), Z2
	VMOVUPS 192(SI), Z3
	VMAXPS  Z15, Z0, Z0
	VMAXPS  Z15, Z1, Z1
	VMAXPS  Z15, Z2, Z2
	VMAXPS  Z15, Z3, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, SI
	ADDQ    $256, DI
	SUBQ    $64, CX
	JMP     relu_64

relu_16:
	CMPQ    CX, $16
	JLT     relu_tail
	VMOVUPS (SI), Z0
	VMAXPS  Z15, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     relu_16

relu_tail:
	TESTQ     CX, CX
	JZ        relu_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VMAXPS    Z15, Z0, Z0
	VMOVUPS   Z0, K1, (DI)

relu_done:
	VZEROUPPER
	RET

// func reluGradAVX512(dx, dy, z *float32, n int)
TEXT ·reluGradAVX512(SB), NOSPLIT, $0-32
	MOVQ   dx+0(FP), DI
	MOVQ   dy+8(FP), DX
	MOVQ   z+16(FP), SI
	MOVQ   n+24(FP), CX
	VPXORD Z15, Z15, Z15

rg_16:
	CMPQ      CX, $16
	JLT       rg_tail
	VCMPPS    $0x11, (SI), Z15, K2
	VMOVUPS.Z (DX), K2, Z0
	VMOVUPS   Z0, (DI)
	ADDQ      $64, SI
	ADDQ      $64, DI
	ADDQ      $64, DX
	SUBQ      $16, CX
	JMP       rg_16

rg_tail:
	TESTQ     CX, CX
	JZ        rg_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z1
	VCMPPS    $0x1e, Z15, Z1, K2
	VMOVUPS.Z (DX), K2, Z0
	VMOVUPS   Z0, K1, (DI)

rg_done:
	VZEROUPPER
	RET

// Lane permutations for 2×2 pooling: the even and the odd elements of a
// pair of vectors (lanes 0-15 of the first, 16-31 of the second); the even
// one, as int32, is also 2·lane.
DATA pool2even<>+0(SB)/4, $0
DATA pool2even<>+4(SB)/4, $2
DATA pool2even<>+8(SB)/4, $4
DATA pool2even<>+12(SB)/4, $6
DATA pool2even<>+16(SB)/4, $8
DATA pool2even<>+20(SB)/4, $10
DATA pool2even<>+24(SB)/4, $12
DATA pool2even<>+28(SB)/4, $14
DATA pool2even<>+32(SB)/4, $16
DATA pool2even<>+36(SB)/4, $18
DATA pool2even<>+40(SB)/4, $20
DATA pool2even<>+44(SB)/4, $22
DATA pool2even<>+48(SB)/4, $24
DATA pool2even<>+52(SB)/4, $26
DATA pool2even<>+56(SB)/4, $28
DATA pool2even<>+60(SB)/4, $30
GLOBL pool2even<>(SB), RODATA|NOPTR, $64

DATA pool2odd<>+0(SB)/4, $1
DATA pool2odd<>+4(SB)/4, $3
DATA pool2odd<>+8(SB)/4, $5
DATA pool2odd<>+12(SB)/4, $7
DATA pool2odd<>+16(SB)/4, $9
DATA pool2odd<>+20(SB)/4, $11
DATA pool2odd<>+24(SB)/4, $13
DATA pool2odd<>+28(SB)/4, $15
DATA pool2odd<>+32(SB)/4, $17
DATA pool2odd<>+36(SB)/4, $19
DATA pool2odd<>+40(SB)/4, $21
DATA pool2odd<>+44(SB)/4, $23
DATA pool2odd<>+48(SB)/4, $25
DATA pool2odd<>+52(SB)/4, $27
DATA pool2odd<>+56(SB)/4, $29
DATA pool2odd<>+60(SB)/4, $31
GLOBL pool2odd<>(SB), RODATA|NOPTR, $64

// func maxPool2AVX512(dst *float32, arg *int32, x *float32, ow, w, rows, base int)
//
// Registers: SI the current pair of input rows (second row w floats on),
// DI and R8 the outputs, R9 w, R10 the plane position of the row pair,
// R11 outputs left in the row, R12 rows left, R13 ow, BX the bytes from
// the end of a row pair's used columns to the next pair, DX the block's
// output count. Z24 holds the plane positions of the block's windows.
TEXT ·maxPool2AVX512(SB), NOSPLIT, $0-56
	MOVQ         dst+0(FP), DI
	MOVQ         arg+8(FP), R8
	MOVQ         x+16(FP), SI
	MOVQ         ow+24(FP), R13
	MOVQ         w+32(FP), R9
	MOVQ         rows+40(FP), R12
	MOVQ         base+48(FP), R10
	MOVQ         R9, BX
	SUBQ         R13, BX
	SHLQ         $3, BX
	VMOVDQU32    pool2even<>(SB), Z31
	VMOVDQU32    pool2odd<>(SB), Z30
	MOVL         $1, AX
	VPBROADCASTD AX, Z29
	VPBROADCASTD R9, Z28
	VPADDD       Z29, Z28, Z27
	MOVL         $0x7fc00000, AX
	VPBROADCASTD AX, Z26
	MOVL         $32, AX
	VPBROADCASTD AX, Z25

mp_row:
	MOVQ         R13, R11
	VPBROADCASTD R10, Z24
	VPADDD       Z31, Z24, Z24

mp_block:
	MOVQ R11, DX
	CMPQ DX, $16
	JLE  mp_count
	MOVQ $16, DX

mp_count:
	// K4: the block's outputs; K5, K6: its 2·DX inputs per row.
	MOVQ  DX, CX
	MOVQ  $1, AX
	SHLQ  CX, AX
	DECQ  AX
	KMOVW AX, K4
	LEAQ  (DX)(DX*1), CX
	MOVQ  $1, AX
	SHLQ  CX, AX
	DECQ  AX
	KMOVW AX, K5
	SHRQ  $16, AX
	KMOVW AX, K6

	VMOVUPS.Z (SI), K5, Z0
	VMOVUPS.Z 64(SI), K6, Z1
	VMOVUPS.Z (SI)(R9*4), K5, Z2
	VMOVUPS.Z 64(SI)(R9*4), K6, Z3
	VMOVDQA32 Z31, Z4
	VPERMI2PS Z1, Z0, Z4
	VMOVDQA32 Z30, Z5
	VPERMI2PS Z1, Z0, Z5
	VMOVDQA32 Z31, Z6
	VPERMI2PS Z3, Z2, Z6
	VMOVDQA32 Z30, Z7
	VPERMI2PS Z3, Z2, Z7

	// K2: windows holding a NaN.
	VCMPPS $3, Z4, Z4, K2
	VCMPPS $3, Z5, Z5, K3
	KORW   K2, K3, K2
	VCMPPS $3, Z6, Z6, K3
	KORW   K2, K3, K2
	VCMPPS $3, Z7, Z7, K3
	KORW   K2, K3, K2

	// The first strict maximum in row-major order, and its position.
	VMOVDQA32 Z24, Z8
	VCMPPS    $0x1e, Z4, Z5, K1
	VPADDD    Z29, Z24, K1, Z8
	VMOVAPS   Z5, K1, Z4
	VCMPPS    $0x1e, Z4, Z6, K1
	VPADDD    Z28, Z24, K1, Z8
	VMOVAPS   Z6, K1, Z4
	VCMPPS    $0x1e, Z4, Z7, K1
	VPADDD    Z27, Z24, K1, Z8
	VMOVAPS   Z7, K1, Z4
	VMOVAPS   Z26, K2, Z4

	VMOVUPS   Z4, K4, (DI)
	VMOVDQU32 Z8, K4, (R8)
	LEAQ      (DI)(DX*4), DI
	LEAQ      (R8)(DX*4), R8
	LEAQ      (SI)(DX*8), SI
	VPADDD    Z25, Z24, Z24
	SUBQ      DX, R11
	JNZ       mp_block

	ADDQ BX, SI
	LEAQ (R10)(R9*2), R10
	DECQ R12
	JNZ  mp_row

	VZEROUPPER
	RET

// func maxPool2BiasReLUAVX512(dst, x *float32, ow, w, rows int, b float32)
//
// Registers as in maxPool2AVX512; Z23 holds b, Z15 zero.
TEXT ·maxPool2BiasReLUAVX512(SB), NOSPLIT, $0-44
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         ow+16(FP), R13
	MOVQ         w+24(FP), R9
	MOVQ         rows+32(FP), R12
	VBROADCASTSS b+40(FP), Z23
	VPXORD       Z15, Z15, Z15
	MOVQ         R9, BX
	SUBQ         R13, BX
	SHLQ         $3, BX
	VMOVDQU32    pool2even<>(SB), Z31
	VMOVDQU32    pool2odd<>(SB), Z30
	MOVL         $0x7fc00000, AX
	VPBROADCASTD AX, Z26

mb_row:
	MOVQ R13, R11

mb_block:
	MOVQ R11, DX
	CMPQ DX, $16
	JLE  mb_count
	MOVQ $16, DX

mb_count:
	MOVQ  DX, CX
	MOVQ  $1, AX
	SHLQ  CX, AX
	DECQ  AX
	KMOVW AX, K4
	LEAQ  (DX)(DX*1), CX
	MOVQ  $1, AX
	SHLQ  CX, AX
	DECQ  AX
	KMOVW AX, K5
	SHRQ  $16, AX
	KMOVW AX, K6

	VMOVUPS.Z (SI), K5, Z0
	VMOVUPS.Z 64(SI), K6, Z1
	VMOVUPS.Z (SI)(R9*4), K5, Z2
	VMOVUPS.Z 64(SI)(R9*4), K6, Z3
	VMOVDQA32 Z31, Z4
	VPERMI2PS Z1, Z0, Z4
	VMOVDQA32 Z30, Z5
	VPERMI2PS Z1, Z0, Z5
	VMOVDQA32 Z31, Z6
	VPERMI2PS Z3, Z2, Z6
	VMOVDQA32 Z30, Z7
	VPERMI2PS Z3, Z2, Z7

	// K2: windows holding a NaN, which give NaN as the portable max does.
	VCMPPS $3, Z4, Z4, K2
	VCMPPS $3, Z5, Z5, K3
	KORW   K2, K3, K2
	VCMPPS $3, Z6, Z6, K3
	KORW   K2, K3, K2
	VCMPPS $3, Z7, Z7, K3
	KORW   K2, K3, K2

	VMAXPS  Z5, Z4, Z4
	VMAXPS  Z7, Z6, Z6
	VMAXPS  Z6, Z4, Z4
	VADDPS  Z23, Z4, Z4
	VMAXPS  Z15, Z4, Z4
	VMOVAPS Z26, K2, Z4

	VMOVUPS Z4, K4, (DI)
	LEAQ    (DI)(DX*4), DI
	LEAQ    (SI)(DX*8), SI
	SUBQ    DX, R11
	JNZ     mb_block

	ADDQ BX, SI
	DECQ R12
	JNZ  mb_row

	VZEROUPPER
	RET

// SPD2 computes 16 lanes of SoftplusD2Times: Z0 holds g (and on return
// the result), Z1 z; K2 is set to the lanes with g ≠ 0 (or NaN), which
// alone take the computed value. Every step is one rounded operation in
// the portable code's order. Constants: Z15 0, Z16 beta, Z17 scale, Z18
// the sign bit, Z19 -87, Z20 log₂e, Z21 0.5, Z22 and Z23 the Cody–Waite
// ln 2 parts, Z24-Z29 the polynomial, Z30 1, Z31 127 (int32).
#define SPD2 \
	VCMPPS     $4, Z15, Z0, K2; \
	VMULPS     Z16, Z1, Z2; \
	VCMPPS     $0x1e, Z15, Z2, K3; \
	VXORPS     Z18, Z2, K3, Z2; \
	VMAXPS     Z2, Z19, Z2; \
	VMULPS     Z20, Z2, Z3; \
	VSUBPS     Z21, Z3, Z3; \
	VCVTTPS2DQ Z3, Z4; \
	VCVTDQ2PS  Z4, Z5; \
	VMULPS     Z22, Z5, Z6; \
	VSUBPS     Z6, Z2, Z6; \
	VMULPS     Z23, Z5, Z7; \
	VADDPS     Z7, Z6, Z6; \
	VMULPS     Z24, Z6, Z7; \
	VADDPS     Z25, Z7, Z7; \
	VMULPS     Z6, Z7, Z7; \
	VADDPS     Z26, Z7, Z7; \
	VMULPS     Z6, Z7, Z7; \
	VADDPS     Z27, Z7, Z7; \
	VMULPS     Z6, Z7, Z7; \
	VADDPS     Z28, Z7, Z7; \
	VMULPS     Z6, Z7, Z7; \
	VADDPS     Z29, Z7, Z7; \
	VMULPS     Z6, Z7, Z7; \
	VMULPS     Z6, Z7, Z7; \
	VADDPS     Z6, Z7, Z7; \
	VADDPS     Z30, Z7, Z7; \
	VPADDD     Z31, Z4, Z4; \
	VPSLLD     $23, Z4, Z4; \
	VMULPS     Z4, Z7, Z7; \
	VADDPS     Z30, Z7, Z8; \
	VMULPS     Z8, Z8, Z8; \
	VDIVPS     Z8, Z7, Z8; \
	VMULPS     Z8, Z0, Z8; \
	VMULPS     Z17, Z8, Z8; \
	VMOVAPS    Z8, K2, Z0

// BCAST32 broadcasts the 32-bit pattern c into every lane of z.
#define BCAST32(c, z) \
	MOVL         c, AX; \
	VPBROADCASTD AX, z

// func softplusD2TimesAVX512(dst, z, grad *float32, n int, beta, scale float32)
TEXT ·softplusD2TimesAVX512(SB), NOSPLIT, $0-40
	MOVQ         dst+0(FP), DI
	MOVQ         z+8(FP), SI
	MOVQ         grad+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS beta+32(FP), Z16
	VBROADCASTSS scale+36(FP), Z17
	VPXORD       Z15, Z15, Z15
	BCAST32($0x80000000, Z18)
	BCAST32($0xc2ae0000, Z19)
	BCAST32($0x3fb8aa3b, Z20)
	BCAST32($0x3f000000, Z21)
	BCAST32($0x3f318000, Z22)
	BCAST32($0x395e8083, Z23)
	BCAST32($0x39506967, Z24)
	BCAST32($0x3ab743ce, Z25)
	BCAST32($0x3c088908, Z26)
	BCAST32($0x3d2aa9c1, Z27)
	BCAST32($0x3e2aaaaa, Z28)
	BCAST32($0x3f000000, Z29)
	BCAST32($0x3f800000, Z30)
	BCAST32($127, Z31)

spd2_16:
	CMPQ    CX, $16
	JLT     spd2_tail
	VMOVUPS (DX), Z0
	VMOVUPS (SI), Z1
	SPD2
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	ADDQ    $64, DX
	SUBQ    $16, CX
	JMP     spd2_16

spd2_tail:
	TESTQ     CX, CX
	JZ        spd2_done
	TAILMASK
	VMOVUPS.Z (DX), K1, Z0
	VMOVUPS.Z (SI), K1, Z1
	SPD2
	VMOVUPS   Z0, K1, (DI)

spd2_done:
	VZEROUPPER
	RET

// func mulAVX512(dst, a, b *float32, n int)
TEXT ·mulAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX

mul_32:
	CMPQ    CX, $32
	JLT     mul_16
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMULPS  (DX), Z0, Z0
	VMULPS  64(DX), Z1, Z1
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	ADDQ    $128, DX
	SUBQ    $32, CX
	JMP     mul_32

mul_16:
	CMPQ    CX, $16
	JLT     mul_tail
	VMOVUPS (SI), Z0
	VMULPS  (DX), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	ADDQ    $64, DX
	SUBQ    $16, CX

mul_tail:
	TESTQ     CX, CX
	JZ        mul_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VMULPS    Z1, Z0, Z0
	VMOVUPS   Z0, K1, (DI)

mul_done:
	VZEROUPPER
	RET
