package npi

import (
	"errors"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/nadir-ml/nadir/run"
)

// Every invocation the reference makes on random inputs, small and large,
// is an element of the verification set: the enumeration is complete.
func TestVerificationSetCoversRandomInputs(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, name := range TaskNames {
		task, _ := NewTask(name, true)
		set := make(map[string]bool)
		for _, c := range cachedSet(task) {
			set[c.Inv.key()] = true
		}
		var inputs []Input
		for _, size := range []int{6, 7, 8, 12, 20} {
			for range 40 {
				inputs = append(inputs, task.RandomInput(r, size))
			}
		}
		big := 100
		if name == "bubblesort" {
			big = 40 // quadratic: 100 elements take 120k steps
		}
		inputs = append(inputs, task.RandomInput(r, big))
		if name == "bubblesort" || name == "quicksort" {
			// Many ties: values from a small range.
			for n := 6; n <= 9; n++ {
				for range 300 {
					a := make(arrayInput, n)
					for i := range a {
						a[i] = r.IntN(3)
					}
					inputs = append(inputs, a)
				}
			}
		}
		for _, in := range inputs {
			invs, _ := Trace(task, in)
			for _, inv := range invs {
				if !set[inv.key()] {
					t.Fatalf("%s: input %s has an invocation outside the verification set:\n%s", name, in, describeInvocation(task, inv))
				}
			}
		}
	}
}

// For every self-recursive program the set holds base cases (invocations
// that do not call themselves) and reduction rules (ones that do).
func TestVerificationSetHasBaseCases(t *testing.T) {
	for name, progs := range map[string][]string{
		"addition":   {"ADD"},
		"bubblesort": {"BUBBLESORT", "BSTEP", "LSHIFT"},
		"quicksort":  {"QUICKSORT", "PSTEP"},
		"toposort":   {"TOPOSORT", "TVISIT"},
	} {
		task, _ := NewTask(name, true)
		ix := programIndex(task.Programs())
		cases := cachedSet(task)
		for _, p := range progs {
			base, rule := 0, 0
			for _, c := range cases {
				if c.Inv.Call.Prog != ix[p] {
					continue
				}
				if callsItself(c.Inv) {
					rule++
				} else {
					base++
				}
			}
			if base == 0 || rule == 0 {
				t.Errorf("%s %s: %d base cases, %d reduction rules", name, p, base, rule)
			}
		}
	}
}

func callsItself(inv *Invocation) bool {
	for _, s := range inv.Steps {
		if !s.Act.Return && s.Act.Call.Prog == inv.Call.Prog {
			return true
		}
	}
	return false
}

var (
	setMu    sync.Mutex
	setCache = map[string][]Case{}
)

// cachedSet computes each recursive task's verification set once per test
// binary (addition's takes about a second).
func cachedSet(task Task) []Case {
	setMu.Lock()
	defer setMu.Unlock()
	k := variant(task)
	if c, ok := setCache[k]; ok {
		return c
	}
	c := VerificationSet(task)
	setCache[k] = c
	return c
}

var (
	trainedOnce sync.Once
	trained     *Model
	trainedSum  *Summary
	trainedErr  error
)

// trainedBubbleSort trains the recursive bubble sort once (about a second).
func trainedBubbleSort(t *testing.T) *Model {
	t.Helper()
	trainedOnce.Do(func() {
		task, _ := NewTask("bubblesort", true)
		trained, trainedSum, trainedErr = Train(task, TrainConfig{Model: DefaultModelConfig("bubblesort", true), Seed: 1})
	})
	if trainedErr != nil {
		t.Fatal(trainedErr)
	}
	return trained
}

func cloneModel(t *testing.T, m *Model) *Model {
	t.Helper()
	dir := t.TempDir()
	if err := Save(dir, m); err != nil {
		t.Fatal(err)
	}
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// End to end: a recursive bubble sort trained on arrays of up to 7
// elements passes verification and sorts arrays 10–30 times longer.
func TestTrainVerifyEvaluate(t *testing.T) {
	m := trainedBubbleSort(t)
	if !trainedSum.Converged || trainedSum.StepAccuracy != 1 {
		t.Fatalf("training did not converge: %+v", *trainedSum)
	}
	v := Verify(m)
	if !v.Verified || v.Failures != 0 || v.Cases == 0 {
		t.Fatalf("not verified: %+v", *v)
	}
	res, err := Evaluate(m, EvalConfig{Sizes: []int{3, 35}, N: 3, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Accuracy != 1 || r.StepAccuracy != 1 {
			t.Errorf("size %d: %+v", r.Size, r)
		}
	}
}

// Verification catches a broken model and names the first failing case.
func TestVerifyDetectsBrokenModel(t *testing.T) {
	m := cloneModel(t, trainedBubbleSort(t))
	// Returning at once is right only for invocations that start by
	// returning; the first case that starts with a call must fail.
	m.end.B.Data[0] = 100
	v := Verify(m)
	if v.Verified || v.Failures == 0 {
		t.Fatalf("broken model verified: %+v", *v)
	}
	var want string
	for _, c := range cachedSet(m.task) {
		if !c.Inv.Steps[0].Act.Return {
			want = c.Name
			break
		}
	}
	if v.Failed != want {
		t.Errorf("first failure %q, want %q", v.Failed, want)
	}
	if !strings.Contains(v.Detail, "step 0") || !strings.Contains(v.Detail, "model RETURN") {
		t.Errorf("detail does not explain the failure: %s", v.Detail)
	}

	// Random perturbation of every weight breaks it too.
	m2 := cloneModel(t, trainedBubbleSort(t))
	r := rand.New(rand.NewPCG(5, 5))
	for _, p := range m2.Params() {
		for i := range p.Data {
			p.Data[i] += float32(r.NormFloat64())
		}
	}
	if v := Verify(m2); v.Verified || v.Failed == "" {
		t.Errorf("perturbed model verified: %+v", *v)
	}
}

// A model that never returns is stopped by the step or depth limit.
func TestRunawayStopped(t *testing.T) {
	m := cloneModel(t, trainedBubbleSort(t))
	m.end.B.Data[0] = -100
	task := m.task
	in := task.RandomInput(rand.New(rand.NewPCG(1, 1)), 6)
	lim, _ := ReferenceLimits(task, in)
	_, err := NewRunner(m).Run(task.NewEnv(in), lim, nil)
	var re *RunawayError
	if !errors.As(err, &re) && (err == nil || !strings.Contains(err.Error(), "PTR")) {
		t.Fatalf("want a runaway or invalid-move error, got %v", err)
	}
	res, err := Evaluate(m, EvalConfig{Sizes: []int{5}, N: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Accuracy != 0 || res[0].Runaways+res[0].Failures != 3 {
		t.Errorf("runaways not counted as failures: %+v", res[0])
	}
}

// The non-recursive variants are reported unverified with the reason.
func TestVerifyNonRecursive(t *testing.T) {
	task, _ := NewTask("quicksort", false)
	m, err := NewModel(task, DefaultModelConfig("quicksort", false), rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	v := Verify(m)
	if v.Verified || !strings.Contains(v.Reason, "QUICKSORT, PARTITION") {
		t.Errorf("%+v", *v)
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	m := trainedBubbleSort(t)
	dir := t.TempDir()
	if err := Save(dir, m); err != nil {
		t.Fatal(err)
	}
	back, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range m.Params() {
		q := back.Params()[i]
		for j := range p.Data {
			if p.Data[j] != q.Data[j] {
				t.Fatalf("%s[%d] differs after reload", p.Name, j)
			}
		}
	}
	// Truncated, flipped and foreign files are rejected with the path in
	// the error; a file of the format before the checksum still loads.
	path := dir + "/" + ModelFile
	b, _ := os.ReadFile(path)
	c, err := run.DecodeCheckpoint(b)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, c.State, 0o644)
	if _, err := Load(dir); err != nil {
		t.Fatalf("model file without the framing: %v", err)
	}
	flipped := append([]byte(nil), b...)
	flipped[len(b)/2] ^= 1
	for _, bad := range [][]byte{b[:len(b)-3], []byte("hello"), flipped} {
		os.WriteFile(path, bad, 0o644)
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("corrupt checkpoint: err = %v", err)
		}
	}
}

// Same seed, same model.
func TestTrainDeterministic(t *testing.T) {
	task, _ := NewTask("toposort", true)
	cfg := TrainConfig{Model: DefaultModelConfig("toposort", true), Seed: 3, MaxEpochs: 5}
	a, _, err := Train(task, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := Train(task, cfg)
	for i, p := range a.Params() {
		q := b.Params()[i]
		for j := range p.Data {
			if p.Data[j] != q.Data[j] {
				t.Fatalf("%s[%d]: %g vs %g", p.Name, j, p.Data[j], q.Data[j])
			}
		}
	}
}
