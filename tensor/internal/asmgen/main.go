// Command asmgen generates the GEMM micro-kernels of package tensor
// (gemm_amd64.s) with avo. It lives in its own module so that the main
// module does not depend on avo; run it through go generate in tensor/.
//
// Each kernel computes one MR×NR tile of C from a packed A micro-panel
// (k steps of MR contiguous floats) and a B micro-panel (k rows of NR
// contiguous floats, bstride floats apart):
//
//	C = alpha*A·B + beta*C    (C not read when beta == 0)
//
// The accumulators stay in registers for the whole k loop: each step loads
// NR/W vectors of B, broadcasts the MR values of A and issues MR·NR/W FMAs.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

const signature = "func(k int, a, b *float32, bstride int, c *float32, ldc int, alpha, beta float32)"

// isa describes a vector extension: its register file and vector width.
type isa struct {
	name  string
	width int // float32 lanes per vector
	nregs int
	vec   func(i int) reg.VecPhysical
	zero  func(r reg.VecPhysical) // zero a register
}

func zmm(i int) reg.VecPhysical {
	return []reg.VecPhysical{reg.Z0, reg.Z1, reg.Z2, reg.Z3, reg.Z4, reg.Z5, reg.Z6, reg.Z7,
		reg.Z8, reg.Z9, reg.Z10, reg.Z11, reg.Z12, reg.Z13, reg.Z14, reg.Z15,
		reg.Z16, reg.Z17, reg.Z18, reg.Z19, reg.Z20, reg.Z21, reg.Z22, reg.Z23,
		reg.Z24, reg.Z25, reg.Z26, reg.Z27, reg.Z28, reg.Z29, reg.Z30, reg.Z31}[i]
}

func ymm(i int) reg.VecPhysical {
	return []reg.VecPhysical{reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5, reg.Y6, reg.Y7,
		reg.Y8, reg.Y9, reg.Y10, reg.Y11, reg.Y12, reg.Y13, reg.Y14, reg.Y15}[i]
}

var (
	avx512 = isa{name: "AVX512", width: 16, nregs: 32, vec: zmm,
		// VPXORD needs only AVX512F (VXORPS on zmm needs AVX512DQ).
		zero: func(r reg.VecPhysical) { VPXORD(r, r, r) }}
	avx2 = isa{name: "AVX2", width: 8, nregs: 16, vec: ymm,
		zero: func(r reg.VecPhysical) { VXORPS(r, r, r) }}
)

// unroll is how many k steps one loop iteration covers.
const unroll = 4

// kernel emits gemmKern<ISA>_<mr>x<nr>. With bcst, each FMA broadcasts its
// A element straight from memory (EVEX embedded broadcast) instead of
// through a register.
func kernel(s isa, mr, nv int, bcst bool) {
	nr := nv * s.width
	name := fmt.Sprintf("gemmKern%s_%dx%d", s.name, mr, nr)

	nacc := mr * nv
	nbc := s.nregs - nacc - nv // registers left for broadcasts
	if nbc < 1 {
		panic(name + ": not enough registers")
	}
	if nbc > 2 {
		nbc = 2
	}
	TEXT(name, NOSPLIT, signature)
	Doc(fmt.Sprintf("%s computes a %dx%d tile of C = alpha*A·B + beta*C with %s.", name, mr, nr, s.name))

	acc := func(i, v int) reg.VecPhysical { return s.vec(i*nv + v) }
	bv := func(v int) reg.VecPhysical { return s.vec(nacc + v) }
	bc := func(i int) reg.VecPhysical { return s.vec(nacc + nv + i%nbc) }
	vbytes := 4 * s.width

	k := Load(Param("k"), GP64())
	pa := Load(Param("a"), GP64())
	pb := Load(Param("b"), GP64())
	bs := Load(Param("bstride"), GP64())
	SHLQ(U8(2), bs)

	// Prefetch the C tile: its rows are far apart and usually not cached,
	// so fetching them now hides the misses behind the k loop.
	{
		pc := Load(Param("c"), GP64())
		ldc := Load(Param("ldc"), GP64())
		SHLQ(U8(2), ldc)
		for i := 0; i < mr; i++ {
			for l := 0; l < nr*4; l += 64 {
				PREFETCHT0(Mem{Base: pc, Disp: l})
			}
			if (nr*4)%64 != 0 {
				PREFETCHT0(Mem{Base: pc, Disp: nr*4 - 1})
			}
			if i < mr-1 {
				ADDQ(ldc, pc)
			}
		}
	}
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			s.zero(acc(i, v))
		}
	}

	// step emits one k step reading A at offset off of pa.
	step := func(off int) {
		for v := 0; v < nv; v++ {
			VMOVUPS(Mem{Base: pb, Disp: v * vbytes}, bv(v))
		}
		for i := 0; i < mr; i++ {
			if bcst {
				for v := 0; v < nv; v++ {
					VFMADD231PS_BCST(Mem{Base: pa, Disp: off + 4*i}, bv(v), acc(i, v))
				}
				continue
			}
			VBROADCASTSS(Mem{Base: pa, Disp: off + 4*i}, bc(i))
			for v := 0; v < nv; v++ {
				VFMADD231PS(bv(v), bc(i), acc(i, v))
			}
		}
		ADDQ(bs, pb)
	}

	n4 := GP64()
	MOVQ(k, n4)
	SHRQ(U8(2), n4)
	JZ(LabelRef("tail"))
	Label("loop")
	for u := 0; u < unroll; u++ {
		step(4 * mr * u)
	}
	ADDQ(U32(4*mr*unroll), pa)
	DECQ(n4)
	JNZ(LabelRef("loop"))

	Label("tail")
	ANDQ(U32(unroll-1), k)
	JZ(LabelRef("store"))
	Label("tailloop")
	step(0)
	ADDQ(U32(4*mr), pa)
	DECQ(k)
	JNZ(LabelRef("tailloop"))

	Label("store")
	pc := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	alpha, _ := Param("alpha").Resolve()
	beta, _ := Param("beta").Resolve()
	va, vb := bv(0), s.vec(nacc+nv) // free after the loop
	VBROADCASTSS(alpha.Addr, va)
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			VMULPS(va, acc(i, v), acc(i, v))
		}
	}
	// beta == ±0 must not read C: test the bits without the sign (a NaN
	// beta is not zero, so it reads C like the portable path).
	bbits := GP32()
	MOVL(beta.Addr, bbits)
	SHLL(U8(1), bbits)
	JNZ(LabelRef("readc"))
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			VMOVUPS(acc(i, v), Mem{Base: pc, Disp: v * vbytes})
		}
		if i < mr-1 {
			ADDQ(ldc, pc)
		}
	}
	VZEROUPPER()
	RET()

	Label("readc")
	VBROADCASTSS(beta.Addr, vb)
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			m := Mem{Base: pc, Disp: v * vbytes}
			VFMADD231PS(m, vb, acc(i, v))
			VMOVUPS(acc(i, v), m)
		}
		if i < mr-1 {
			ADDQ(ldc, pc)
		}
	}
	VZEROUPPER()
	RET()
}

// transpose emits packT16AVX512, the packing helper for the strided
// operands (op(A) = A untransposed, op(B) = Bᵀ): it reads nrows ≤ 16 rows of
// src (ld floats apart), nblk blocks of 16 floats each, and writes them
// transposed: column p of the block becomes 16 floats at dst+p*dw, of which
// the lanes set in mask are stored (rows past nrows store zeros, the panel's
// padding). Each 16×16 block is transposed in registers with 64 shuffles.
func transpose() {
	TEXT("packT16AVX512", NOSPLIT, "func(dst *float32, dw int, src *float32, ld int, nrows int, mask uint16, nblk int)")
	Doc("packT16AVX512 transposes nblk 16×16 blocks of src into dst (see packAVX512).")
	dst := Load(Param("dst"), GP64())
	dw := Load(Param("dw"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	nrows := Load(Param("nrows"), GP64())
	mask := Load(Param("mask"), GP32())
	nblk := Load(Param("nblk"), GP64())
	SHLQ(U8(2), dw)
	SHLQ(U8(2), ld)
	KMOVW(mask, reg.K1)
	TESTQ(nblk, nblk)
	JZ(LabelRef("done"))

	r := func(i int) reg.VecPhysical { return zmm(i) }
	t := func(i int) reg.VecPhysical { return zmm(16 + i) }
	Label("block")
	// Load the rows; rows past nrows are zero.
	ptr := GP64()
	MOVQ(src, ptr)
	for i := 0; i < 16; i++ {
		VPXORD(r(i), r(i), r(i))
	}
	for i := 0; i < 16; i++ {
		CMPQ(nrows, U32(i))
		JLE(LabelRef("loaded"))
		VMOVUPS(Mem{Base: ptr}, r(i))
		if i < 15 {
			ADDQ(ld, ptr)
		}
	}
	Label("loaded")
	// Stage 1: interleave row pairs within 128-bit lanes.
	for i := 0; i < 8; i++ {
		VUNPCKLPS(r(2*i+1), r(2*i), t(2*i))
		VUNPCKHPS(r(2*i+1), r(2*i), t(2*i+1))
	}
	// Stage 2: lane l of u[4g+j] holds column 4l+j of rows 4g..4g+3.
	for g := 0; g < 4; g++ {
		VSHUFPS(U8(0x44), t(4*g+2), t(4*g), r(4*g))
		VSHUFPS(U8(0xEE), t(4*g+2), t(4*g), r(4*g+1))
		VSHUFPS(U8(0x44), t(4*g+3), t(4*g+1), r(4*g+2))
		VSHUFPS(U8(0xEE), t(4*g+3), t(4*g+1), r(4*g+3))
	}
	// Stages 3-4: transpose the 4×4 grid of 128-bit lanes; output column
	// 4l+j collects lane l of u[j], u[4+j], u[8+j], u[12+j].
	for j := 0; j < 4; j++ {
		u0, u1, u2, u3 := r(j), r(4+j), r(8+j), r(12+j)
		v0, v1, v2, v3 := t(4*j), t(4*j+1), t(4*j+2), t(4*j+3)
		VSHUFF32X4(U8(0x44), u1, u0, v0)
		VSHUFF32X4(U8(0xEE), u1, u0, v1)
		VSHUFF32X4(U8(0x44), u3, u2, v2)
		VSHUFF32X4(U8(0xEE), u3, u2, v3)
		VSHUFF32X4(U8(0x88), v2, v0, u0) // column j
		VSHUFF32X4(U8(0xDD), v2, v0, u1) // column 4+j
		VSHUFF32X4(U8(0x88), v3, v1, u2) // column 8+j
		VSHUFF32X4(U8(0xDD), v3, v1, u3) // column 12+j
	}
	// Column q = 4l+j now sits in r(4l+j) after the renaming above:
	// u0=r(j) holds column j, u1=r(4+j) column 4+j, and so on.
	out := GP64()
	MOVQ(dst, out)
	for q := 0; q < 16; q++ {
		VMOVUPS(r(q), reg.K1, Mem{Base: out})
		if q < 15 {
			ADDQ(dw, out)
		}
	}
	ADDQ(dw, out)
	MOVQ(out, dst)
	ADDQ(U32(64), src)
	DECQ(nblk)
	JNZ(LabelRef("block"))
	Label("done")
	VZEROUPPER()
	RET()
}

// copyPanel emits packNAVX512, the packing helper for the contiguous
// operand op(B) = B: it copies kc rows from src (ld floats apart) to dst
// (contiguous rows of nfull+1+nzero vectors of 16 floats): nfull full
// vectors, one loaded under mask with zeroing (so it neither reads past the
// matrix nor leaves padding unset), then nzero zero vectors of padding.
func copyPanel() {
	TEXT("packNAVX512", NOSPLIT, "func(dst *float32, src *float32, ld int, kc int, nfull int, mask uint16, nzero int)")
	Doc("packNAVX512 copies a kc-row panel of a row-major operand (see copyPanel).")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	kc := Load(Param("kc"), GP64())
	nfull := Load(Param("nfull"), GP64())
	mask := Load(Param("mask"), GP32())
	nzero := Load(Param("nzero"), GP64())
	KMOVW(mask, reg.K1)
	SHLQ(U8(2), ld)
	VPXORD(reg.Z1, reg.Z1, reg.Z1)
	TESTQ(kc, kc)
	JZ(LabelRef("done"))
	Label("row")
	v, s := GP64(), GP64()
	MOVQ(nfull, v)
	MOVQ(src, s)
	TESTQ(v, v)
	JZ(LabelRef("last"))
	Label("vec")
	VMOVUPS(Mem{Base: s}, reg.Z0)
	VMOVUPS(reg.Z0, Mem{Base: dst})
	ADDQ(U32(64), s)
	ADDQ(U32(64), dst)
	DECQ(v)
	JNZ(LabelRef("vec"))
	Label("last")
	VMOVUPS_Z(Mem{Base: s}, reg.K1, reg.Z0)
	VMOVUPS(reg.Z0, Mem{Base: dst})
	ADDQ(U32(64), dst)
	MOVQ(nzero, v)
	TESTQ(v, v)
	JZ(LabelRef("next"))
	Label("zero")
	VMOVUPS(reg.Z1, Mem{Base: dst})
	ADDQ(U32(64), dst)
	DECQ(v)
	JNZ(LabelRef("zero"))
	Label("next")
	ADDQ(ld, src)
	DECQ(kc)
	JNZ(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}

// copyNarrow emits packNarrowAVX512, the packing helper for op(A) = Aᵀ:
// each of kc steps copies one run of at most 16 floats (lanes in lmask, the
// rest zero) from src (steps ld floats apart) to a panel row of dw ≤ 16
// floats at dst (the lanes in smask).
func copyNarrow() {
	TEXT("packNarrowAVX512", NOSPLIT, "func(dst *float32, dw int, src *float32, ld int, kc int, lmask uint16, smask uint16)")
	Doc("packNarrowAVX512 copies kc runs of at most 16 floats into a panel (see copyNarrow).")
	dst := Load(Param("dst"), GP64())
	dw := Load(Param("dw"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	kc := Load(Param("kc"), GP64())
	lmask := Load(Param("lmask"), GP32())
	smask := Load(Param("smask"), GP32())
	KMOVW(lmask, reg.K1)
	KMOVW(smask, reg.K2)
	SHLQ(U8(2), dw)
	SHLQ(U8(2), ld)
	TESTQ(kc, kc)
	JZ(LabelRef("done"))
	Label("row")
	VMOVUPS_Z(Mem{Base: src}, reg.K1, reg.Z0)
	VMOVUPS(reg.Z0, reg.K2, Mem{Base: dst})
	ADDQ(ld, src)
	ADDQ(dw, dst)
	DECQ(kc)
	JNZ(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}

func main() {
	ConstraintExpr("amd64,!noasm")
	// Register-broadcast A for the wide kernels (one broadcast feeds several
	// FMAs), embedded broadcast for the single-vector one: on Zen 4 that is
	// 113 vs 99 GFLOP/s per core for 14x32, 116 vs 86 for 12x16.
	kernel(avx512, 14, 2, false)
	kernel(avx512, 12, 2, false)
	kernel(avx512, 8, 3, false)
	kernel(avx512, 6, 4, false)
	kernel(avx512, 12, 1, true)
	kernel(avx2, 6, 2, false)
	transpose()
	copyPanel()
	copyNarrow()
	Generate()
}
