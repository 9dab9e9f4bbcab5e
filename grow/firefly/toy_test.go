package firefly

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/grow"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
	"github.com/nadir-ml/nadir/train"
)

// TestToyFireflyVsSplit is the paper's toy claim on a two-layer network
// (784 → h → 10, MNIST, 2,000 images): growing by Firefly (splits and new
// neurons) lowers the training loss faster per added neuron than growing
// by splits only. Both grow the same number of neurons per step (the m
// most negative gate derivatives) and train the same epochs in between.
// Long (NADIR_LONG=1); NADIR_TOY_PNG names the plot.
func TestToyFireflyVsSplit(t *testing.T) {
	if os.Getenv("NADIR_LONG") == "" {
		t.Skip("long experiment: set NADIR_LONG=1")
	}
	ds, err := train.LoadData(train.RunConfig{Data: "mnist", MaxTrain: 2000, Train: train.Config{Seed: 1}})
	if err != nil {
		t.Skip("no MNIST:", err)
	}
	const rounds, perRound, epochs = 6, 2, 2
	type point struct{ neurons, loss float64 }
	curves := map[string][]point{}
	for _, method := range []string{"firefly", "firefly-split"} {
		var pts []point
		for seed := uint64(0); seed < 3; seed++ {
			r := rand.New(rand.NewPCG(seed, 1))
			net, err := nn.ParseModel("mlp:2", []int{784}, 10, nn.Activation{Kind: nn.ReLU}, r)
			if err != nil {
				t.Fatal(err)
			}
			opt, _ := optim.New("sgd", 0)
			b := data.NewBatcher(ds.Train, 64)
			fit := func() float64 {
				var ce nn.SoftmaxCE
				for e := 0; e < epochs; e++ {
					b.Epoch(r)
					for s := 0; s < b.Steps(); s++ {
						x, y := b.Batch(s, nil, nil)
						net.ZeroGrad()
						ce.Forward(net.Forward(x, true), y)
						net.Backward(ce.Backward())
						opt.Step(net.Params(), 0.05)
					}
				}
				all := make([]int, b.Steps())
				for i := range all {
					all[i] = i
				}
				return grow.MeanLoss(net, b, all)
			}
			loss := fit()
			for k := 0; ; k++ {
				if seed == 0 {
					pts = append(pts, point{float64(net.Layers[0].(nn.Producer).Units()), loss})
				} else {
					pts[k].loss += loss
				}
				if k == rounds {
					break
				}
				o := Options{SplitOnly: method == "firefly-split", Candidates: 4, Steps: 20, LR: 0.02}
				cs, err := NewCandidates(net, o, r)
				if err != nil {
					t.Fatal(err)
				}
				b.Epoch(r)
				if err := cs.Train(context.Background(), b, seq(0, 20), nil); err != nil {
					t.Fatal(err)
				}
				if err := cs.Score(context.Background(), b, seq(20, 10), nil); err != nil {
					t.Fatal(err)
				}
				cands := cs.Candidates()
				sort.SliceStable(cands, func(i, j int) bool { return cands[i].Score < cands[j].Score })
				sel := cands[:perRound]
				sort.Slice(sel, func(i, j int) bool { return sel[i].Unit < sel[j].Unit })
				for _, c := range sel {
					if err := c.Apply(net, 1); err != nil {
						t.Fatal(err)
					}
				}
				loss = fit()
			}
		}
		for i := range pts {
			pts[i].loss /= 3
		}
		curves[method] = pts
	}
	var sumF, sumS float64
	for i := range curves["firefly"] {
		f, s := curves["firefly"][i], curves["firefly-split"][i]
		t.Logf("neurons %2.0f: firefly loss %.4f, split-only loss %.4f", f.neurons, f.loss, s.loss)
		if i > 0 {
			sumF += f.loss
			sumS += s.loss
		}
	}
	p := plot.New()
	p.Title.Text = "two-layer MLP on MNIST (2k images): training loss per hidden neuron, mean of 3 seeds"
	p.X.Label.Text = "hidden neurons"
	p.Y.Label.Text = "training loss"
	for i, m := range []string{"firefly", "firefly-split"} {
		xy := make(plotter.XYs, len(curves[m]))
		for k, q := range curves[m] {
			xy[k] = plotter.XY{X: q.neurons, Y: q.loss}
		}
		l, s, err := plotter.NewLinePoints(xy)
		if err != nil {
			t.Fatal(err)
		}
		l.Color, s.Color, s.Shape = plotutil.Color(i), plotutil.Color(i), plotutil.Shape(i)
		p.Add(l, s)
		p.Legend.Add(m, l, s)
	}
	p.Legend.Top = true
	out := os.Getenv("NADIR_TOY_PNG")
	if out == "" {
		out = filepath.Join(t.TempDir(), "toy.png")
	}
	if err := p.Save(7*vg.Inch, 4.5*vg.Inch, out); err != nil {
		t.Fatal(err)
	}
	fmt.Println("toy plot:", out)
	if sumF >= sumS {
		t.Errorf("firefly's mean loss over the growth steps %.4f is not below split-only's %.4f", sumF/rounds, sumS/rounds)
	}
}

func seq(from, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = from + i
	}
	return s
}
