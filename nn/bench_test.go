package nn_test

import (
	"math/rand/v2"
	"testing"

	"github.com/nadir-ml/nadir/internal/perf"
)

// The train steps of `nadir bench` (internal/perf): batch 128 of 28×28
// images, forward, softmax cross-entropy, backward and an SGD update. The
// step after the warm-up reuses every layer buffer, so allocs/op measures
// what a steady-state training step allocates.

func benchStep(b *testing.B, build func(int, *rand.Rand) (*perf.TrainStep, error)) {
	s, err := build(128, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	s.Run() // size the buffers
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s.Run()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/step")
}

// BenchmarkMLPStep: Dense 784→256→256→10 with ReLU.
func BenchmarkMLPStep(b *testing.B) { benchStep(b, perf.NewMLP) }

// BenchmarkLeNetStep: conv5 1→32, pool, conv5 32→64, pool, dense 1024→128→10.
func BenchmarkLeNetStep(b *testing.B) { benchStep(b, perf.NewLeNet) }

// BenchmarkVGG16Step, BenchmarkVGG48Step: the growth benchmark's network
// (eight 3×3 conv + BatchNorm + ReLU, four max pools) at widths 16 and 48,
// SGD with Nesterov momentum and weight decay.
func BenchmarkVGG16Step(b *testing.B) { benchStep(b, perf.NewVGG(16)) }
func BenchmarkVGG48Step(b *testing.B) { benchStep(b, perf.NewVGG(48)) }

// BenchmarkDepthwise: a 3×3 depthwise convolution over 64 channels,
// forward and backward on 32×64×16×16.
func BenchmarkDepthwise(b *testing.B) {
	d, err := perf.NewDepthwise(32, 64, 16, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	d.Run()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d.Run()
	}
}

// BenchmarkVGG16Infer, BenchmarkVGG16ForwardEval: evaluation of a batch of
// 128 by the growth benchmark's seed network, through the fused inference
// path (Net.Infer) and through the layers' evaluation-mode Forward.
func BenchmarkVGG16Infer(b *testing.B)       { benchEval(b, true) }
func BenchmarkVGG16ForwardEval(b *testing.B) { benchEval(b, false) }

func benchEval(b *testing.B, infer bool) {
	s, err := perf.NewVGG(16)(128, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	s.Run() // non-trivial BatchNorm statistics, sized buffers
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if infer {
			s.Net.Infer(s.X)
		} else {
			s.Net.Forward(s.X, false)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/batch")
}
