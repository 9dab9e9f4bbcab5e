package linalg

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize/convex/lp"
)

// knapsackKind describes a family of random problems.
type knapsackKind struct {
	name          string
	groups        int  // 0: no budget rows
	layers        int  // 0: no caps
	uniform       bool // one cost per layer (the energy-aware setting)
	zeroCostShare float64
}

var knapsackKinds = []knapsackKind{
	{name: "groups and caps", groups: 2, layers: 4},
	{name: "groups and caps, cost per layer", groups: 2, layers: 4, uniform: true},
	{name: "one budget row", groups: 1},
	{name: "caps only", layers: 3},
	{name: "one budget, one cap", groups: 1, layers: 1},
	{name: "unconstrained"},
	{name: "zero costs", groups: 2, layers: 3, zeroCostShare: 0.3},
}

// randKnapsack draws m items of the given kind; about a fifth have Score ≥ 0.
func randKnapsack(kind knapsackKind, m int, r *rand.Rand) KnapsackProblem {
	var p KnapsackProblem
	nl := max(kind.layers, 1)
	layerCost := make([]float64, nl)
	for l := range layerCost {
		layerCost[l] = 0.5 + 3*r.Float64()
	}
	for i := 0; i < m; i++ {
		it := Item{Score: r.NormFloat64() - 0.8, Layer: r.IntN(nl)}
		if kind.groups > 0 {
			it.Group = it.Layer % kind.groups
		}
		it.Cost = 0.5 + 3*r.Float64()
		if kind.uniform {
			it.Cost = layerCost[it.Layer]
		}
		if r.Float64() < kind.zeroCostShare {
			it.Cost = 0
		}
		p.Items = append(p.Items, it)
	}
	if kind.groups > 0 {
		p.GroupBudget = make([]float64, kind.groups)
		for g := range p.GroupBudget {
			p.GroupBudget[g] = r.Float64() * float64(m) * 0.6
		}
	}
	if kind.layers > 0 {
		p.LayerCap = make([]int, kind.layers)
		for l := range p.LayerCap {
			p.LayerCap[l] = r.IntN(m/kind.layers + 2)
		}
	}
	return p
}

// referenceLP solves p's relaxation with no reductions: every item, every
// row and every bound in one standard-form simplex.
func referenceLP(t *testing.T, p KnapsackProblem) float64 {
	t.Helper()
	m, ng, nl := len(p.Items), len(p.GroupBudget), len(p.LayerCap)
	rows := ng + nl + m
	a := mat.NewDense(rows, m+rows, nil)
	b := make([]float64, rows)
	c := make([]float64, m+rows)
	basic := make([]int, rows)
	for i, it := range p.Items {
		c[i] = it.Score
		if ng > 0 {
			a.Set(it.Group, i, it.Cost)
		}
		if nl > 0 {
			a.Set(ng+it.Layer, i, 1)
		}
		a.Set(ng+nl+i, i, 1)
		b[ng+nl+i] = 1
	}
	copy(b, p.GroupBudget)
	for l, cp := range p.LayerCap {
		b[ng+l] = float64(cp)
	}
	for j := 0; j < rows; j++ {
		a.Set(j, m+j, 1)
		basic[j] = m + j
	}
	f, _, err := lp.Simplex(c, a, b, 1e-12, basic)
	if err != nil {
		t.Fatalf("reference simplex: %v", err)
	}
	return f
}

// objective returns Σ β_i Score_i.
func objective(p KnapsackProblem, beta []float64) float64 {
	f := 0.0
	for i, b := range beta {
		f += b * p.Items[i].Score
	}
	return f
}

// indicator turns a selection into β ∈ {0,1}ⁿ.
func indicator(n int, sel []int) []float64 {
	beta := make([]float64, n)
	for _, i := range sel {
		beta[i] = 1
	}
	return beta
}

// feasible checks β against every constraint independently of the package.
func feasible(p KnapsackProblem, beta []float64) error {
	g := make([]float64, len(p.GroupBudget))
	l := make([]float64, len(p.LayerCap))
	for i, b := range beta {
		if b < 0 || b > 1 {
			return fmt.Errorf("β[%d] = %g", i, b)
		}
		if len(g) > 0 {
			g[p.Items[i].Group] += b * p.Items[i].Cost
		}
		if len(l) > 0 {
			l[p.Items[i].Layer] += b
		}
	}
	for k := range g {
		if g[k] > p.GroupBudget[k]*(1+1e-9)+1e-12 {
			return fmt.Errorf("group %d spends %g of %g", k, g[k], p.GroupBudget[k])
		}
	}
	for k := range l {
		if l[k] > float64(p.LayerCap[k])+1e-9 {
			return fmt.Errorf("layer %d takes %g of %d", k, l[k], p.LayerCap[k])
		}
	}
	return nil
}

// checkSelection verifies that sel is sorted, unique, useful and feasible.
func checkSelection(t *testing.T, name string, p KnapsackProblem, sel []int) {
	t.Helper()
	if !slices.IsSorted(sel) || len(slices.Compact(slices.Clone(sel))) != len(sel) {
		t.Errorf("%s: selection %v not sorted and unique", name, sel)
	}
	for _, i := range sel {
		if p.Items[i].Score >= 0 {
			t.Errorf("%s: selected item %d with score %g", name, i, p.Items[i].Score)
		}
	}
	if err := feasible(p, indicator(len(p.Items), sel)); err != nil {
		t.Errorf("%s: selection infeasible: %v", name, err)
	}
}

func TestKnapsackBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, kind := range knapsackKinds {
		for trial := 0; trial < 15; trial++ {
			m := 1 + r.IntN(12)
			p := randKnapsack(kind, m, r)
			name := fmt.Sprintf("%s #%d (m=%d)", kind.name, trial, m)

			// Best integer selection by enumeration.
			best := 0.0
			for mask := 0; mask < 1<<m; mask++ {
				var sel []int
				for i := 0; i < m; i++ {
					if mask&(1<<i) != 0 {
						sel = append(sel, i)
					}
				}
				beta := indicator(m, sel)
				if feasible(p, beta) == nil {
					best = min(best, objective(p, beta))
				}
			}

			beta, err := SolveKnapsackLP(p)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if err := feasible(p, beta); err != nil {
				t.Errorf("%s: LP solution infeasible: %v", name, err)
			}
			f := objective(p, beta)
			if f > best+1e-9 {
				t.Errorf("%s: LP objective %g above best integer %g", name, f, best)
			}
			if ref := referenceLP(t, p); math.Abs(f-ref) > 1e-9*max(1, math.Abs(ref)) {
				t.Errorf("%s: LP objective %.12g, unreduced simplex %.12g", name, f, ref)
			}

			for _, sel := range []struct {
				how string
				fn  func(KnapsackProblem) ([]int, error)
			}{
				{"greedy", SelectGreedy},
				{"knapsack", func(p KnapsackProblem) ([]int, error) { return SelectKnapsack(p, 0) }},
			} {
				got, err := sel.fn(p)
				if err != nil {
					t.Fatalf("%s %s: %v", name, sel.how, err)
				}
				checkSelection(t, name+" "+sel.how, p, got)
				if obj := objective(p, indicator(m, got)); obj < best-1e-9 {
					t.Errorf("%s %s: objective %g below the integer optimum %g", name, sel.how, obj, best)
				}
			}
		}
	}
}

// TestKnapsackLPLarger compares the reduced LP with the unreduced simplex
// on problems too large to enumerate.
func TestKnapsackLPLarger(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	for _, kind := range knapsackKinds {
		for trial := 0; trial < 3; trial++ {
			p := randKnapsack(kind, 40+r.IntN(30), r)
			beta, err := SolveKnapsackLP(p)
			if err != nil {
				t.Fatalf("%s: %v", kind.name, err)
			}
			if err := feasible(p, beta); err != nil {
				t.Errorf("%s: infeasible: %v", kind.name, err)
			}
			f, ref := objective(p, beta), referenceLP(t, p)
			if math.Abs(f-ref) > 1e-9*max(1, math.Abs(ref)) {
				t.Errorf("%s #%d: LP objective %.12g, unreduced simplex %.12g", kind.name, trial, f, ref)
			}
			sel, err := SelectKnapsack(p, 0.9)
			if err != nil {
				t.Fatal(err)
			}
			checkSelection(t, kind.name, p, sel)
			// Every item the LP takes fully is selected.
			for i, b := range beta {
				if b == 1 && !slices.Contains(sel, i) {
					t.Errorf("%s #%d: item %d has β = 1 but was not selected", kind.name, trial, i)
				}
			}
		}
	}
}

// TestGreedyExactSingleRow: with one budget row and no caps the greedy
// order is the LP's (fractional knapsack): the items it takes before its
// first misfit are the LP's β = 1 items, and adding the LP's fraction of that
// misfit gives the LP optimum of the unreduced simplex.
func TestGreedyExactSingleRow(t *testing.T) {
	r := rand.New(rand.NewPCG(35, 36))
	for trial := 0; trial < 20; trial++ {
		p := randKnapsack(knapsackKind{groups: 1}, 5+r.IntN(40), r)
		ref := referenceLP(t, p)
		sel, err := SelectGreedy(p)
		if err != nil {
			t.Fatal(err)
		}
		checkSelection(t, "greedy", p, sel)
		var useful []int
		for i, it := range p.Items {
			if it.Score < 0 {
				useful = append(useful, i)
			}
		}
		slices.SortFunc(useful, func(a, b int) int {
			return cmpFloat(p.Items[a].Score/p.Items[a].Cost, p.Items[b].Score/p.Items[b].Cost)
		})
		room, frac := p.GroupBudget[0], 0.0
		var prefix []int
		for _, i := range useful {
			if c := p.Items[i].Cost; c > room {
				frac = room / c * p.Items[i].Score
				break
			}
			room -= p.Items[i].Cost
			prefix = append(prefix, i)
		}
		slices.Sort(prefix)
		for _, i := range prefix {
			if !slices.Contains(sel, i) {
				t.Errorf("trial %d: greedy lost prefix item %d", trial, i)
			}
		}
		if got := objective(p, indicator(len(p.Items), prefix)) + frac; math.Abs(got-ref) > 1e-9*max(1, -ref) {
			t.Errorf("trial %d: greedy fractional value %.12g, LP %.12g", trial, got, ref)
		}
		if obj := objective(p, indicator(len(p.Items), sel)); obj < ref-1e-9 {
			t.Errorf("trial %d: greedy %g beats the LP bound %g", trial, obj, ref)
		}
	}
}

func TestKnapsackKnown(t *testing.T) {
	// Two layers of cost 1 and 3 in one group of budget 4, layer 0 capped at 1.
	// Ratios: items 0,1 (layer 0) −2, −1.5; items 2,3 (layer 1) −2/3, −1/3.
	p := KnapsackProblem{
		Items: []Item{
			{Score: -2, Cost: 1, Layer: 0},
			{Score: -1.5, Cost: 1, Layer: 0},
			{Score: -2, Cost: 3, Layer: 1},
			{Score: -1, Cost: 3, Layer: 1},
			{Score: 0.5, Cost: 1, Layer: 0},
		},
		GroupBudget: []float64{4},
		LayerCap:    []int{1, 2},
	}
	beta, err := SolveKnapsackLP(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1, 0, 1, 0, 0} // −4: item 0 (cap), then item 2 fills the budget
	for i := range want {
		if math.Abs(beta[i]-want[i]) > 1e-12 {
			t.Fatalf("β = %v, want %v", beta, want)
		}
	}
	sel, err := SelectKnapsack(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sel, []int{0, 2}) {
		t.Errorf("SelectKnapsack = %v, want [0 2]", sel)
	}
	// Without the cap the LP takes both cheap items and 2/3 of item 2.
	p.LayerCap = nil
	beta, err = SolveKnapsackLP(p)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(beta[0]-1) > 1e-12 || math.Abs(beta[1]-1) > 1e-12 || math.Abs(beta[2]-2.0/3) > 1e-12 || beta[3] != 0 {
		t.Errorf("uncapped β = %v, want [1 1 2/3 0 0]", beta)
	}
	sel, err = SelectGreedy(p)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sel, []int{0, 1}) {
		t.Errorf("SelectGreedy = %v, want [0 1]", sel)
	}
}

func TestKnapsackErrors(t *testing.T) {
	ok := KnapsackProblem{Items: []Item{{Score: -1, Cost: 1}}, GroupBudget: []float64{1}, LayerCap: []int{1}}
	for _, c := range []struct {
		name string
		edit func(*KnapsackProblem)
	}{
		{"negative budget", func(p *KnapsackProblem) { p.GroupBudget[0] = -1 }},
		{"NaN budget", func(p *KnapsackProblem) { p.GroupBudget[0] = math.NaN() }},
		{"infinite budget", func(p *KnapsackProblem) { p.GroupBudget[0] = math.Inf(1) }},
		{"negative cap", func(p *KnapsackProblem) { p.LayerCap[0] = -2 }},
		{"NaN score", func(p *KnapsackProblem) { p.Items[0].Score = math.NaN() }},
		{"infinite score", func(p *KnapsackProblem) { p.Items[0].Score = math.Inf(-1) }},
		{"negative cost", func(p *KnapsackProblem) { p.Items[0].Cost = -1 }},
		{"group out of range", func(p *KnapsackProblem) { p.Items[0].Group = 1 }},
		{"layer out of range", func(p *KnapsackProblem) { p.Items[0].Layer = -1 }},
	} {
		p := KnapsackProblem{
			Items:       slices.Clone(ok.Items),
			GroupBudget: slices.Clone(ok.GroupBudget),
			LayerCap:    slices.Clone(ok.LayerCap),
		}
		c.edit(&p)
		if _, err := SolveKnapsackLP(p); err == nil {
			t.Errorf("%s: SolveKnapsackLP accepted it", c.name)
		}
		if _, err := SelectGreedy(p); err == nil {
			t.Errorf("%s: SelectGreedy accepted it", c.name)
		}
		if _, err := SelectKnapsack(p, 0); err == nil {
			t.Errorf("%s: SelectKnapsack accepted it", c.name)
		}
	}
	for _, th := range []float64{-0.5, 1.5, math.NaN()} {
		if _, err := SelectKnapsack(ok, th); err == nil {
			t.Errorf("threshold %g accepted", th)
		}
	}
	// Zero budgets and caps are valid and select nothing that costs.
	p := KnapsackProblem{Items: []Item{{Score: -1, Cost: 1}, {Score: -1, Cost: 0}}, GroupBudget: []float64{0}}
	sel, err := SelectKnapsack(p, 0)
	if err != nil || !slices.Equal(sel, []int{1}) {
		t.Errorf("zero budget: %v, %v; want [1]", sel, err)
	}
	// No useful items: empty selection, all-zero β.
	p = KnapsackProblem{Items: []Item{{Score: 0, Cost: 1}, {Score: 2, Cost: 1}}}
	if beta, err := SolveKnapsackLP(p); err != nil || beta[0] != 0 || beta[1] != 0 {
		t.Errorf("no useful items: β = %v, %v", beta, err)
	}
}

func TestSpearman(t *testing.T) {
	for _, c := range []struct {
		a, b []float64
		want float64
	}{
		{[]float64{1, 2, 3, 4}, []float64{10, 20, 30, 40}, 1},
		{[]float64{1, 2, 3, 4}, []float64{-1, -8, -27, -64}, -1},
		{[]float64{1, 2, 3}, []float64{1, 3, 2}, 0.5},                            // 1 − 6·2/(3·8)
		{[]float64{1, 2, 3, 4, 5}, []float64{5, 6, 7, 8, 7}, 0.8207826816681233}, // ties: ranks 1,2,3.5,5,3.5
		{[]float64{3, 1, 2}, []float64{0.3, 0.1, 0.2}, 1},
	} {
		if got := Spearman(c.a, c.b); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Spearman(%v, %v) = %.16g, want %.16g", c.a, c.b, got, c.want)
		}
	}
	for _, c := range [][2][]float64{
		{{1}, {2}},
		{{1, 1, 1}, {1, 2, 3}},
		{{1, math.NaN()}, {1, 2}},
	} {
		if got := Spearman(c[0], c[1]); !math.IsNaN(got) {
			t.Errorf("Spearman(%v, %v) = %v, want NaN", c[0], c[1], got)
		}
	}
}
