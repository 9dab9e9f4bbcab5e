package npi

import "fmt"

// Hook observes the reference interpreter. Begin and End bracket every
// invocation of a non-primitive program (the root included); Step reports
// each step of the innermost invocation before its action is executed.
// obs is valid only during the call; prev is the input the core receives as
// "previous call": the invocation's own call at its first step, then the
// call made by the step before.
type Hook interface {
	Begin(c Call)
	Step(obs []float32, prev Call, a Action)
	End(c Call)
}

// Exec runs a task's reference algorithm on an environment. Task bodies make
// their steps through Call; Exec records nothing itself but reports every
// step to its Hook.
type Exec struct {
	task  Task
	env   Env
	progs []Program
	hook  Hook
	obs   []float32
	prev  []Call // per open invocation
	// Steps and MaxDepth count the steps taken and the deepest nesting of
	// invocations (the root is depth 1).
	Steps    int
	MaxDepth int
}

// NewExec returns an interpreter of t's reference on env; hook may be nil.
func NewExec(t Task, env Env, hook Hook) *Exec {
	return &Exec{task: t, env: env, progs: t.Programs(), hook: hook, obs: make([]float32, t.ObsDim())}
}

// Env returns the environment the interpreter runs on.
func (x *Exec) Env() Env { return x.env }

// Run executes the non-primitive call c to completion.
func (x *Exec) Run(c Call) {
	x.invoke(c)
}

// Call makes one step of the current invocation: it calls program prog with
// the given arguments, executing a primitive on the environment or running
// the program's reference body. The reference is trusted code: an
// environment error is a bug and panics.
func (x *Exec) Call(prog int, args ...int) {
	c := Call{Prog: prog}
	copy(c.Args[:], args)
	d := len(x.prev) - 1
	if x.hook != nil {
		x.env.Observe(x.obs)
		x.hook.Step(x.obs, x.prev[d], Action{Call: c})
	}
	x.Steps++
	x.prev[d] = c
	if x.progs[prog].Primitive {
		if err := x.env.Apply(c); err != nil {
			panic(fmt.Sprintf("npi: reference %s: %v", FormatCall(x.progs, c), err))
		}
		return
	}
	x.invoke(c)
}

func (x *Exec) invoke(c Call) {
	if err := x.env.Enter(c); err != nil {
		panic(fmt.Sprintf("npi: reference %s: %v", FormatCall(x.progs, c), err))
	}
	x.prev = append(x.prev, c)
	x.MaxDepth = max(x.MaxDepth, len(x.prev))
	if x.hook != nil {
		x.hook.Begin(c)
	}
	x.task.Body(x, c)
	if x.hook != nil {
		x.env.Observe(x.obs)
		x.hook.Step(x.obs, x.prev[len(x.prev)-1], Action{Return: true})
		x.hook.End(c)
	}
	x.Steps++
	x.prev = x.prev[:len(x.prev)-1]
	x.env.Leave(c)
}

// Step is one step of an invocation as a training example: the core's
// inputs (observation, previous call) and the target action.
type Step struct {
	Obs  []float32
	Prev Call
	Act  Action
}

// Invocation is the step sequence of one call of a non-primitive program,
// the unit the core is trained on (from a zero state).
type Invocation struct {
	Call  Call
	Steps []Step
}

// Recorder is a Hook that collects every invocation.
type Recorder struct {
	open []*Invocation
	// Done holds the finished invocations, callees before their callers.
	Done []*Invocation
}

// Begin implements Hook.
func (r *Recorder) Begin(c Call) { r.open = append(r.open, &Invocation{Call: c}) }

// Step implements Hook.
func (r *Recorder) Step(obs []float32, prev Call, a Action) {
	inv := r.open[len(r.open)-1]
	inv.Steps = append(inv.Steps, Step{Obs: append([]float32(nil), obs...), Prev: prev, Act: a})
}

// End implements Hook.
func (r *Recorder) End(Call) {
	inv := r.open[len(r.open)-1]
	r.open = r.open[:len(r.open)-1]
	r.Done = append(r.Done, inv)
}

// Trace runs the reference on a fresh environment for in and returns its
// invocations and the environment afterwards.
func Trace(t Task, in Input) ([]*Invocation, Env) {
	env := t.NewEnv(in)
	var rec Recorder
	NewExec(t, env, &rec).Run(t.Root())
	return rec.Done, env
}

// key identifies an invocation by its call and its observation and action
// sequence; the previous-call inputs follow from these.
func (inv *Invocation) key() string {
	b := make([]byte, 0, 8+len(inv.Steps)*(len(inv.Steps[0].Obs)+8))
	b = appendCall(b, inv.Call)
	for _, s := range inv.Steps {
		for _, v := range s.Obs {
			b = append(b, byte(v*16+0.5))
		}
		if s.Act.Return {
			b = append(b, 0xff)
		} else {
			b = appendCall(b, s.Act.Call)
		}
	}
	return string(b)
}

func appendCall(b []byte, c Call) []byte {
	b = append(b, byte(c.Prog))
	for _, a := range c.Args {
		b = append(b, byte(a))
	}
	return b
}
