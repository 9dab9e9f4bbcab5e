package firefly

import (
	"context"
	"math/rand/v2"
	"os"
	"sort"
	"syscall"
	"testing"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/grow"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
	"github.com/nadir-ml/nadir/train"
)

func cpuSeconds() float64 {
	var u syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return float64(u.Utime.Sec+u.Stime.Sec) + float64(u.Utime.Usec+u.Stime.Usec)/1e6
}

// TestGrowthStepCost measures, in CPU seconds of this process (robust to
// other load on the machine), a Firefly growth step (candidate network,
// 20 training + 10 scoring mini-batches, selection at ratio 0.35, surgery,
// one loss measurement) against one training epoch of the network it
// grows: the benchmark CNN on 10,000 Fashion-MNIST images, batch 128, two
// growth steps. Long (NADIR_LONG=1).
func TestGrowthStepCost(t *testing.T) {
	if os.Getenv("NADIR_LONG") == "" {
		t.Skip("long experiment: set NADIR_LONG=1")
	}
	ds, err := train.LoadData(train.RunConfig{Data: "fashion-mnist", MaxTrain: 10000, Train: train.Config{Seed: 0}})
	if err != nil {
		t.Skip("no Fashion-MNIST:", err)
	}
	r := rand.New(rand.NewPCG(0, 1))
	net, err := nn.ParseModel("cnn:c16,p,c16,p,c16,c16,p,c16,c16,p,c16,c16,g", ds.Train.Shape, 10, nn.Activation{Kind: nn.ReLU}, r)
	if err != nil {
		t.Fatal(err)
	}
	opt, _ := optim.New("sgd", 1e-4)
	b := data.NewBatcher(ds.Train, 128)
	epoch := func() float64 {
		c0 := cpuSeconds()
		var ce nn.SoftmaxCE
		b.Epoch(r)
		for s := 0; s < b.Steps(); s++ {
			x, y := b.Batch(s, nil, nil)
			net.ZeroGrad()
			ce.Forward(net.Forward(x, true), y)
			net.Backward(ce.Backward())
			opt.Step(net.Params(), 0.05)
		}
		return cpuSeconds() - c0
	}
	epoch()
	for step := 1; step <= 2; step++ {
		e := epoch()
		c0 := cpuSeconds()
		sb, steps := grow.StatsBatches(ds.Train, 128, 10, 0, step)
		cs, err := NewCandidates(net, Options{Steps: DefaultSteps, LR: 0.02}, r)
		if err != nil {
			t.Fatal(err)
		}
		if err := cs.Train(context.Background(), sb, seq(10, DefaultSteps), nil); err != nil {
			t.Fatal(err)
		}
		if err := cs.Score(context.Background(), sb, steps, nil); err != nil {
			t.Fatal(err)
		}
		cands := cs.Candidates()
		lim := grow.Limits{Ratio: 0.35, MaxWidth: map[int]int{}, Widths: map[int]int{}}
		for _, li := range net.Growable() {
			lim.Widths[li] = net.Layers[li].(nn.Producer).Units()
		}
		chosen := grow.SelectRatio(cands, lim)
		sort.Slice(chosen, func(i, j int) bool {
			a, c := cands[chosen[i]], cands[chosen[j]]
			if a.Layer != c.Layer {
				return a.Layer > c.Layer
			}
			return a.Unit < c.Unit
		})
		for _, i := range chosen {
			if err := cands[i].Apply(net, 1); err != nil {
				t.Fatal(err)
			}
		}
		grow.MeanLoss(net, sb, steps)
		g := cpuSeconds() - c0
		t.Logf("growth step %d: %.1f CPU s, epoch of the network it grew %.1f CPU s: %.2f epochs; widths now %v, params %d",
			step, g, e, g/e, grow.Widths(net), net.NumParams())
		if g > 2*e {
			t.Errorf("growth step %d costs %.2f epochs, more than 2", step, g/e)
		}
	}
}
