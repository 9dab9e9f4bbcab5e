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
