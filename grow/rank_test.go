package grow

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/nn"
)

// TestRankAtStep checks that RankAtStep orders splits by ‖θ‖²·λ_min (their
// predicted loss change at ε = EpsRel·‖θ‖, up to a common factor) and
// leaves the candidates themselves, and unscored ones, alone.
func TestRankAtStep(t *testing.T) {
	act, _ := nn.ParseActivation("relu")
	net, err := nn.ParseModel("mlp:2", []int{2}, 2, act, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	li := net.Growable()[0]
	p := net.Layers[li].(nn.Producer)
	w, b := p.Weight(), p.BiasParam()
	// Unit 0: θ = (1, 0, 0), unit 1: θ = (2, 0, 0).
	for i := range w.Data {
		w.Data[i] = 0
	}
	for i := range b.Data {
		b.Data[i] = 0
	}
	w.Data[0], w.Data[w.Cols] = 1, 2
	cands := []Candidate{
		{Layer: li, Unit: 0, Score: -1, Added: 1},
		{Layer: li, Unit: 1, Score: -0.5, Added: 1},
		{Layer: li, Unit: 1, Score: 0.3, Added: 1, Unscored: true},
	}
	lim := Limits{Ratio: 0.25, Widths: map[int]int{li: 2}} // one unit
	for _, tc := range []struct {
		rank      bool
		epsRel    float64
		wantScore []float64
		wantUnit  int
	}{
		{false, 0.1, []float64{-1, -0.5, 0.3}, 0},
		{true, 0, []float64{-1, -0.5, 0.3}, 0}, // absolute ε: λ alone
		{true, 0.1, []float64{-1, -2, 0.3}, 1},
	} {
		e := &Engine{Cfg: Config{RankAtStep: tc.rank, EpsRel: tc.epsRel}}
		r := e.rankCands(net, cands)
		for i, c := range r {
			if c.Score != tc.wantScore[i] {
				t.Errorf("rank %v eps_rel %g: candidate %d score %g, want %g", tc.rank, tc.epsRel, i, c.Score, tc.wantScore[i])
			}
		}
		if cands[1].Score != -0.5 {
			t.Fatalf("rankCands changed its input: %g", cands[1].Score)
		}
		got := SelectRatio(r, lim)
		if len(got) != 1 || r[got[0]].Unit != tc.wantUnit {
			t.Errorf("rank %v eps_rel %g: chose %v, want unit %d", tc.rank, tc.epsRel, got, tc.wantUnit)
		}
	}
}

// TestProbeCands checks RankMeasured's scores: each scored candidate's
// Score is 2·ΔL/ε², ΔL its loss change on the measured batches when
// applied alone at its step (here against a net built afresh for each),
// unscored candidates keep theirs, and the net is left as it was.
func TestProbeCands(t *testing.T) {
	act, _ := nn.ParseActivation("relu")
	build := func() *nn.Net {
		net, err := nn.ParseModel("cnn:c3,p,c4,g", []int{1, 6, 6}, 3, act, rand.New(rand.NewPCG(3, 3)))
		if err != nil {
			t.Fatal(err)
		}
		return net
	}
	r := rand.New(rand.NewPCG(4, 4))
	b := data.NewBatcher(RandomImages(r, 24, []int{1, 6, 6}, 3), 8)
	b.Epoch(nil)
	steps := []int{0, 1, 2}
	// A split of unit u along a fixed direction: the copies at θ ± ε·dir.
	splitAlong := func(li, u int, dir []float64) func(*nn.Net, float64) error {
		return func(net *nn.Net, eps float64) error {
			p := net.Layers[li].(nn.Producer)
			fan := p.FanIn()
			w := p.Weight().Data
			in := append([]float32(nil), w[u*fan:(u+1)*fan]...)
			for j := range in {
				in[j] += float32(eps * dir[j])
				w[u*fan+j] -= float32(eps * dir[j])
			}
			out, err := net.OutgoingColumn(li, u)
			if err != nil {
				return err
			}
			for j := range out {
				out[j] /= 2
			}
			if err := net.AddUnits(li, []nn.NewUnit{{In: in, Like: u, Out: out}}); err != nil {
				return err
			}
			return net.ScaleOutgoing(li, u, 0.5)
		}
	}
	net := build()
	var cands []Candidate
	for _, li := range net.Growable() {
		fan := net.Layers[li].(nn.Producer).FanIn()
		for u := 0; u < 3; u++ {
			dir := make([]float64, fan)
			for j := range dir {
				dir[j] = r.NormFloat64()
			}
			cands = append(cands, Candidate{Layer: li, Unit: u, Score: -1, Added: 1, Apply: splitAlong(li, u, dir)})
		}
	}
	cands = append(cands, Candidate{Layer: net.Growable()[0], Unit: 1, Score: 0.25, Added: 1, Unscored: true,
		Apply: func(*nn.Net, float64) error { t.Error("an unscored candidate was probed"); return nil }})
	e := &Engine{Cfg: Config{RankMeasured: true, EpsRel: 0.5}}
	before := MeanLoss(net, b, steps)
	out, err := e.probeCands(net, NewSplitLosses(net, b, steps), cands, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := MeanLoss(net, b, steps); got != before {
		t.Fatalf("the probes changed the net's loss from %v to %v", before, got)
	}
	for i, c := range out {
		if c.Unscored {
			if c.Score != 0.25 {
				t.Errorf("unscored candidate's score %v, want 0.25", c.Score)
			}
			continue
		}
		fresh := build()
		eps := e.Cfg.Step(fresh, c.Layer, c.Unit)
		if err := cands[i].Apply(fresh, eps); err != nil {
			t.Fatal(err)
		}
		want := 2 * (MeanLoss(fresh, b, steps) - before) / (eps * eps)
		if math.Abs(c.Score-want) > 1e-4*math.Abs(want)+1e-9 {
			t.Errorf("layer %d unit %d: score %v, want 2ΔL/ε² = %v", c.Layer, c.Unit, c.Score, want)
		}
		if cands[i].Score != -1 {
			t.Errorf("probeCands changed its input")
		}
	}
}
