package npi

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Topological sort by depth-first search with colours (white: unvisited,
// grey: on the current path, black: finished). A global register s walks
// the start vertices; a frame (v, c) holds the vertex being traversed and a
// pointer into its adjacency list. Finished vertices are written to the
// output, whose reverse is a topological order. The recursive variant opens
// a frame per TRAVERSE call; the non-recursive one keeps the frames on an
// explicit stack with PUSH and POP.

const (
	white = iota
	grey
	black
)

// Frame sources of TRAVERSE and PUSH.
const (
	tsStart = iota
	tsChild
)

// Registers MOVE advances.
const (
	tsS = iota
	tsC
)

type topoSort struct {
	rec   bool
	progs []Program
	// program indices (-1: not in this variant)
	toposort, traverse, tvisit, dfs, move, color, write, push, pop int
}

func newTopoSort(recursive bool) *topoSort {
	t := &topoSort{rec: recursive}
	src := values("START", "CHILD")
	t.progs = []Program{{Name: "TOPOSORT"}}
	if recursive {
		t.progs = append(t.progs,
			Program{Name: "TRAVERSE", Args: []ArgSpec{{"vertex", src}}},
			Program{Name: "TVISIT"})
	} else {
		t.progs = append(t.progs, Program{Name: "DFS"})
	}
	t.progs = append(t.progs,
		Program{Name: "MOVE", Primitive: true, Args: []ArgSpec{{"reg", values("S", "C")}}},
		Program{Name: "COLOR", Primitive: true, Args: []ArgSpec{{"colour", values("GREY", "BLACK")}}},
		Program{Name: "WRITE", Primitive: true},
	)
	if !recursive {
		t.progs = append(t.progs,
			Program{Name: "PUSH", Primitive: true, Args: []ArgSpec{{"vertex", src}}},
			Program{Name: "POP", Primitive: true})
	}
	ix := programIndex(t.progs)
	get := func(n string) int {
		if i, ok := ix[n]; ok {
			return i
		}
		return -1
	}
	t.toposort, t.traverse, t.tvisit, t.dfs = get("TOPOSORT"), get("TRAVERSE"), get("TVISIT"), get("DFS")
	t.move, t.color, t.write, t.push, t.pop = get("MOVE"), get("COLOR"), get("WRITE"), get("PUSH"), get("POP")
	return t
}

func (t *topoSort) Name() string        { return "toposort" }
func (t *topoSort) Recursive() bool     { return t.rec }
func (t *topoSort) Programs() []Program { return t.progs }
func (t *topoSort) Root() Call          { return Call{Prog: t.toposort} }
func (t *topoSort) TrainSize() int      { return 6 }

// ObsDim: [s at end, s white, no frame, v white, v grey, v black,
// c at end of v's list, child white, child grey, child black].
func (t *topoSort) ObsDim() int { return 10 }

func (t *topoSort) Loops() []string {
	if t.rec {
		return nil
	}
	return []string{"TOPOSORT", "DFS"}
}

var tsFlags = []string{"s@end", "s-white", "no-frame", "v-white", "v-grey", "v-black", "c@end", "child-white", "child-grey", "child-black"}

// DescribeObs lists only the set flags: they are one-hot groups.
func (t *topoSort) DescribeObs(obs []float32) string {
	var on []string
	for i, n := range tsFlags {
		if obs[i] > 0.5 {
			on = append(on, n)
		}
	}
	if len(on) == 0 {
		return "-"
	}
	return strings.Join(on, " ")
}

// graphInput is a directed acyclic graph on vertices 0…N−1; Adj[v] lists
// v's successors in the order DFS visits them.
type graphInput struct {
	N   int
	Adj [][]int
}

// String renders the graph as "N:u>v,u>v,…" (edges in adjacency order).
func (g graphInput) String() string {
	var es []string
	for u, l := range g.Adj {
		for _, v := range l {
			es = append(es, fmt.Sprintf("%d>%d", u, v))
		}
	}
	return fmt.Sprintf("%d:%s", g.N, strings.Join(es, ","))
}

// maxVertices bounds a parsed graph: its adjacency lists are allocated
// from the vertex count before any edge is read.
const maxVertices = 1 << 16

func (t *topoSort) ParseInput(s string) (Input, error) {
	head, edges, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return nil, fmt.Errorf("toposort input %q: want N:u>v,u>v,… (vertex count, colon, edges)", s)
	}
	n, err := strconv.Atoi(strings.TrimSpace(head))
	if err != nil || n < 1 {
		return nil, fmt.Errorf("toposort input %q: vertex count %q is not a positive integer", s, head)
	}
	if n > maxVertices {
		return nil, fmt.Errorf("toposort input: vertex count %d exceeds %d", n, maxVertices)
	}
	g := graphInput{N: n, Adj: make([][]int, n)}
	if strings.TrimSpace(edges) != "" {
		for _, e := range strings.Split(edges, ",") {
			us, vs, ok := strings.Cut(e, ">")
			u, err1 := strconv.Atoi(strings.TrimSpace(us))
			v, err2 := strconv.Atoi(strings.TrimSpace(vs))
			if !ok || err1 != nil || err2 != nil {
				return nil, fmt.Errorf("toposort input %q: edge %q is not u>v", s, e)
			}
			if u < 0 || u >= n || v < 0 || v >= n {
				return nil, fmt.Errorf("toposort input %q: edge %q has a vertex outside 0…%d", s, e, n-1)
			}
			if slices.Contains(g.Adj[u], v) {
				return nil, fmt.Errorf("toposort input %q: edge %q appears twice", s, e)
			}
			g.Adj[u] = append(g.Adj[u], v)
		}
	}
	if !acyclic(g) {
		return nil, fmt.Errorf("toposort input %q: the graph has a cycle", s)
	}
	return g, nil
}

func acyclic(g graphInput) bool {
	indeg := make([]int, g.N)
	for _, l := range g.Adj {
		for _, v := range l {
			indeg[v]++
		}
	}
	var q []int
	for v, d := range indeg {
		if d == 0 {
			q = append(q, v)
		}
	}
	seen := 0
	for len(q) > 0 {
		u := q[0]
		q = q[1:]
		seen++
		for _, v := range g.Adj[u] {
			if indeg[v]--; indeg[v] == 0 {
				q = append(q, v)
			}
		}
	}
	return seen == g.N
}

// RandomInput: a random DAG on size vertices: vertices are ranked by a
// random permutation and each gets 0–3 successors of higher rank, listed in
// random order.
func (t *topoSort) RandomInput(r *rand.Rand, size int) Input {
	n := max(size, 1)
	rank := r.Perm(n) // rank[i] is the vertex at position i
	g := graphInput{N: n, Adj: make([][]int, n)}
	for i, u := range rank {
		later := n - 1 - i
		k := min(r.IntN(4), later)
		for _, off := range r.Perm(later)[:k] {
			g.Adj[u] = append(g.Adj[u], rank[i+1+off])
		}
	}
	return g
}

func (t *topoSort) Correct(in Input, env Env) bool {
	g := in.(graphInput)
	order := env.(*topoEnv).order()
	if len(order) != g.N {
		return false
	}
	pos := make([]int, g.N)
	for i := range pos {
		pos[i] = -1
	}
	for i, v := range order {
		if v < 0 || v >= g.N || pos[v] >= 0 {
			return false
		}
		pos[v] = i
	}
	for u, l := range g.Adj {
		for _, v := range l {
			if pos[u] > pos[v] {
				return false
			}
		}
	}
	return true
}

// VerificationInputs: an invocation sees the colours of its vertex, of one
// start vertex or child and of the next one, and the end-of-list flags.
// Every DAG on up to four vertices, with every order of every adjacency
// list, realises each such pattern (a vertex with two successors, the
// first already black or white, the second white, black or absent, reached
// from a start vertex or as a child); the tests check that random larger
// graphs add nothing new.
func (t *topoSort) VerificationInputs(yield func(Input) bool) {
	for n := 1; n <= 4; n++ {
		// The ordered successor lists one vertex can have.
		var lists [][][]int
		for u := 0; u < n; u++ {
			var others []int
			for v := 0; v < n; v++ {
				if v != u {
					others = append(others, v)
				}
			}
			lists = append(lists, orderedSubsets(others))
		}
		idx := make([]int, n)
		for {
			g := graphInput{N: n, Adj: make([][]int, n)}
			for u := range n {
				g.Adj[u] = lists[u][idx[u]]
			}
			if acyclic(g) && !yield(g) {
				return
			}
			u := 0
			for u < n && idx[u] == len(lists[u])-1 {
				idx[u] = 0
				u++
			}
			if u == n {
				break
			}
			idx[u]++
		}
	}
}

// orderedSubsets returns every ordered selection of distinct elements of s.
func orderedSubsets(s []int) [][]int {
	out := [][]int{{}}
	var rec func(prefix []int, used []bool)
	rec = func(prefix []int, used []bool) {
		for i, v := range s {
			if used[i] {
				continue
			}
			p := append(append([]int(nil), prefix...), v)
			out = append(out, p)
			used[i] = true
			rec(p, used)
			used[i] = false
		}
	}
	rec(nil, make([]bool, len(s)))
	return out
}

type tsFrame struct{ v, c int }

type topoEnv struct {
	t      *topoSort
	g      graphInput
	colour []int8
	s      int
	frames []tsFrame
	out    []int // vertices in the order they finish
}

func (t *topoSort) NewEnv(in Input) Env {
	g := in.(graphInput)
	return &topoEnv{t: t, g: g, colour: make([]int8, g.N)}
}

func (e *topoEnv) top() *tsFrame {
	if len(e.frames) == 0 {
		return nil
	}
	return &e.frames[len(e.frames)-1]
}

func (e *topoEnv) Observe(dst []float32) {
	clear(dst[:10])
	dst[0] = b2f(e.s >= e.g.N)
	dst[1] = b2f(e.s < e.g.N && e.colour[e.s] == white)
	f := e.top()
	if f == nil {
		dst[2] = 1
		return
	}
	dst[3+int(e.colour[f.v])] = 1
	if f.c >= len(e.g.Adj[f.v]) {
		dst[6] = 1
		return
	}
	dst[7+int(e.colour[e.g.Adj[f.v][f.c]])] = 1
}

// newFrame returns the frame a TRAVERSE or PUSH with source src opens.
func (e *topoEnv) newFrame(src int) (tsFrame, error) {
	switch src {
	case tsStart:
		if e.s >= e.g.N {
			return tsFrame{}, fmt.Errorf("start register past the last vertex")
		}
		return tsFrame{e.s, 0}, nil
	case tsChild:
		f := e.top()
		if f == nil || f.c >= len(e.g.Adj[f.v]) {
			return tsFrame{}, fmt.Errorf("no current child")
		}
		return tsFrame{e.g.Adj[f.v][f.c], 0}, nil
	}
	return tsFrame{}, fmt.Errorf("bad vertex argument %d", src)
}

func (e *topoEnv) Enter(c Call) error {
	if c.Prog != e.t.traverse {
		return nil
	}
	f, err := e.newFrame(c.Args[0])
	if err != nil {
		return fmt.Errorf("TRAVERSE: %v", err)
	}
	e.frames = append(e.frames, f)
	return nil
}

func (e *topoEnv) Leave(c Call) {
	if c.Prog == e.t.traverse {
		e.frames = e.frames[:len(e.frames)-1]
	}
}

func (e *topoEnv) Apply(c Call) error {
	f := e.top()
	switch c.Prog {
	case e.t.move:
		switch c.Args[0] {
		case tsS:
			if e.s >= e.g.N {
				return fmt.Errorf("MOVE: start register already past the last vertex")
			}
			e.s++
		case tsC:
			if f == nil || f.c >= len(e.g.Adj[f.v]) {
				return fmt.Errorf("MOVE: child pointer already at the end of the list")
			}
			f.c++
		default:
			return fmt.Errorf("MOVE: bad register %d", c.Args[0])
		}
	case e.t.color:
		if f == nil {
			return fmt.Errorf("COLOR: no current vertex")
		}
		if c.Args[0] < 0 || c.Args[0] > 1 {
			return fmt.Errorf("COLOR: bad colour %d", c.Args[0])
		}
		e.colour[f.v] = int8(grey + c.Args[0])
	case e.t.write:
		if f == nil {
			return fmt.Errorf("WRITE: no current vertex")
		}
		e.out = append(e.out, f.v)
	case e.t.push:
		nf, err := e.newFrame(c.Args[0])
		if err != nil {
			return fmt.Errorf("PUSH: %v", err)
		}
		e.frames = append(e.frames, nf)
	case e.t.pop:
		if f == nil {
			return fmt.Errorf("POP: stack is empty")
		}
		e.frames = e.frames[:len(e.frames)-1]
	default:
		return fmt.Errorf("program %d is not a primitive", c.Prog)
	}
	return nil
}

// order is the topological order: finished vertices, last first.
func (e *topoEnv) order() []int {
	o := slices.Clone(e.out)
	slices.Reverse(o)
	return o
}

func (e *topoEnv) Output() string {
	s := make([]string, len(e.out))
	for i, v := range e.order() {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ",")
}

func (t *topoSort) Body(x *Exec, c Call) {
	e := x.Env().(*topoEnv)
	var o [10]float32
	obs := func() []float32 { e.Observe(o[:]); return o[:] }
	const sEnd, sWhite, noFrame, cEnd, childWhite = 0, 1, 2, 6, 7
	switch c.Prog {
	case t.toposort:
		if t.rec {
			if obs()[sEnd] == 0 {
				if obs()[sWhite] > 0 {
					x.Call(t.traverse, tsStart)
				}
				x.Call(t.move, tsS)
				x.Call(t.toposort)
			}
			return
		}
		for obs()[sEnd] == 0 {
			if obs()[sWhite] > 0 {
				x.Call(t.dfs)
			}
			x.Call(t.move, tsS)
		}
	case t.traverse:
		x.Call(t.color, 0)
		x.Call(t.tvisit)
		x.Call(t.color, 1)
		x.Call(t.write)
	case t.tvisit:
		if obs()[cEnd] == 0 {
			if obs()[childWhite] > 0 {
				x.Call(t.traverse, tsChild)
			}
			x.Call(t.move, tsC)
			x.Call(t.tvisit)
		}
	case t.dfs:
		x.Call(t.push, tsStart)
		x.Call(t.color, 0)
		for obs()[noFrame] == 0 {
			switch {
			case obs()[cEnd] > 0:
				x.Call(t.color, 1)
				x.Call(t.write)
				x.Call(t.pop)
			case obs()[childWhite] > 0:
				x.Call(t.push, tsChild)
				x.Call(t.color, 0)
			default:
				x.Call(t.move, tsC)
			}
		}
	default:
		panic("npi: toposort has no body for " + t.progs[c.Prog].Name)
	}
}
