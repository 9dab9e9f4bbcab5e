package npi

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func allTasks(t *testing.T) []Task {
	t.Helper()
	var ts []Task
	for _, name := range TaskNames {
		for _, rec := range []bool{true, false} {
			task, err := NewTask(name, rec)
			if err != nil {
				t.Fatal(err)
			}
			ts = append(ts, task)
		}
	}
	return ts
}

func variant(t Task) string {
	if t.Recursive() {
		return t.Name() + "/recursive"
	}
	return t.Name() + "/loop"
}

// The reference executor solves random inputs of several sizes.
func TestReferenceCorrect(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, task := range allTasks(t) {
		for _, size := range []int{1, 2, 3, 5, 8, 13, 40} {
			for range 20 {
				in := task.RandomInput(r, size)
				_, env := Trace(task, in)
				if !task.Correct(in, env) {
					t.Fatalf("%s: reference on %s gives %s", variant(task), in, env.Output())
				}
			}
		}
	}
}

// Correct rejects a wrong output, so the test above can fail.
func TestCorrectRejects(t *testing.T) {
	for _, task := range allTasks(t) {
		in, err := task.ParseInput(map[string]string{
			"addition": "95+7", "bubblesort": "3,1,2", "quicksort": "3,1,2", "toposort": "3:0>1,1>2",
		}[task.Name()])
		if err != nil {
			t.Fatal(err)
		}
		if env := task.NewEnv(in); task.Correct(in, env) {
			t.Errorf("%s: untouched environment for %s counted as correct (%s)", variant(task), in, env.Output())
		}
	}
}

// Recursive traces really recurse: some program calls itself, and no
// invocation is longer than a constant; the loop variants have invocations
// whose length grows with the input.
func TestTracesRecurse(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, task := range allTasks(t) {
		in := task.RandomInput(r, 30)
		invs, _ := Trace(task, in)
		self, longest := false, 0
		for _, inv := range invs {
			longest = max(longest, len(inv.Steps))
			for _, s := range inv.Steps {
				if !s.Act.Return && s.Act.Call.Prog == inv.Call.Prog {
					self = true
				}
			}
		}
		if self != task.Recursive() {
			t.Errorf("%s: self call found = %v", variant(task), self)
		}
		if task.Recursive() && longest > 10 {
			t.Errorf("%s: an invocation has %d steps", variant(task), longest)
		}
		if !task.Recursive() && longest < 30 {
			t.Errorf("%s: longest invocation only %d steps on size 30", variant(task), longest)
		}
	}
}

func TestParseInputErrors(t *testing.T) {
	bad := map[string][]string{
		"addition":   {"12", "1+x", "+3", "1+2+3"},
		"bubblesort": {"", "1,,2", "a,b"},
		"quicksort":  {"1;2"},
		"toposort":   {"3", "x:0>1", "3:0>5", "3:0>1,1>0", "2:0-1", "2:0>1,0>1"},
	}
	for name, inputs := range bad {
		task, _ := NewTask(name, true)
		for _, s := range inputs {
			if _, err := task.ParseInput(s); err == nil {
				t.Errorf("%s: ParseInput(%q) accepted", name, s)
			} else if !strings.Contains(err.Error(), name) {
				t.Errorf("%s: error %q does not name the task", name, err)
			}
		}
	}
	if _, err := NewTask("heapsort", true); err == nil {
		t.Error("NewTask accepted an unknown task")
	}
}

// Inputs round-trip through String and ParseInput.
func TestInputRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, task := range allTasks(t) {
		in := task.RandomInput(r, 6)
		back, err := task.ParseInput(in.String())
		if err != nil || back.String() != in.String() {
			t.Errorf("%s: %s parsed back as %v (%v)", variant(task), in, back, err)
		}
	}
}
