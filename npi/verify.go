package npi

import (
	"fmt"
	"sort"
	"strings"
)

// Case is one element of a verification set: a distinct invocation
// situation (a call and the observation sequence it meets, with the
// reference's action at every step).
type Case struct {
	Name  string      // program, arguments and first observation, with a serial number
	Inv   *Invocation // the reference steps
	Input string      // the first input on which the reference met it
}

// VerificationSet runs the reference on every input of the task's
// verification family and returns each distinct invocation once, ordered by
// program then by first appearance. Base cases (invocations that call no
// non-primitive program of their own kind) and reduction rules alike are
// invocations, so both are in the set.
func VerificationSet(t Task) []Case {
	progs := t.Programs()
	seen := make(map[string]bool)
	var cases []Case
	t.VerificationInputs(func(in Input) bool {
		invs, _ := Trace(t, in)
		for _, inv := range invs {
			k := inv.key()
			if seen[k] {
				continue
			}
			seen[k] = true
			cases = append(cases, Case{Inv: inv, Input: in.String()})
		}
		return true
	})
	sort.SliceStable(cases, func(i, j int) bool { return cases[i].Inv.Call.Prog < cases[j].Inv.Call.Prog })
	serial := make(map[int]int)
	for i := range cases {
		c := &cases[i]
		serial[c.Inv.Call.Prog]++
		c.Name = fmt.Sprintf("%s#%d [%s]", FormatCall(progs, c.Inv.Call), serial[c.Inv.Call.Prog], t.DescribeObs(c.Inv.Steps[0].Obs))
	}
	return cases
}

// describeInvocation renders a case's whole step sequence, one step a line.
func describeInvocation(t Task, inv *Invocation) string {
	var b strings.Builder
	for i, s := range inv.Steps {
		fmt.Fprintf(&b, "  step %d [%s] → %s\n", i, t.DescribeObs(s.Obs), formatAction(t.Programs(), s.Act))
	}
	return b.String()
}

// Verification is the outcome of Verify.
type Verification struct {
	Verified bool   `json:"verified"`
	Cases    int    `json:"cases"`
	Failures int    `json:"failures"` // cases with at least one wrong step
	Failed   string `json:"failed"`   // name of the first failing case ("" if none)
	// Detail explains the first failure: the step, the observation, the
	// reference's and the model's action, and an input that reaches it.
	Detail string `json:"detail,omitempty"`
	// Reason says why a model is not verified when no case failed.
	Reason string `json:"reason,omitempty"`
}

// Verify checks the model on every case of the task's verification set,
// each invocation from a zero state with the reference's observations
// (callees run by the reference). For a recursive task, passing every case
// proves the learned program equal to the reference on inputs of any size,
// by induction on the call tree: an invocation's behaviour depends only on
// the observations it meets, every situation any input can produce is a
// case, and each callee is, by the induction hypothesis, the reference.
//
// A non-recursive task has programs that loop within one invocation for a
// number of steps that grows with the input; no finite set covers their
// situations, so such a model is reported unverified with the reason (its
// cases on the small family are still checked and reported).
func Verify(m *Model) *Verification {
	t := m.task
	cases := VerificationSet(t)
	v := &Verification{Cases: len(cases)}
	seqs := make([]*Invocation, len(cases))
	for i := range cases {
		seqs[i] = cases[i].Inv
	}
	bad := make([]bool, len(cases))
	checkSequences(newBatchRunner(m), seqs, 256, func(i int, _ *Invocation, _ int, good bool) {
		if !good {
			bad[i] = true
		}
	})
	first := -1
	for i, b := range bad {
		if b {
			v.Failures++
			if first < 0 {
				first = i
			}
		}
	}
	if first >= 0 {
		v.Failed = cases[first].Name
		v.Detail = explainFailure(m, cases[first])
	}
	if loops := t.Loops(); len(loops) > 0 {
		v.Reason = fmt.Sprintf("non-recursive variant: %s loop within one invocation for as many steps as the input is long, so the core's hidden state must track an unbounded count and no finite verification set exists", strings.Join(loops, ", "))
		return v
	}
	v.Verified = v.Failures == 0
	return v
}

// explainFailure replays a failing case step by step and describes the
// first wrong step.
func explainFailure(m *Model, c Case) string {
	t := m.task
	ws := m.NewWorkspace()
	H := m.Config.Hidden
	h, cell := make([]float32, H), make([]float32, H)
	for i, s := range c.Inv.Steps {
		got := m.Predict(ws, h, cell, s.Obs, c.Inv.Call.Prog, s.Prev)
		if got != s.Act {
			return fmt.Sprintf("%s, step %d [%s]: reference %s, model %s (first met on input %s)",
				c.Name, i, t.DescribeObs(s.Obs), formatAction(t.Programs(), s.Act), formatAction(t.Programs(), got), c.Input)
		}
	}
	return c.Name + ": batch and single-step predictions disagree"
}
