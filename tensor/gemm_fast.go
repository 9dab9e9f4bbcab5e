package tensor

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// This file is the blocked GEMM driver behind Gemm on CPUs with a
// micro-kernel (GotoBLAS/BLIS design). Per thread:
//
//	for ic over its rows of M in blocks of mc:
//	  for pc over K in blocks of kc:
//	    pack op(A)[ic:ic+mc, pc:pc+kc] into MR-row panels     (Ap)
//	    for jc over N in blocks of nc:
//	      pack op(B)[pc:pc+kc, jc:jc+nc] into NR-column panels (Bp, L2-sized)
//	      for each MR panel of Ap:          (kc×MR micro-panel stays in L1)
//	        for each NR panel of Bp:        (streams from L2)
//	          micro-kernel: C tile = alpha*Ap·Bp + beta*C tile
//
// Packing resolves all four transpose combinations, so the micro-kernel
// sees one layout: an A micro-panel is kc steps of MR contiguous floats, a
// B micro-panel kc rows of NR contiguous floats. Panels are zero padded, and
// tiles that overhang C go through a small MR×NR buffer, so any size works.
//
// Threads split C into contiguous ranges of whole tiles, fixed by the sizes
// and the number of threads (never by scheduling): rows or, for short wide
// products, columns; each thread packs what its range needs.
//
// Several kernel shapes are available; each call takes the one that pads C
// least. Block sizes are evened out (k = 1000 gives 334+334+332, not
// 384+384+232), and kc depends on k alone, so every element of C is computed
// by the same operations in the same order whatever the kernel, the
// partition or the scheduling: results do not depend on Threads().

// microKernel computes one mr×nr tile: C = alpha*A·B + beta*C over k steps,
// with A packed (mr floats per step), B rows bstride floats apart and C rows
// ldc floats apart. C is not read when beta == 0.
type microKernel func(k int, a, b *float32, bstride int, c *float32, ldc int, alpha, beta float32)

// gemmKernel is a micro-kernel with its tile shape and cache blocking.
type gemmKernel struct {
	name       string
	mr, nr     int
	kern       microKernel
	kc, mc, nc int  // block sizes: kc steps; mc rows (multiple of mr); nc columns (multiple of nr)
	t16        bool // pack strided operands with packT16
	// minFlops is the problem size 2mnk below which gemmSmall is used.
	minFlops int
	// parFlops is the problem size 2mnk from which work is split over threads.
	parFlops int
}

// gemmArgs holds one Gemm call.
type gemmArgs struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
}

// gemmBuf holds one thread's packing buffers; they grow to the largest
// blocks seen and are then reused, so steady-state calls do not allocate.
type gemmBuf struct {
	a, b, tile []float32
}

// alignedFloats returns a slice of n float32 whose first element is 64-byte
// aligned (a cache line, and the zmm load width).
func alignedFloats(n int) []float32 {
	s := make([]float32, n+16)
	off := int(uintptr(unsafe.Pointer(&s[0]))&63) / 4
	if off != 0 {
		off = 16 - off
	}
	return s[off : off+n : off+n]
}

func (g *gemmBuf) ensure(na, nb, nt int) {
	if cap(g.a) < na {
		g.a = alignedFloats(na)
	}
	if cap(g.b) < nb {
		g.b = alignedFloats(nb)
	}
	if cap(g.tile) < nt {
		g.tile = alignedFloats(nt)
	}
}

// gemmAuto lists the kernels gemmFast chooses from, set at init where the
// CPU has them. They share kc, so whichever is chosen every element of C is
// computed by the same operations in the same order.
var gemmAuto []*gemmKernel

// gemmPick returns the kernel of gemmAuto that pads C the least (the
// kernels run at the same speed on full tiles), the first on ties.
func gemmPick(m, n int) *gemmKernel {
	best, bestArea := gemmAuto[0], -1
	for _, kn := range gemmAuto {
		if area := roundUp(m, kn.mr) * roundUp(n, kn.nr); bestArea < 0 || area < bestArea {
			best, bestArea = kn, area
		}
	}
	return best
}

// gemmFast is installed as gemmImpl when a micro-kernel is available.
func gemmFast(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmRun(gemmPick(m, n), &gemmArgs{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc})
}

// gemmBusy counts the goroutines doing Gemm work (callers and helpers). A
// call takes helpers only for the threads that others leave free, so that
// Gemm called from goroutines which already occupy every core (a layer's
// ParallelFor over images) does not oversubscribe the machine; the result
// does not depend on the number of helpers.
var gemmBusy atomic.Int32

// gemmRun computes args with kernel kn, splitting rows or columns of C into
// up to Threads() contiguous ranges of whole tiles. The ranges depend on the
// sizes and on how many threads are free at the call; the result on neither.
func gemmRun(kn *gemmKernel, args *gemmArgs) {
	m, n, k := args.m, args.n, args.k
	if m == 0 || n == 0 {
		return
	}
	flops := 2 * m * n * k
	if k == 0 || flops < kn.minFlops {
		gemmSmall(args)
		return
	}
	t := Threads()
	others := int(gemmBusy.Add(1)) - 1
	if flops < kn.parFlops {
		t = 1
	} else if others > 0 {
		t = max(1, t-others)
	}
	splitN, tiles, unit := kn.split(m, n, k, t)
	t = min(t, tiles)
	gemmBusy.Add(int32(t - 1))
	defer gemmBusy.Add(-int32(t))
	ctx := getGemmCtx()
	ctx.args = *args
	ctx.t, ctx.splitN, ctx.tiles, ctx.unit = t, splitN, tiles, unit
	for w := 1; w < t; w++ {
		dispatchGemm(gemmJob{kn: kn, ctx: ctx, w: w})
	}
	ctx.run(kn, 0, &ctx.buf)
	for w := 1; w < t; w++ {
		gemmPoll(ctx.done, gemmWaitSpin)
	}
	ctx.args = gemmArgs{} // do not keep the caller's slices alive
	putGemmCtx(ctx)
}

// packCost is the cost of packing one element, in multiply-adds.
const packCost = 8

// split chooses whether t threads share the rows (M) or the columns (N) of
// C, in whole micro-tiles: the one whose busiest thread does the least
// padded work, counting that each thread packs its share of one operand and
// all of the other. It returns the number of tiles to share and their size.
//
// Threads pack independently, never waiting for each other within a call:
// sharing the packing of B (BLIS style) halves that work but needs a
// barrier per block, and measured slower on this 2-core VM (1024³: 188
// GFLOP/s with 5 µs spins, 204 with 300 µs spins, 207 without barriers).
func (kn *gemmKernel) split(m, n, k, t int) (splitN bool, tiles, unit int) {
	mt, nt := (m+kn.mr-1)/kn.mr, (n+kn.nr-1)/kn.nr
	if t <= 1 {
		return false, mt, kn.mr
	}
	rows, cols := (mt+t-1)/t*kn.mr, (nt+t-1)/t*kn.nr
	mp, np := mt*kn.mr, nt*kn.nr
	costM := k * (rows*np + packCost*(rows+np))
	costN := k * (mp*cols + packCost*(mp+cols))
	if costN < costM {
		return true, nt, kn.nr
	}
	return false, mt, kn.mr
}

// evenBlock splits x into the fewest blocks of at most limit (rounded up to
// unit) and returns their common size, so no block is a sliver.
func evenBlock(x, limit, unit int) int {
	if x <= 0 {
		return unit
	}
	nb := (x + limit - 1) / limit
	return roundUp((x+nb-1)/nb, unit)
}

// gemmCtx is one call's state: its arguments and partition, the calling
// goroutine's packing buffers, and the channel the workers report to.
type gemmCtx struct {
	args   gemmArgs
	t      int  // threads
	splitN bool // threads own columns of C rather than rows
	tiles  int  // micro-tiles along the split dimension
	unit   int  // their size
	buf    gemmBuf
	done   chan struct{}
}

// run computes thread w's share of the call.
func (ctx *gemmCtx) run(kn *gemmKernel, w int, buf *gemmBuf) {
	g := &ctx.args
	lo, hi := w*ctx.tiles/ctx.t*ctx.unit, (w+1)*ctx.tiles/ctx.t*ctx.unit
	if ctx.splitN {
		kn.block(g, buf, 0, g.m, lo, min(hi, g.n))
	} else {
		kn.block(g, buf, lo, min(hi, g.m), 0, g.n)
	}
}

// gemmCtxFree recycles contexts (and so their buffers). A channel rather
// than a sync.Pool: it is never emptied behind our back, so steady-state
// calls provably do not allocate.
var gemmCtxFree = make(chan *gemmCtx, 32)

func getGemmCtx() *gemmCtx {
	select {
	case ctx := <-gemmCtxFree:
		return ctx
	default:
		return &gemmCtx{done: make(chan struct{}, 64)}
	}
}

func putGemmCtx(ctx *gemmCtx) {
	select {
	case gemmCtxFree <- ctx:
	default:
	}
}

// gemmJob is thread w's share of one call.
type gemmJob struct {
	kn  *gemmKernel
	ctx *gemmCtx
	w   int
}

// Waking a blocked goroutine's thread costs tens of microseconds on a VM
// (its idle vCPU must be interrupted), more than a helper usually lags
// behind its caller or than a layer leaves between calls. So a caller
// waiting for its helpers, and a helper waiting for its next job, poll for
// a while before they block, yielding to other goroutines as they do. On
// the 2-core Zen 4 VM, quiet-machine medians without polling / with 50 and
// 100 µs / with 200 and 500 µs: 512³ 186/196/201 GFLOP/s, 1024³
// 206/207/210, 128×256×784 (a dense layer) 135/187/188.
const (
	gemmWaitSpin = 200 * time.Microsecond
	gemmIdleSpin = 500 * time.Microsecond
)

// gemmPoll receives from c, polling for up to spin before it blocks.
func gemmPoll[T any](c chan T, spin time.Duration) T {
	start := time.Now()
	for i := 1; ; i++ {
		select {
		case v := <-c:
			return v
		default:
		}
		if i%64 == 0 {
			if time.Since(start) > spin {
				break
			}
			runtime.Gosched()
		}
	}
	return <-c
}

// gemmWorker is a goroutine that runs jobs with its own packing buffers.
// Each job gets a worker of its own (idle or new), never a queue slot, so a
// call's helpers start at once even while other calls' are busy. Workers
// live for the life of the process; their number is the most jobs ever in
// flight at once, which gemmBusy keeps near Threads().
type gemmWorker struct {
	jobs chan gemmJob
	buf  gemmBuf
}

var (
	gemmIdleMu sync.Mutex
	gemmIdle   []*gemmWorker
)

func dispatchGemm(j gemmJob) {
	var wk *gemmWorker
	gemmIdleMu.Lock()
	if n := len(gemmIdle); n > 0 {
		wk = gemmIdle[n-1]
		gemmIdle = gemmIdle[:n-1]
	}
	gemmIdleMu.Unlock()
	if wk == nil {
		wk = &gemmWorker{jobs: make(chan gemmJob, 1)}
		go wk.loop()
	}
	wk.jobs <- j
}

func (wk *gemmWorker) loop() {
	for {
		j := gemmPoll(wk.jobs, gemmIdleSpin)
		j.ctx.run(j.kn, j.w, &wk.buf)
		// Become idle before reporting, so that the caller's next call
		// finds this worker rather than starting another.
		gemmIdleMu.Lock()
		gemmIdle = append(gemmIdle, wk)
		gemmIdleMu.Unlock()
		j.ctx.done <- struct{}{}
	}
}

// block computes rows [i0,i1) × columns [j0,j1) of C on the calling
// goroutine with its own packing buffers.
func (kn *gemmKernel) block(g *gemmArgs, buf *gemmBuf, i0, i1, j0, j1 int) {
	mr, nr, k := kn.mr, kn.nr, g.k
	kc := evenBlock(k, kn.kc, 1)
	mc := evenBlock(i1-i0, kn.mc, mr)
	nc := evenBlock(j1-j0, kn.nc, nr)
	buf.ensure(mc*kc, nc*kc, mr*nr)
	for ic := i0; ic < i1; ic += mc {
		mcb := min(mc, i1-ic)
		for pc := 0; pc < k; pc += kc {
			kcb := min(kc, k-pc)
			beta := g.beta
			if pc > 0 {
				beta = 1
			}
			kn.packA(buf.a, g.a, g.lda, g.transA, ic, mcb, pc, kcb)
			for jc := j0; jc < j1; jc += nc {
				ncb := min(nc, j1-jc)
				kn.packB(buf.b, g.b, g.ldb, g.transB, pc, kcb, jc, ncb)
				kn.macro(g, buf.a, buf.b, buf.tile, ic, mcb, jc, ncb, kcb, beta)
			}
		}
	}
}

// macro runs the micro-kernel over one packed mc×kc block of A (in pa) and
// kc×nc block of B (in pb), updating C[ic:ic+mc, jc:jc+nc].
func (kn *gemmKernel) macro(g *gemmArgs, bufA, bufB, tileBuf []float32, ic, mc, jc, nc, kc int, beta float32) {
	mr, nr, ldc := kn.mr, kn.nr, g.ldc
	c := g.c
	for ir := 0; ir < mc; ir += mr {
		pa := &bufA[ir*kc]
		rows := min(mr, mc-ir)
		for jr := 0; jr < nc; jr += nr {
			pb := &bufB[jr*kc]
			cols := min(nr, nc-jr)
			off := (ic+ir)*ldc + jc + jr
			if rows == mr && cols == nr {
				kn.kern(kc, pa, pb, nr, &c[off], ldc, g.alpha, beta)
				continue
			}
			// Overhanging tile: run the kernel on a full-size buffer and copy
			// the valid part, so C is never touched out of bounds.
			tile := tileBuf[:mr*nr]
			if beta != 0 {
				for r := 0; r < rows; r++ {
					copy(tile[r*nr:r*nr+cols], c[off+r*ldc:off+r*ldc+cols])
				}
			}
			kn.kern(kc, pa, pb, nr, &tile[0], nr, g.alpha, beta)
			for r := 0; r < rows; r++ {
				copy(c[off+r*ldc:off+r*ldc+cols], tile[r*nr:r*nr+cols])
			}
		}
	}
}

func roundUp(x, to int) int { return (x + to - 1) / to * to }

// packT16 transposes blocks of 16×16 floats in assembly (nil where the CPU
// has none); see packStrided.
var packT16 func(dst *float32, dw int, src *float32, ld int, nrows int, mask uint16, nblk int)

// packN copies panels of a row-major operand in assembly (nil where the CPU
// has none); see packB.
var packN func(dst *float32, src *float32, ld int, kc int, nfull int, mask uint16, nzero int)

// packNarrow copies runs of at most 16 floats into a panel in assembly
// (nil where the CPU has none); see packA.
var packNarrow func(dst *float32, dw int, src *float32, ld int, kc int, lmask, smask uint16)

// packStrided fills one panel d (kc steps of w lanes) whose lane r at step p
// is src[r*ld+p], for r < rows; lanes past rows are zero. It serves op(A) = A
// (lanes are rows of A) and op(B) = Bᵀ (lanes are rows of B).
func packStrided(d, src []float32, ld, rows, kc, w int, fast bool) {
	p := 0
	if fast && packT16 != nil && kc >= 16 {
		nblk := kc / 16
		for r0 := 0; r0 < w; r0 += 16 {
			lanes := min(16, w-r0)
			nrows := max(0, min(16, rows-r0))
			sp := &src[0]
			if nrows > 0 {
				sp = &src[r0*ld]
			}
			packT16(&d[r0], w, sp, ld, nrows, uint16(1)<<lanes-1, nblk)
		}
		p = nblk * 16
	}
	if p == kc {
		return
	}
	// The remaining steps, four lanes at a time to keep the writes within a
	// few cache lines.
	r := 0
	for ; r+4 <= rows; r += 4 {
		s0 := src[r*ld+p : r*ld+kc]
		s1 := src[(r+1)*ld+p : (r+1)*ld+kc]
		s2 := src[(r+2)*ld+p : (r+2)*ld+kc]
		s3 := src[(r+3)*ld+p : (r+3)*ld+kc]
		s1, s2, s3 = s1[:len(s0)], s2[:len(s0)], s3[:len(s0)]
		for q := range s0 {
			dd := d[(p+q)*w+r : (p+q)*w+r+4]
			dd[0], dd[1], dd[2], dd[3] = s0[q], s1[q], s2[q], s3[q]
		}
	}
	for ; r < rows; r++ {
		for q, v := range src[r*ld+p : r*ld+kc] {
			d[(p+q)*w+r] = v
		}
	}
	if rows < w {
		for q := p; q < kc; q++ {
			clear(d[q*w+rows : q*w+w])
		}
	}
}

// copyRow copies s into d (len(d) >= len(s)) with fixed-size moves for the
// panel widths in use, which beat a memmove call at these lengths.
func copyRow(d, s []float32) {
	switch len(s) {
	case 64:
		*(*[64]float32)(d) = *(*[64]float32)(s)
	case 48:
		*(*[48]float32)(d) = *(*[48]float32)(s)
	case 32:
		*(*[32]float32)(d) = *(*[32]float32)(s)
	case 16:
		*(*[16]float32)(d) = *(*[16]float32)(s)
	case 14:
		*(*[14]float32)(d) = *(*[14]float32)(s)
	case 12:
		*(*[12]float32)(d) = *(*[12]float32)(s)
	case 8:
		*(*[8]float32)(d) = *(*[8]float32)(s)
	case 6:
		*(*[6]float32)(d) = *(*[6]float32)(s)
	default:
		copy(d, s)
	}
}

// packA copies op(A)[i0:i0+mc, p0:p0+kc] into dst as ceil(mc/mr) panels,
// each kc steps of mr floats, zero padding rows past mc.
func (kn *gemmKernel) packA(dst, a []float32, lda int, transA bool, i0, mc, p0, kc int) {
	mr := kn.mr
	for ir := 0; ir < mc; ir += mr {
		rows := min(mr, mc-ir)
		d := dst[ir*kc : ir*kc+mr*kc]
		if !transA {
			packStrided(d, a[(i0+ir)*lda+p0:], lda, rows, kc, mr, kn.t16)
			continue
		}
		// op(A)[i][p] = a[p*lda+i]: each step is a contiguous run.
		if kn.t16 && packNarrow != nil && mr <= 16 {
			packNarrow(&d[0], mr, &a[p0*lda+i0+ir], lda, kc, uint16(1)<<rows-1, uint16(1)<<mr-1)
			continue
		}
		for p := 0; p < kc; p++ {
			s := (p0+p)*lda + i0 + ir
			dd := d[p*mr : p*mr+mr]
			copyRow(dd, a[s:s+rows])
			clear(dd[rows:])
		}
	}
}

// packB copies op(B)[p0:p0+kc, j0:j0+nc] into dst as ceil(nc/nr) panels,
// each kc rows of nr floats, zero padding columns past nc.
func (kn *gemmKernel) packB(dst, b []float32, ldb int, transB bool, p0, kc, j0, nc int) {
	nr := kn.nr
	if transB {
		for jr := 0; jr < nc; jr += nr {
			cols := min(nr, nc-jr)
			packStrided(dst[jr*kc:jr*kc+nr*kc], b[(j0+jr)*ldb+p0:], ldb, cols, kc, nr, kn.t16)
		}
		return
	}
	// op(B)[p][j] = b[p*ldb+j]: rows of each panel are contiguous runs.
	if kn.t16 && packN != nil && nr%16 == 0 {
		for jr := 0; jr < nc; jr += nr {
			cols := min(nr, nc-jr)
			nv := (cols + 15) / 16
			packN(&dst[jr*kc], &b[p0*ldb+j0+jr], ldb, kc, nv-1, uint16(1)<<(cols-16*(nv-1))-1, nr/16-nv)
		}
		return
	}
	// Read each row of the block once, in order, scattering it over the
	// panels.
	full := nc / nr * nr
	for p := 0; p < kc; p++ {
		row := b[(p0+p)*ldb+j0 : (p0+p)*ldb+j0+nc]
		for jr := 0; jr < full; jr += nr {
			copyRow(dst[jr*kc+p*nr:], row[jr:jr+nr])
		}
		if full < nc {
			dd := dst[full*kc+p*nr : full*kc+p*nr+nr]
			copy(dd, row[full:])
			clear(dd[nc-full:])
		}
	}
}

// gemmSmall is the direct path for problems too small to repay packing:
// scale C by beta, then accumulate rank-1 updates along contiguous rows.
// It does not allocate and runs on the calling goroutine.
func gemmSmall(g *gemmArgs) {
	m, n, k := g.m, g.n, g.k
	a, b, c := g.a, g.b, g.c
	lda, ldb, ldc := g.lda, g.ldb, g.ldc
	for i := 0; i < m; i++ {
		ci := c[i*ldc : i*ldc+n]
		if g.beta == 0 {
			clear(ci)
		} else if g.beta != 1 {
			for j := range ci {
				ci[j] *= g.beta
			}
		}
		for p := 0; p < k; p++ {
			var av float32
			if g.transA {
				av = a[p*lda+i]
			} else {
				av = a[i*lda+p]
			}
			av *= g.alpha
			if g.transB {
				for j := range ci {
					ci[j] += av * b[j*ldb+p]
				}
			} else {
				bp := b[p*ldb : p*ldb+n]
				for j, bv := range bp {
					ci[j] += av * bv
				}
			}
		}
	}
}
