package grow_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/nadir-ml/nadir/cost"
	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/grow"
	"github.com/nadir-ml/nadir/grow/split"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
	"github.com/nadir-ml/nadir/run"
	"github.com/nadir-ml/nadir/train"
)

func cands(scores ...float64) []grow.Candidate {
	var c []grow.Candidate
	for i, s := range scores {
		c = append(c, grow.Candidate{Layer: i % 2, Unit: i / 2, Score: s, Added: 1, Cost: 1})
	}
	return c
}

func TestSelectRatio(t *testing.T) {
	c := cands(-3, -1, 2, -2, -0.5, 1)
	lim := grow.Limits{Ratio: 0.5, Widths: map[int]int{0: 3, 1: 3}, MaxWidth: map[int]int{}}
	// Budget: 0.5 × 6 = 3 units, only negative scores, most negative first.
	if got := grow.SelectRatio(c, lim); !reflect.DeepEqual(got, []int{0, 3, 1}) {
		t.Fatalf("got %v", got)
	}
	lim.Ratio = 2
	if got := grow.SelectRatio(c, lim); len(got) != 4 {
		t.Fatalf("sign check: got %v", got)
	}
	lim.AllowPositive = true
	if got := grow.SelectRatio(c, lim); len(got) != 6 {
		t.Fatalf("allow-positive: got %v", got)
	}
	lim.MaxWidth = map[int]int{0: 4}
	for _, i := range grow.SelectRatio(c, lim) {
		if c[i].Layer == 0 && c[i].Score != -3 {
			t.Fatalf("max width exceeded: %v", grow.SelectRatio(c, lim))
		}
	}
	lim = grow.Limits{Ratio: 2, Widths: map[int]int{0: 3, 1: 3}, Remaining: 2.5, BudgetCost: map[int]float64{0: 1, 1: 1}}
	if got := grow.SelectRatio(c, lim); len(got) != 2 {
		t.Fatalf("final budget: got %v", got)
	}
}

func TestSelectKnapsackPrefersCheapLayers(t *testing.T) {
	// Same scores; layer 1 is 4x cheaper, so a budget of 4 takes four of its units.
	var c []grow.Candidate
	for u := 0; u < 4; u++ {
		c = append(c, grow.Candidate{Layer: 0, Unit: u, Score: -1, Added: 1, Cost: 4})
		c = append(c, grow.Candidate{Layer: 1, Unit: u, Score: -1, Added: 1, Cost: 1})
	}
	lim := grow.Limits{Ratio: 0.1, Widths: map[int]int{0: 4, 1: 4}, MaxWidth: map[int]int{}}
	got, err := grow.SelectKnapsack(c, lim, map[int]float64{0: 4, 1: 1}) // budget 0.1·(16+4) = 2
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range got {
		if c[i].Layer != 1 {
			t.Fatalf("expensive unit chosen: %v", got)
		}
	}
	if len(got) != 2 {
		t.Fatalf("want 2 cheap units, got %v", got)
	}
}

func TestSelectKnapsackRoundCostPricesBySelectionCost(t *testing.T) {
	// A budget sizes the round (RoundCost, in BudgetCost units: layer 0
	// costs 10, layer 1 costs 1), but the selection's own cost model
	// (Cost: layer 0 costs 1, layer 1 costs 2) decides the order: layer 0's
	// units first (−1 per unit of Cost against −½), two of them fill 20 of
	// the round's 25, and layer 1's units fill the rest.
	var c []grow.Candidate
	for u := 0; u < 4; u++ {
		c = append(c, grow.Candidate{Layer: 0, Unit: u, Score: -1, Added: 1, Cost: 1})
	}
	for u := 0; u < 20; u++ {
		c = append(c, grow.Candidate{Layer: 1, Unit: u, Score: -1, Added: 1, Cost: 2})
	}
	lim := grow.Limits{Widths: map[int]int{0: 4, 1: 20}, MaxWidth: map[int]int{},
		BudgetCost: map[int]float64{0: 10, 1: 1}, Remaining: 1000, RoundCost: 25}
	got, err := grow.SelectKnapsack(c, lim, map[int]float64{0: 1, 1: 2})
	if err != nil {
		t.Fatal(err)
	}
	per := map[int]int{}
	for _, i := range got {
		per[c[i].Layer]++
	}
	if per[0] != 2 || per[1] != 5 {
		t.Fatalf("units per layer %v, want 2 in layer 0 and 5 in layer 1", per)
	}
}

func TestSelectKnapsackRoundCostTakesUnscoredLast(t *testing.T) {
	// Under a round cost, scored candidates with Score < 0 go first, then
	// unscored ones (a baseline's priorities) lowest priority first.
	c := []grow.Candidate{
		{Layer: 0, Unit: 0, Score: 0.9, Unscored: true, Added: 1, Cost: 1},
		{Layer: 0, Unit: 1, Score: 0.1, Unscored: true, Added: 1, Cost: 1},
		{Layer: 0, Unit: 2, Score: -1, Added: 1, Cost: 1},
		{Layer: 0, Unit: 3, Score: 0.5, Unscored: true, Added: 1, Cost: 1},
	}
	lim := grow.Limits{Widths: map[int]int{0: 4}, MaxWidth: map[int]int{},
		BudgetCost: map[int]float64{0: 1}, Remaining: 100, RoundCost: 3}
	got, err := grow.SelectKnapsack(c, lim, map[int]float64{0: 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{2, 1, 3}; !slices.Equal(got, want) {
		t.Fatalf("picked %v, want %v", got, want)
	}
}

func TestSelectKnapsackTakesUnscored(t *testing.T) {
	// Baselines (random-split, new-neuron) carry a positive random priority
	// as Score; the knapsack must still grow them up to the round's budget.
	var c []grow.Candidate
	for u := 0; u < 10; u++ {
		c = append(c, grow.Candidate{Layer: 0, Unit: u, Score: float64(u) / 10, Unscored: true, Added: 1, Cost: 1})
	}
	lim := grow.Limits{Ratio: 0.3, Widths: map[int]int{0: 10}, MaxWidth: map[int]int{}}
	got, err := grow.SelectKnapsack(c, lim, map[int]float64{0: 1}) // budget 0.3·10 = 3
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("want 3 units, got %v", got)
	}
}

func blobs(n int, seed uint64) *data.Dataset {
	r := rand.New(rand.NewPCG(seed, 0))
	d := &data.Dataset{Name: "blobs", Shape: []int{6}, Classes: 3}
	for i := 0; i < n; i++ {
		c := i % 3
		for j := 0; j < 6; j++ {
			v := r.NormFloat64()
			if j%3 == c {
				v += 1
			}
			d.X = append(d.X, float32(v))
		}
		d.Y = append(d.Y, c)
	}
	return d
}

func runEngine(t *testing.T, dir, method, budget string) []grow.RoundRecord {
	t.Helper()
	_, hist := runEngineWith(t, dir, method, budget, nil)
	return hist
}

// runEngineWith runs a small growth on blobs; mod adjusts the engine
// before it starts.
func runEngineWith(t *testing.T, dir, method, budget string, mod func(*grow.Engine)) (*grow.Engine, []grow.RoundRecord) {
	t.Helper()
	cfg := train.RunConfig{Command: "grow", Train: train.Config{Batch: 32, LR: 0.05, Seed: 5, Optimizer: "sgd"}}
	s, err := train.CreateSession(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	act, _ := nn.ParseActivation("softplus")
	net, err := nn.ParseModel("mlp:3,3", []int{6}, 3, act, rand.New(rand.NewPCG(5, 5)))
	if err != nil {
		t.Fatal(err)
	}
	opt, _ := optim.New("sgd", 0)
	ds := train.Datasets{Train: blobs(300, 1), Test: blobs(90, 2)}
	tr, err := s.NewTrainer(net, opt, ds)
	if err != nil {
		t.Fatal(err)
	}
	m, err := split.New(method, split.Options{C: 3})
	if err != nil {
		t.Fatal(err)
	}
	cm, _ := cost.New("params", cost.Options{})
	g := grow.Config{Method: method, Rounds: 3, EpochsPerRound: 1, SeedEpochs: 2, GrowRatio: 0.5, Eps: 0.01,
		SplitBatches: 4, AllowPositive: true}
	e := &grow.Engine{Cfg: g, Method: m, Session: s, Trainer: tr, Data: ds, Cost: cm}
	if budget != "" {
		b, err := cost.ParseBudget(budget)
		if err != nil {
			t.Fatal(err)
		}
		e.Budget = &b
	}
	if mod != nil {
		mod(e)
	}
	if err := e.Prepare(); err != nil {
		t.Fatal(err)
	}
	hist, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return e, hist
}

func TestEngineGrowsDeterministically(t *testing.T) {
	for _, m := range []string{"s2d", "fast", "signed", "random-split", "new-neuron"} {
		a := runEngine(t, filepath.Join(t.TempDir(), "a"), m, "")
		b := runEngine(t, filepath.Join(t.TempDir(), "b"), m, "")
		if len(a) != 4 {
			t.Fatalf("%s: %d round records", m, len(a))
		}
		for i := range a {
			a[i].GrowSeconds, a[i].TrainSeconds, a[i].EpochSeconds = 0, 0, 0
			b[i].GrowSeconds, b[i].TrainSeconds, b[i].EpochSeconds = 0, 0, 0
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: same seed, different runs:\n%+v\n%+v", m, a, b)
		}
		if a[3].Params <= a[0].Params {
			t.Fatalf("%s: nothing grew: %+v", m, a)
		}
	}
}

func TestEngineStopsAtBudget(t *testing.T) {
	hist := runEngine(t, filepath.Join(t.TempDir(), "b"), "s2d", "params=70")
	last := hist[len(hist)-1]
	if last.Params > 70 {
		t.Fatalf("budget exceeded: %d params", last.Params)
	}
	if last.Params == hist[0].Params {
		t.Fatalf("nothing grew under a budget with room: %+v", hist)
	}
}

// With GrowAuto the last growth step ends the net within one unit's cost
// of the budget, and no round overshoots its geometric target.
func TestGrowAutoReachesBudget(t *testing.T) {
	const budget = 200.0
	pm, _ := cost.New("params", cost.Options{})
	// random-split's scores are random and positive: the knapsack, which
	// minimises the summed score, takes none of them.
	for _, m := range []string{"s2d", "fast", "random-split"} {
		for _, sel := range []grow.Selection{grow.Ratio, grow.Knapsack} {
			if m == "random-split" && sel == grow.Knapsack {
				continue
			}
			dir := filepath.Join(t.TempDir(), "a")
			e, hist := runEngineWith(t, dir, m, "params=200", func(e *grow.Engine) {
				e.Cfg.GrowAuto, e.Cfg.Budget, e.Cfg.Select = true, "params=200", sel
			})
			if len(hist) != 4 {
				t.Fatalf("%s/%s: %d round records", m, sel, len(hist))
			}
			// The selection is fitted to the round's target at the prices
			// the splits will have: the apply loop drops nothing (it would
			// drop the first layer's picks, applied last).
			recs, err := run.ReadLog(filepath.Join(dir, run.LogFile))
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range run.Events[run.GrowStep](recs) {
				if g.Splits != g.Selected {
					t.Errorf("%s/%s: round %d applied %d of %d selected splits", m, sel, g.Round, g.Splits, g.Selected)
				}
			}
			for r := 1; r < len(hist); r++ {
				p, left := float64(hist[r-1].Params), float64(len(hist)-r)
				if want := p * math.Pow(budget/p, 1/left); float64(hist[r].Params) > want+1e-9 {
					t.Errorf("%s/%s: round %d grew to %d params, past its target %.1f", m, sel, r, hist[r].Params, want)
				}
			}
			net := e.Trainer.Net
			var unit float64
			for _, li := range net.Growable() {
				c, _ := pm.Neuron(net, li)
				unit = max(unit, c)
			}
			got := float64(hist[len(hist)-1].Params)
			if got > budget || budget-got >= unit {
				t.Errorf("%s/%s: ended at %v params, not within one unit (%v) under the budget %v; rounds %+v",
					m, sel, got, unit, budget, hist)
			}
		}
	}
}

func TestPruneTo(t *testing.T) {
	act, _ := nn.ParseActivation("relu")
	net, _ := nn.ParseModel("cnn:c6,p,f8", []int{1, 6, 6}, 3, act, rand.New(rand.NewPCG(1, 2)))
	if err := grow.PruneTo(net, []int{4, 5}); err != nil {
		t.Fatal(err)
	}
	if got := grow.Widths(net); !reflect.DeepEqual(got, []int{4, 5}) {
		t.Fatalf("widths %v", got)
	}
	if err := grow.PruneTo(net, []int{5, 5}); err == nil {
		t.Fatal("pruning to a larger width accepted")
	}
}

func ExampleSelectRatio() {
	c := []grow.Candidate{
		{Layer: 0, Unit: 0, Score: -0.5, Added: 1},
		{Layer: 0, Unit: 1, Score: 0.2, Added: 1},
		{Layer: 0, Unit: 2, Score: -1.5, Added: 1},
		{Layer: 0, Unit: 3, Score: -0.1, Added: 1},
	}
	// Split at most 50% of 4 units, the most negative λ first, λ < 0 only.
	fmt.Println(grow.SelectRatio(c, grow.Limits{Ratio: 0.5, Widths: map[int]int{0: 4}}))
	// Output: [2 0]
}

// A round's record reuses its last epoch's test metrics: they must be
// those of the network as the round left it.
func TestRoundRecordEvaluatesFinalNetwork(t *testing.T) {
	e, hist := runEngineWith(t, filepath.Join(t.TempDir(), "r"), "s2d", "", nil)
	last := hist[len(hist)-1]
	m := train.Evaluate(e.Trainer.Net, e.Data.Test, 500)
	if last.TestLoss != m.Loss || last.TestAccuracy != m.Accuracy {
		t.Fatalf("round record test loss %v acc %v, network evaluates to %v, %v", last.TestLoss, last.TestAccuracy, m.Loss, m.Accuracy)
	}
}
