package npi

import (
	"fmt"
)

// Limits bound a learned program's execution: the total number of steps
// and the depth of nested invocations (the root is depth 1).
type Limits struct {
	MaxSteps int
	MaxDepth int
}

// ReferenceLimits derives limits for input in from the reference's own run:
// ten times its step count (plus slack for tiny inputs) and twice its
// deepest nesting. A learned program that needs more is a runaway.
func ReferenceLimits(t Task, in Input) (lim Limits, refSteps int) {
	x := NewExec(t, t.NewEnv(in), nil)
	x.Run(t.Root())
	return Limits{MaxSteps: 10*x.Steps + 100, MaxDepth: 2*x.MaxDepth + 8}, x.Steps
}

// RunawayError reports a learned program stopped at a limit.
type RunawayError struct {
	Limit string // "step" or "depth"
	Value int    // the limit
	Call  string // the call being made when it was hit
}

func (e *RunawayError) Error() string {
	return fmt.Sprintf("runaway program: %s limit %d reached at %s", e.Limit, e.Value, e.Call)
}

// Tracer receives every call a running program makes, with its depth (the
// root is called at depth 0).
type Tracer func(depth int, c Call)

// Runner executes a model's learned program with a call stack: each call of
// a non-primitive program starts the core from a zero state, and the
// caller's state is back in place when the callee returns. A Runner reuses
// its buffers, so running many inputs does not allocate per step; use one
// per goroutine.
type Runner struct {
	m      *Model
	ws     *Workspace
	obs    []float32
	states [][]float32 // per depth: h then c
	frames []runFrame
}

type runFrame struct {
	call Call
	prev Call
}

// NewRunner returns a Runner for m.
func NewRunner(m *Model) *Runner {
	return &Runner{m: m, ws: m.NewWorkspace(), obs: make([]float32, m.obsDim)}
}

func (r *Runner) state(depth int) (h, c []float32) {
	H := r.m.Config.Hidden
	for len(r.states) <= depth {
		r.states = append(r.states, make([]float32, 2*H))
	}
	s := r.states[depth]
	return s[:H], s[H:]
}

// Run executes the task's root call on env and returns the number of steps
// taken. It fails with a *RunawayError at a limit, or with the
// environment's error when the model makes an invalid call.
func (r *Runner) Run(env Env, lim Limits, trace Tracer) (steps int, err error) {
	m := r.m
	root := m.task.Root()
	if trace != nil {
		trace(0, root)
	}
	if err := env.Enter(root); err != nil {
		return 0, err
	}
	r.frames = append(r.frames[:0], runFrame{call: root, prev: root})
	h, c := r.state(0)
	clear(h)
	clear(c)
	for len(r.frames) > 0 {
		d := len(r.frames) - 1
		f := &r.frames[d]
		if steps >= lim.MaxSteps {
			return steps, &RunawayError{Limit: "step", Value: lim.MaxSteps, Call: FormatCall(m.progs, f.call)}
		}
		steps++
		env.Observe(r.obs)
		h, c := r.state(d)
		a := m.Predict(r.ws, h, c, r.obs, f.call.Prog, f.prev)
		if a.Return {
			env.Leave(f.call)
			r.frames = r.frames[:d]
			continue
		}
		f.prev = a.Call
		if trace != nil {
			trace(d+1, a.Call)
		}
		if m.progs[a.Call.Prog].Primitive {
			if err := env.Apply(a.Call); err != nil {
				return steps, fmt.Errorf("step %d: %s: %w", steps, FormatCall(m.progs, a.Call), err)
			}
			continue
		}
		if len(r.frames) >= lim.MaxDepth {
			return steps, &RunawayError{Limit: "depth", Value: lim.MaxDepth, Call: FormatCall(m.progs, a.Call)}
		}
		if err := env.Enter(a.Call); err != nil {
			return steps, fmt.Errorf("step %d: %s: %w", steps, FormatCall(m.progs, a.Call), err)
		}
		r.frames = append(r.frames, runFrame{call: a.Call, prev: a.Call})
		h, c = r.state(d + 1)
		clear(h)
		clear(c)
	}
	return steps, nil
}

// forcedChecker is a Hook that runs the model teacher-forced alongside the
// reference: every invocation from a zero state, fed the reference's
// observations and previous calls, counting the steps whose predicted
// action equals the reference's.
type forcedChecker struct {
	r         *Runner
	cur       []int
	ok, total int
}

func (f *forcedChecker) Begin(c Call) {
	h, cs := f.r.state(len(f.cur))
	clear(h)
	clear(cs)
	f.cur = append(f.cur, c.Prog)
}

func (f *forcedChecker) Step(obs []float32, prev Call, a Action) {
	d := len(f.cur) - 1
	h, c := f.r.state(d)
	if f.r.m.Predict(f.r.ws, h, c, obs, f.cur[d], prev) == a {
		f.ok++
	}
	f.total++
}

func (f *forcedChecker) End(Call) { f.cur = f.cur[:len(f.cur)-1] }

// StepAccuracy runs the reference on in with the model teacher-forced
// alongside and returns the number of steps predicted right and in total.
func (r *Runner) StepAccuracy(in Input) (ok, total int) {
	t := r.m.task
	f := &forcedChecker{r: r}
	NewExec(t, t.NewEnv(in), f).Run(t.Root())
	return f.ok, f.total
}
