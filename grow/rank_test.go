package grow

import (
	"math/rand/v2"
	"testing"

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
