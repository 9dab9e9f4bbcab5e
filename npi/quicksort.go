package npi

import (
	"fmt"
	"math/rand/v2"
)

// Quicksort with the Lomuto partition. A frame holds four registers lo, hi,
// i, j over the array; the pivot is a[hi]. The recursive variant opens a
// frame per QUICKSORT call (its argument picks the whole array, or the part
// left or right of the caller's pivot position i); the non-recursive
// variant keeps an explicit stack of (lo, hi) ranges in the environment and
// one frame that POP reloads.

const (
	qsLo = iota
	qsHi
	qsI
	qsJ
)

// Range arguments of QUICKSORT and PUSH.
const (
	qsAll = iota
	qsLeft
	qsRight
)

type quickSort struct {
	rec   bool
	progs []Program
	// program indices (-1: not in this variant)
	quicksort, partition, pstep, move, swap, push, pop int
}

var qsRegNames = [4]string{"LO", "HI", "I", "J"}

func newQuickSort(recursive bool) *quickSort {
	t := &quickSort{rec: recursive}
	regs := values(qsRegNames[:]...)
	ranges := values("ALL", "LEFT", "RIGHT")
	t.progs = []Program{
		{Name: "QUICKSORT", Args: []ArgSpec{{"range", ranges}}},
		{Name: "PARTITION"},
	}
	if recursive {
		t.progs = append(t.progs, Program{Name: "PSTEP"})
	}
	t.progs = append(t.progs,
		Program{Name: "MOVE", Primitive: true, Args: []ArgSpec{{"reg", regs}, {"dir", values("LEFT", "RIGHT")}}},
		Program{Name: "SWAP", Primitive: true, Args: []ArgSpec{{"reg1", regs}, {"reg2", regs}}},
	)
	if !recursive {
		t.progs = append(t.progs,
			Program{Name: "PUSH", Primitive: true, Args: []ArgSpec{{"range", ranges}}},
			Program{Name: "POP", Primitive: true},
		)
	}
	ix := programIndex(t.progs)
	get := func(n string) int {
		if i, ok := ix[n]; ok {
			return i
		}
		return -1
	}
	t.quicksort, t.partition, t.pstep = get("QUICKSORT"), get("PARTITION"), get("PSTEP")
	t.move, t.swap, t.push, t.pop = get("MOVE"), get("SWAP"), get("PUSH"), get("POP")
	return t
}

func (t *quickSort) Name() string        { return "quicksort" }
func (t *quickSort) Recursive() bool     { return t.rec }
func (t *quickSort) Programs() []Program { return t.progs }
func (t *quickSort) Root() Call          { return Call{Prog: t.quicksort, Args: [MaxArgs]int{qsAll}} }
func (t *quickSort) TrainSize() int      { return 7 }

// ObsDim: [lo < hi, j ≥ hi, a[j] < a[hi] (j < hi), range stack empty].
func (t *quickSort) ObsDim() int { return 4 }

func (t *quickSort) Loops() []string {
	if t.rec {
		return nil
	}
	return []string{"QUICKSORT", "PARTITION"}
}

var qsFlags = []string{"lo<hi", "j>=hi", "a[j]<a[hi]", "stack-empty"}

func (t *quickSort) DescribeObs(obs []float32) string { return describeFlags(qsFlags, obs) }

func (t *quickSort) RandomInput(r *rand.Rand, size int) Input { return randomArray(r, size) }
func (t *quickSort) ParseInput(s string) (Input, error)       { return parseArray("quicksort", s) }
func (t *quickSort) Correct(in Input, env Env) bool           { return sortedCorrect(in, env) }

// VerificationInputs: an invocation sees the flags of its own range and the
// comparisons of a[j] with the pivot as j advances by one; arrays of up to
// five elements realise every sequence of these a range of any length can
// show (the tests check that six add nothing new).
func (t *quickSort) VerificationInputs(yield func(Input) bool) { allArrays(5, yield) }

type qsFrame [4]int

type quickEnv struct {
	t      *quickSort
	a      []int
	frames []qsFrame
	stack  [][2]int
}

func (t *quickSort) NewEnv(in Input) Env {
	return &quickEnv{t: t, a: append([]int(nil), in.(arrayInput)...)}
}

// frame is the current register frame; before the root call there is none
// and the registers read as an empty range.
func (e *quickEnv) frame() *qsFrame {
	if len(e.frames) == 0 {
		return &qsFrame{0, -1, 0, 0}
	}
	return &e.frames[len(e.frames)-1]
}

func (e *quickEnv) Observe(dst []float32) {
	f := e.frame()
	lo, hi, j := f[qsLo], f[qsHi], f[qsJ]
	dst[0] = b2f(lo < hi)
	dst[1] = b2f(j >= hi)
	dst[2] = b2f(j < hi && j >= 0 && hi < len(e.a) && e.a[j] < e.a[hi])
	dst[3] = b2f(len(e.stack) == 0)
}

// subRange returns the (lo, hi) a range argument selects from frame f.
func (e *quickEnv) subRange(f *qsFrame, r int) (lo, hi int, err error) {
	switch r {
	case qsAll:
		return 0, len(e.a) - 1, nil
	case qsLeft:
		return f[qsLo], f[qsI] - 1, nil
	case qsRight:
		return f[qsI] + 1, f[qsHi], nil
	}
	return 0, 0, fmt.Errorf("bad range argument %d", r)
}

func (e *quickEnv) Enter(c Call) error {
	if c.Prog != e.t.quicksort {
		return nil // helpers work in their caller's frame
	}
	lo, hi, err := e.subRange(e.frame(), c.Args[0])
	if err != nil {
		return fmt.Errorf("QUICKSORT: %v", err)
	}
	e.frames = append(e.frames, qsFrame{lo, hi, lo, lo})
	return nil
}

func (e *quickEnv) Leave(c Call) {
	if c.Prog == e.t.quicksort {
		e.frames = e.frames[:len(e.frames)-1]
	}
}

func (e *quickEnv) Apply(c Call) error {
	n := len(e.a)
	if len(e.frames) == 0 {
		return fmt.Errorf("primitive outside QUICKSORT")
	}
	f := e.frame()
	switch c.Prog {
	case e.t.move:
		r, dir := c.Args[0], c.Args[1]
		if r < 0 || r > 3 || dir < 0 || dir > 1 {
			return fmt.Errorf("MOVE: bad arguments %d, %d", r, dir)
		}
		v := f[r] - 1 + 2*dir
		if v < -1 || v > n {
			return fmt.Errorf("MOVE: register %s moved to %d, outside −1…%d", qsRegNames[r], v, n)
		}
		f[r] = v
	case e.t.swap:
		r1, r2 := c.Args[0], c.Args[1]
		if r1 < 0 || r1 > 3 || r2 < 0 || r2 > 3 {
			return fmt.Errorf("SWAP: bad arguments %d, %d", r1, r2)
		}
		i, j := f[r1], f[r2]
		if i < 0 || i >= n || j < 0 || j >= n {
			return fmt.Errorf("SWAP: register outside the array")
		}
		e.a[i], e.a[j] = e.a[j], e.a[i]
	case e.t.push:
		lo, hi, err := e.subRange(f, c.Args[0])
		if err != nil {
			return fmt.Errorf("PUSH: %v", err)
		}
		e.stack = append(e.stack, [2]int{lo, hi})
	case e.t.pop:
		if len(e.stack) == 0 {
			return fmt.Errorf("POP: range stack is empty")
		}
		r := e.stack[len(e.stack)-1]
		e.stack = e.stack[:len(e.stack)-1]
		*f = qsFrame{r[0], r[1], r[0], r[0]}
	default:
		return fmt.Errorf("program %d is not a primitive", c.Prog)
	}
	return nil
}

func (e *quickEnv) Output() string { return arrayInput(e.a).String() }

func (t *quickSort) Body(x *Exec, c Call) {
	e := x.Env().(*quickEnv)
	const R = 1
	obs := func() (rng, jEnd, less, empty bool) {
		var o [4]float32
		e.Observe(o[:])
		return o[0] > 0, o[1] > 0, o[2] > 0, o[3] > 0
	}
	pstep := func() {
		if _, _, less, _ := obs(); less {
			x.Call(t.swap, qsI, qsJ)
			x.Call(t.move, qsI, R)
		}
		x.Call(t.move, qsJ, R)
	}
	switch c.Prog {
	case t.quicksort:
		if t.rec {
			if rng, _, _, _ := obs(); rng {
				x.Call(t.partition)
				x.Call(t.quicksort, qsLeft)
				x.Call(t.quicksort, qsRight)
			}
			return
		}
		x.Call(t.push, qsAll)
		for {
			if _, _, _, empty := obs(); empty {
				return
			}
			x.Call(t.pop)
			if rng, _, _, _ := obs(); rng {
				x.Call(t.partition)
				x.Call(t.push, qsLeft)
				x.Call(t.push, qsRight)
			}
		}
	case t.partition:
		if t.rec {
			x.Call(t.pstep)
		} else {
			for {
				if _, jEnd, _, _ := obs(); jEnd {
					break
				}
				pstep()
			}
		}
		x.Call(t.swap, qsI, qsHi)
	case t.pstep:
		if _, jEnd, _, _ := obs(); !jEnd {
			pstep()
			x.Call(t.pstep)
		}
	default:
		panic("npi: quicksort has no body for " + t.progs[c.Prog].Name)
	}
}
