package npi

import (
	"github.com/nadir-ml/nadir/optim"
	"math/rand/v2"
	"testing"
)

// BenchmarkStep measures single-step inference (the cost of evaluation
// and of `nadir npi run`), teacher-forced over a quicksort of 100 elements.
func BenchmarkStep(b *testing.B) {
	task, _ := NewTask("quicksort", true)
	m, _ := NewModel(task, DefaultModelConfig("quicksort", true), rand.New(rand.NewPCG(1, 1)))
	in := task.RandomInput(rand.New(rand.NewPCG(1, 2)), 100)
	r := NewRunner(m)
	b.ReportAllocs()
	steps := 0
	for b.Loop() {
		_, n := r.StepAccuracy(in)
		steps += n
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(steps), "ns/step")
}

// BenchmarkTrainBatch measures one training update on 32 addition
// invocations.
func BenchmarkTrainBatch(b *testing.B) {
	task, _ := NewTask("addition", true)
	r := rand.New(rand.NewPCG(1, 1))
	m, _ := NewModel(task, DefaultModelConfig("addition", true), r)
	seqs := TrainingSet(task, 50, 5, r)[:32]
	br := newBatchRunner(m)
	opt := &optim.Adam{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	lr := 0.003
	params := m.Params()
	steps := 0
	for _, s := range seqs {
		steps += len(s.Steps)
	}
	for b.Loop() {
		br.load(seqs)
		br.forward()
		for _, p := range params {
			p.ZeroGrad()
		}
		br.lossBackward(1 / float32(steps))
		optim.ClipGradNorm(params, gradClip)
		opt.Step(params, lr)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*steps), "ns/step")
}
