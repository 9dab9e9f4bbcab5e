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

// parallelFor splits [0,n) into Threads() contiguous chunks fixed by n alone
// (never by scheduling), so every element is computed by the same code path
// whatever the timing, and results are reproducible.
func parallelFor(n int, body func(lo, hi int)) {
	t := Threads()
	if t > n {
		t = n
	}
	if t <= 1 {
		body(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < t; w++ {
		lo, hi := w*n/t, (w+1)*n/t
		if lo == hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			body(lo, hi)
		}()
	}
	wg.Wait()
}

// ParallelFor is parallelFor exported for layers that parallelise over a
// batch with a fixed partition.
func ParallelFor(n int, body func(lo, hi int)) { parallelFor(n, body) }
