package npi

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Bubble sort with three pointers: p1 and p2 = p1+1 compare neighbours, it
// counts the passes. n−1 passes over the whole array sort it.

const (
	bsP1 = iota
	bsP2
	bsIt
)

type bubbleSort struct {
	rec   bool
	progs []Program
	// program indices (-1: not in this variant)
	bubblesort, bubble, reset, bstep, compswap, lshift, rshift, ptr, swap int
}

func newBubbleSort(recursive bool) *bubbleSort {
	t := &bubbleSort{rec: recursive}
	ptrs := values("P1", "P2", "IT")
	t.progs = []Program{
		{Name: "BUBBLESORT"},
		{Name: "BUBBLE"},
		{Name: "RESET"},
		{Name: "COMPSWAP"},
		{Name: "RSHIFT"},
	}
	if recursive {
		t.progs = append(t.progs, Program{Name: "BSTEP"}, Program{Name: "LSHIFT"})
	}
	t.progs = append(t.progs,
		Program{Name: "PTR", Primitive: true, Args: []ArgSpec{{"ptr", ptrs}, {"dir", values("LEFT", "RIGHT")}}},
		Program{Name: "SWAP", Primitive: true, Args: []ArgSpec{{"ptr1", ptrs}, {"ptr2", ptrs}}},
	)
	ix := programIndex(t.progs)
	get := func(n string) int {
		if i, ok := ix[n]; ok {
			return i
		}
		return -1
	}
	t.bubblesort, t.bubble, t.reset, t.bstep = get("BUBBLESORT"), get("BUBBLE"), get("RESET"), get("BSTEP")
	t.compswap, t.lshift, t.rshift, t.ptr, t.swap = get("COMPSWAP"), get("LSHIFT"), get("RSHIFT"), get("PTR"), get("SWAP")
	return t
}

func (t *bubbleSort) Name() string        { return "bubblesort" }
func (t *bubbleSort) Recursive() bool     { return t.rec }
func (t *bubbleSort) Programs() []Program { return t.progs }
func (t *bubbleSort) Root() Call          { return Call{Prog: t.bubblesort} }
func (t *bubbleSort) TrainSize() int      { return 7 }

// ObsDim: [p1 at start, p2 in range, a[p1] > a[p2], it at end].
func (t *bubbleSort) ObsDim() int { return 4 }

func (t *bubbleSort) Loops() []string {
	if t.rec {
		return nil
	}
	return []string{"BUBBLESORT", "BUBBLE", "RESET"}
}

var bsPtrNames = [3]string{"P1", "P2", "IT"}

var bsFlags = []string{"p1@start", "p2<n", "a[p1]>a[p2]", "it@end"}

func (t *bubbleSort) DescribeObs(obs []float32) string { return describeFlags(bsFlags, obs) }

// arrayInput is an array of small non-negative integers.
type arrayInput []int

func (a arrayInput) String() string {
	s := make([]string, len(a))
	for i, v := range a {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ",")
}

// randomArray draws size values in 0…99 (ties occur and must be handled).
func randomArray(r *rand.Rand, size int) arrayInput {
	a := make(arrayInput, max(size, 1))
	for i := range a {
		a[i] = r.IntN(100)
	}
	return a
}

func parseArray(task, s string) (Input, error) {
	fields := strings.Split(strings.TrimSpace(s), ",")
	a := make(arrayInput, len(fields))
	for i, f := range fields {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("%s input %q: element %d (%q) is not an integer", task, s, i+1, f)
		}
		a[i] = v
	}
	return a, nil
}

// allArrays yields every array of length 1…maxN over values 0…n−1 (all
// orders and tie patterns up to relabelling).
func allArrays(maxN int, yield func(Input) bool) {
	for n := 1; n <= maxN; n++ {
		a := make([]int, n)
		for {
			if !yield(append(arrayInput(nil), a...)) {
				return
			}
			i := 0
			for i < n && a[i] == n-1 {
				a[i] = 0
				i++
			}
			if i == n {
				break
			}
			a[i]++
		}
	}
}

func sortedCorrect(in Input, env Env) bool {
	want := arrayInput(sortedCopy(in.(arrayInput))).String()
	return env.Output() == want
}

func (t *bubbleSort) RandomInput(r *rand.Rand, size int) Input { return randomArray(r, size) }
func (t *bubbleSort) ParseInput(s string) (Input, error)       { return parseArray("bubblesort", s) }
func (t *bubbleSort) Correct(in Input, env Env) bool           { return sortedCorrect(in, env) }

// VerificationInputs: each invocation looks at p1, p2 = p1+1 and their
// neighbours after one shift, the flags "p1 at 0", "p2 past the end" and
// "last pass"; arrays of up to five elements realise every combination of
// these (four elements already do; five add margin, and the tests check
// that six add nothing new).
func (t *bubbleSort) VerificationInputs(yield func(Input) bool) { allArrays(5, yield) }

type bubbleEnv struct {
	t *bubbleSort
	a []int
	p [3]int
}

func (t *bubbleSort) NewEnv(in Input) Env {
	return &bubbleEnv{t: t, a: append([]int(nil), in.(arrayInput)...), p: [3]int{0, 1, 0}}
}

func (e *bubbleEnv) atStart() bool { return e.p[bsP1] == 0 }
func (e *bubbleEnv) p2In() bool    { return e.p[bsP2] < len(e.a) }
func (e *bubbleEnv) gt() bool {
	i, j := e.p[bsP1], e.p[bsP2]
	return i >= 0 && j < len(e.a) && i < len(e.a) && e.a[i] > e.a[j]
}
func (e *bubbleEnv) itEnd() bool { return e.p[bsIt] >= len(e.a)-1 }

func (e *bubbleEnv) Observe(dst []float32) {
	dst[0], dst[1], dst[2], dst[3] = b2f(e.atStart()), b2f(e.p2In()), b2f(e.gt()), b2f(e.itEnd())
}

func (e *bubbleEnv) Apply(c Call) error {
	n := len(e.a)
	switch c.Prog {
	case e.t.ptr:
		p, dir := c.Args[0], c.Args[1]
		if p < 0 || p > 2 || dir < 0 || dir > 1 {
			return fmt.Errorf("PTR: bad arguments %d, %d", p, dir)
		}
		np := e.p[p] - 1 + 2*dir // LEFT = 0, RIGHT = 1
		if np < 0 || np > n {
			return fmt.Errorf("PTR: pointer %s moved to %d, outside 0…%d", bsPtrNames[p], np, n)
		}
		e.p[p] = np
	case e.t.swap:
		i, j := c.Args[0], c.Args[1]
		if i < 0 || i > 2 || j < 0 || j > 2 {
			return fmt.Errorf("SWAP: bad arguments %d, %d", i, j)
		}
		pi, pj := e.p[i], e.p[j]
		if pi >= n || pj >= n {
			return fmt.Errorf("SWAP: pointer past the end of the array")
		}
		e.a[pi], e.a[pj] = e.a[pj], e.a[pi]
	default:
		return fmt.Errorf("program %d is not a primitive", c.Prog)
	}
	return nil
}

func (e *bubbleEnv) Enter(Call) error { return nil }
func (e *bubbleEnv) Leave(Call)       {}
func (e *bubbleEnv) Output() string   { return arrayInput(e.a).String() }

func (t *bubbleSort) Body(x *Exec, c Call) {
	e := x.Env().(*bubbleEnv)
	const L, R = 0, 1
	switch c.Prog {
	case t.bubblesort:
		if t.rec {
			if !e.itEnd() {
				x.Call(t.bubble)
				x.Call(t.reset)
				x.Call(t.bubblesort)
			}
			return
		}
		for !e.itEnd() {
			x.Call(t.bubble)
			x.Call(t.reset)
		}
	case t.bubble:
		if t.rec {
			x.Call(t.bstep)
			return
		}
		for e.p2In() {
			x.Call(t.compswap)
			x.Call(t.rshift)
		}
	case t.bstep:
		if e.p2In() {
			x.Call(t.compswap)
			x.Call(t.rshift)
			x.Call(t.bstep)
		}
	case t.compswap:
		if e.gt() {
			x.Call(t.swap, bsP1, bsP2)
		}
	case t.rshift:
		x.Call(t.ptr, bsP1, R)
		x.Call(t.ptr, bsP2, R)
	case t.reset:
		if t.rec {
			x.Call(t.lshift)
		} else {
			for !e.atStart() {
				x.Call(t.ptr, bsP1, L)
				x.Call(t.ptr, bsP2, L)
			}
		}
		x.Call(t.ptr, bsIt, R)
	case t.lshift:
		if !e.atStart() {
			x.Call(t.ptr, bsP1, L)
			x.Call(t.ptr, bsP2, L)
			x.Call(t.lshift)
		}
	default:
		panic("npi: bubblesort has no body for " + t.progs[c.Prog].Name)
	}
}
