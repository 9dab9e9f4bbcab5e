package tensor

import (
	"runtime"
	"sync"
	"sync/atomic"
)

var threads atomic.Int64

func init() { threads.Store(int64(runtime.GOMAXPROCS(0))) }

// SetThreads sets how many goroutines kernels use (n < 1 means GOMAXPROCS).
func SetThreads(n int) {
	if n < 1 {
		n = runtime.GOMAXPROCS(0)
	}
	threads.Store(int64(n))
}

// Threads reports the kernel thread count.
func Threads() int { return int(threads.Load()) }

// task is one chunk of a parallel loop.
type task struct {
	body   func(lo, hi int)
	lo, hi int
	wg     *sync.WaitGroup
}

var (
	startPool sync.Once
	work      chan task // unbuffered: a send succeeds only when a worker is idle
	wgPool    = sync.Pool{New: func() any { return new(sync.WaitGroup) }}
)

func worker() {
	for t := range work {
		t.body(t.lo, t.hi)
		t.wg.Done()
	}
}

// parallelFor splits [0,n) into Threads() contiguous chunks fixed by n alone
// (never by scheduling), so every element is computed by the same code path
// whatever the timing, and results are reproducible. Chunks run on a pool
// of persistent workers (no goroutine or allocation per call in steady
// state); when every worker is busy — a parallel kernel called from inside
// another — the chunk gets a goroutine of its own, so nesting cannot
// deadlock.
func parallelFor(n int, body func(lo, hi int)) {
	t := Threads()
	if t > n {
		t = n
	}
	if t <= 1 {
		body(0, n)
		return
	}
	startPool.Do(func() {
		work = make(chan task)
		for i := 0; i < runtime.NumCPU()+1; i++ {
			go worker()
		}
	})
	wg := wgPool.Get().(*sync.WaitGroup)
	for w := 1; w < t; w++ {
		lo, hi := w*n/t, (w+1)*n/t
		if lo == hi {
			continue
		}
		wg.Add(1)
		tk := task{body: body, lo: lo, hi: hi, wg: wg}
		select {
		case work <- tk:
		default:
			go func() {
				tk.body(tk.lo, tk.hi)
				tk.wg.Done()
			}()
		}
	}
	if hi := n / t; hi > 0 {
		body(0, hi)
	}
	wg.Wait()
	wgPool.Put(wg)
}

// ParallelFor is parallelFor exported for layers that parallelise over a
// batch with a fixed partition.
func ParallelFor(n int, body func(lo, hi int)) { parallelFor(n, body) }
