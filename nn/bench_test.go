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
