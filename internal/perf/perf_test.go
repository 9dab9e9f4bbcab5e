package perf

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestRunSmall(t *testing.T) {
	var streamed []string
	ms, err := Run(context.Background(), Options{Reps: 2, Steps: 1, Small: true, OnDone: func(m Measurement) { streamed = append(streamed, m.Key) }})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, m := range ms {
		keys = append(keys, m.Key)
		if len(m.Runs) != 2 {
			t.Errorf("%s: %d runs, want 2", m.Key, len(m.Runs))
		}
		for _, v := range append(m.Runs, m.Median) {
			if !(v > 0) || math.IsInf(v, 0) {
				t.Errorf("%s: figure %v is not finite and positive", m.Key, v)
			}
		}
		if m.Unit != "ms" && m.Unit != "GFLOP/s" {
			t.Errorf("%s: unit %q", m.Key, m.Unit)
		}
	}
	if !slices.Equal(keys, Keys) || !slices.Equal(streamed, Keys) {
		t.Errorf("keys %v, streamed %v, want %v", keys, streamed, Keys)
	}
}

func TestRunOptions(t *testing.T) {
	if _, err := Run(context.Background(), Options{Reps: -1}); err == nil {
		t.Error("negative reps accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, Options{Small: true}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: err %v, want context.Canceled", err)
	}
}

// The networks must have exactly the PyTorch peer's parameters:
// nn.Linear and nn.Conv2d with biases.
func TestNetworksMatchPeer(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	mlp, err := NewMLP(2, r)
	if err != nil {
		t.Fatal(err)
	}
	lenet, err := NewLeNet(2, r)
	if err != nil {
		t.Fatal(err)
	}
	vgg16, err := NewVGG(16)(2, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		s      *TrainStep
		params int
	}{
		{"mlp", mlp, 784*256 + 256 + 256*256 + 256 + 256*10 + 10},
		{"lenet", lenet, 32*25 + 32 + 64*32*25 + 64 + 1024*128 + 128 + 128*10 + 10},
		// the peer's count less its 8 redundant conv biases of width 16
		{"vgg16", vgg16, 16*9 + 7*16*16*9 + 8*2*16 + 16*10 + 10},
	} {
		if got := c.s.Net.NumParams(); got != c.params {
			t.Errorf("%s: %d parameters, want %d", c.name, got, c.params)
		}
		if out := c.s.Net.OutShape(); !slices.Equal(out, []int{10}) {
			t.Errorf("%s: output shape %v", c.name, out)
		}
	}
}

// A train step must train: repeated steps on the fixed batch lower the loss.
func TestTrainStepLearns(t *testing.T) {
	for _, build := range []func(int, *rand.Rand) (*TrainStep, error){NewMLP, NewLeNet, NewVGG(4)} {
		s, err := build(4, rand.New(rand.NewPCG(3, 4)))
		if err != nil {
			t.Fatal(err)
		}
		s.LR = 0.1
		first := s.Run()
		var last float64
		for range 20 {
			last = s.Run()
		}
		if !(last < 0.5*first) {
			t.Errorf("loss %v after 20 steps from %v; want it at least halved", last, first)
		}
	}
}

func TestDepthwise(t *testing.T) {
	d, err := NewDepthwise(2, 4, 5, rand.New(rand.NewPCG(5, 6)))
	if err != nil {
		t.Fatal(err)
	}
	l1 := d.Run()
	g1 := slices.Clone(d.Conv.W.Grad)
	l2 := d.Run()
	if !(l1 > 0) || l1 != l2 || !slices.Equal(g1, d.Conv.W.Grad) {
		t.Errorf("runs differ or are empty: loss %v then %v", l1, l2)
	}
	// dL/db_c = Σ 2y over channel c's outputs.
	y := d.Conv.Forward(d.X, true)
	for c := range 4 {
		var s float64
		for n := range 2 {
			for _, v := range y.Data[(n*4+c)*25 : (n*4+c+1)*25] {
				s += 2 * float64(v)
			}
		}
		if g := float64(d.Conv.B.Grad[c]); math.Abs(g-s) > 1e-4*(1+math.Abs(s)) {
			t.Errorf("bias gradient %d = %v, want %v", c, g, s)
		}
	}
	if _, err := NewDepthwise(1, 1, 4, nil); err == nil {
		t.Error("one-channel depthwise accepted")
	}
}

func TestGemm(t *testing.T) {
	g, err := NewGemm(3, rand.New(rand.NewPCG(7, 8)))
	if err != nil {
		t.Fatal(err)
	}
	g.Run()
	for i := range 3 {
		for j := range 3 {
			var s float32
			for k := range 3 {
				s += g.A[i*3+k] * g.B[k*3+j]
			}
			if math.Abs(float64(s-g.C[i*3+j])) > 1e-5 {
				t.Errorf("C[%d,%d] = %v, want %v", i, j, g.C[i*3+j], s)
			}
		}
	}
	if g.FLOPs() != 54 {
		t.Errorf("FLOPs %v, want 54", g.FLOPs())
	}
	if _, err := NewGemm(0, nil); err == nil {
		t.Error("size 0 accepted")
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		want float64
	}{{[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}, {[]float64{7}, 7}} {
		if got := median(c.xs); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.xs, got, c.want)
		}
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing is not NaN")
	}
}
