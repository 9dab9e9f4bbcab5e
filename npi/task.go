package npi

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
)

// MaxArgs is the number of argument slots of a call.
const MaxArgs = 3

// ArgSpec describes one argument slot of a program: its name and the names
// of its values (the slot takes values 0…len(Values)−1).
type ArgSpec struct {
	Name   string
	Values []string
}

// Program is one program of a task. Primitives act on the environment
// directly; the others are run by the core, each invocation from a zero
// LSTM state.
type Program struct {
	Name      string
	Primitive bool
	Args      []ArgSpec
}

// Call is a program with its arguments; slots a program does not use are 0.
type Call struct {
	Prog int
	Args [MaxArgs]int
}

// Action is the outcome of one step of an invocation: return to the caller,
// or call a program.
type Action struct {
	Return bool
	Call   Call // meaningful when !Return
}

// Input is one problem instance of a task (two numbers, an array, a graph).
type Input interface {
	// String renders the input in the syntax ParseInput accepts.
	String() string
}

// Env is a task's environment: the scratch pad, array or graph, with the
// pointers the programs move. An environment also keeps the pointer frames
// of the running invocations: Enter opens the frame of a non-primitive call
// (a fresh one for programs that work on a sub-problem, the caller's own for
// helpers) and Leave closes it, restoring the caller's pointers.
type Env interface {
	// Observe writes the current observation (Task.ObsDim values).
	Observe(dst []float32)
	// Apply executes a primitive call.
	Apply(c Call) error
	// Enter starts a non-primitive call; Leave ends it.
	Enter(c Call) error
	Leave(c Call)
	// Output is the result as the task reports it (the sum, the sorted
	// array, the topological order).
	Output() string
}

// Task is one algorithm in one variant (recursive or not): its programs,
// environment, reference algorithm and verification inputs.
type Task interface {
	Name() string
	Recursive() bool
	Programs() []Program
	// Root is the call that solves a whole input.
	Root() Call
	ObsDim() int
	// DescribeObs renders an observation in words, for call trees and for
	// naming verification cases.
	DescribeObs(obs []float32) string
	// TrainSize is the default largest training input size.
	TrainSize() int
	// RandomInput draws an input of the given size (digits, elements or
	// vertices).
	RandomInput(r *rand.Rand, size int) Input
	ParseInput(s string) (Input, error)
	NewEnv(in Input) Env
	// Body runs the reference algorithm of the non-primitive call c, making
	// its steps through x. Its decisions read only the observation.
	Body(x *Exec, c Call)
	// Correct reports whether the environment holds the right output for in.
	Correct(in Input, env Env) bool
	// VerificationInputs yields a family of small inputs on which the
	// reference meets every per-invocation situation that any input of any
	// size can produce (see the package documentation for the argument).
	VerificationInputs(yield func(Input) bool)
	// Loops names the programs that loop within one invocation over a
	// number of steps that grows with the input (nil for recursive tasks).
	Loops() []string
}

// TaskNames lists the tasks NewTask knows.
var TaskNames = []string{"addition", "bubblesort", "toposort", "quicksort"}

// NewTask returns the named task in its recursive or non-recursive variant.
func NewTask(name string, recursive bool) (Task, error) {
	switch name {
	case "addition":
		return newAddition(recursive), nil
	case "bubblesort":
		return newBubbleSort(recursive), nil
	case "toposort":
		return newTopoSort(recursive), nil
	case "quicksort":
		return newQuickSort(recursive), nil
	}
	return nil, fmt.Errorf("unknown task %q (want one of %s)", name, strings.Join(TaskNames, ", "))
}

// FormatCall renders c as NAME(ARG, ARG).
func FormatCall(progs []Program, c Call) string {
	p := progs[c.Prog]
	if len(p.Args) == 0 {
		return p.Name
	}
	var b strings.Builder
	b.WriteString(p.Name)
	b.WriteByte('(')
	for i, a := range p.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		v := c.Args[i]
		if v >= 0 && v < len(a.Values) {
			b.WriteString(a.Values[v])
		} else {
			fmt.Fprintf(&b, "%d", v)
		}
	}
	b.WriteByte(')')
	return b.String()
}

func formatAction(progs []Program, a Action) string {
	if a.Return {
		return "RETURN"
	}
	return FormatCall(progs, a.Call)
}

// argVocab is the size of the largest argument slot of any program.
func argVocab(progs []Program) int {
	v := 1
	for _, p := range progs {
		for _, a := range p.Args {
			v = max(v, len(a.Values))
		}
	}
	return v
}

// programIndex maps program names to indices; it panics on a duplicate,
// which is a bug in a task definition.
func programIndex(progs []Program) map[string]int {
	m := make(map[string]int, len(progs))
	for i, p := range progs {
		if _, dup := m[p.Name]; dup {
			panic("npi: duplicate program " + p.Name)
		}
		m[p.Name] = i
	}
	return m
}

// describeFlags renders binary observation features as "name" for set ones
// and "!name" for clear ones.
func describeFlags(names []string, obs []float32) string {
	parts := make([]string, len(names))
	for i, n := range names {
		if obs[i] > 0.5 {
			parts[i] = n
		} else {
			parts[i] = "!" + n
		}
	}
	return strings.Join(parts, " ")
}

func values(names ...string) []string { return names }

func digits() []string {
	d := make([]string, 10)
	for i := range d {
		d[i] = fmt.Sprint(i)
	}
	return d
}

func sortedCopy(a []int) []int {
	s := append([]int(nil), a...)
	sort.Ints(s)
	return s
}

func b2f(b bool) float32 {
	if b {
		return 1
	}
	return 0
}
