package npi

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// EvalConfig controls Evaluate.
type EvalConfig struct {
	Sizes []int  // input sizes (digits, elements, vertices)
	N     int    // random inputs per size (default 20)
	Seed  uint64 // inputs depend only on Seed, size and index
	// Workers evaluate inputs in parallel (default 2); results do not
	// depend on it.
	Workers  int
	Progress func(done, total int)
}

// SizeResult is the evaluation at one input size.
type SizeResult struct {
	Size         int     `json:"size"`
	Inputs       int     `json:"inputs"`
	Correct      int     `json:"correct"`
	Accuracy     float64 `json:"accuracy"`      // exact output, free-running
	StepAccuracy float64 `json:"step_accuracy"` // teacher-forced, over all reference steps
	Runaways     int     `json:"runaways"`      // stopped at the step or depth limit
	Failures     int     `json:"failures"`      // invalid calls (e.g. a pointer moved off the array)
	RefSteps     float64 `json:"ref_steps"`     // mean reference steps per input
	Seconds      float64 `json:"seconds"`
	// Example is the first input answered wrongly, if any.
	Example string `json:"example,omitempty"`
}

type evalOne struct {
	correct, runaway, failure bool
	ok, total, refSteps       int
	input                     string
}

// Evaluate runs the learned program end to end on random inputs of each
// size: the exact-output accuracy counts inputs whose final output is right
// (a runaway or invalid call counts as wrong); the step accuracy compares
// the model's action with the reference's at every step of the reference
// trace, teacher-forced.
func Evaluate(m *Model, cfg EvalConfig) ([]SizeResult, error) {
	if len(cfg.Sizes) == 0 {
		return nil, fmt.Errorf("no sizes to evaluate")
	}
	for _, s := range cfg.Sizes {
		if s < 1 {
			return nil, fmt.Errorf("size %d: sizes must be positive", s)
		}
	}
	if cfg.N == 0 {
		cfg.N = 20
	}
	if cfg.Workers < 1 {
		cfg.Workers = 2
	}
	t := m.task
	type job struct{ si, i int }
	jobs := make(chan job)
	res := make([][]evalOne, len(cfg.Sizes))
	secs := make([][]float64, len(cfg.Sizes))
	for si := range res {
		res[si] = make([]evalOne, cfg.N)
		secs[si] = make([]float64, cfg.N)
	}
	var mu sync.Mutex
	done, total := 0, len(cfg.Sizes)*cfg.N
	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := NewRunner(m)
			for j := range jobs {
				start := time.Now()
				size := cfg.Sizes[j.si]
				in := t.RandomInput(rand.New(rand.NewPCG(cfg.Seed, uint64(size)<<32|uint64(j.i))), size)
				lim, ref := ReferenceLimits(t, in)
				var e evalOne
				e.refSteps = ref
				e.input = in.String()
				env := t.NewEnv(in)
				_, err := r.Run(env, lim, nil)
				var run *RunawayError
				switch {
				case errors.As(err, &run):
					e.runaway = true
				case err != nil:
					e.failure = true
				default:
					e.correct = t.Correct(in, env)
				}
				e.ok, e.total = r.StepAccuracy(in)
				res[j.si][j.i] = e
				secs[j.si][j.i] = time.Since(start).Seconds()
				if cfg.Progress != nil {
					mu.Lock()
					done++
					cfg.Progress(done, total)
					mu.Unlock()
				}
			}
		}()
	}
	for si := range cfg.Sizes {
		for i := range cfg.N {
			jobs <- job{si, i}
		}
	}
	close(jobs)
	wg.Wait()
	out := make([]SizeResult, len(cfg.Sizes))
	for si, size := range cfg.Sizes {
		sr := SizeResult{Size: size, Inputs: cfg.N}
		ok, steps := 0, 0
		for i, e := range res[si] {
			if e.correct {
				sr.Correct++
			} else if sr.Example == "" {
				sr.Example = e.input
			}
			if e.runaway {
				sr.Runaways++
			}
			if e.failure {
				sr.Failures++
			}
			ok += e.ok
			steps += e.total
			sr.RefSteps += float64(e.refSteps)
			sr.Seconds += secs[si][i]
		}
		sr.Accuracy = float64(sr.Correct) / float64(cfg.N)
		sr.StepAccuracy = float64(ok) / float64(max(steps, 1))
		sr.RefSteps /= float64(cfg.N)
		out[si] = sr
	}
	return out, nil
}
