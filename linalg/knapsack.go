package linalg

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize/convex/lp"
)

// Item is one candidate edit (a neuron split) for budgeted selection.
type Item struct {
	// Score is the predicted loss change per unit step²: negative is
	// useful (λ_min for S2D, the signed gain G* for S3D). Items with
	// Score ≥ 0 are never selected.
	Score float64
	// Cost is what the item spends of its group's budget (FLOPs, energy,
	// parameters, or 1 to count neurons); ≥ 0.
	Cost float64
	// Group indexes KnapsackProblem.GroupBudget; Layer indexes LayerCap.
	// Each is ignored when the corresponding slice is nil.
	Group, Layer int
}

// KnapsackProblem is the budgeted selection of METHODS.md §2.2:
//
//	minimise   Σ_i β_i Score_i
//	subject to Σ_{i ∈ group g} β_i Cost_i ≤ GroupBudget[g]   for every g
//	           Σ_{i ∈ layer l} β_i        ≤ LayerCap[l]      for every l
//	           β_i ∈ {0, 1}  (relaxed to 0 ≤ β_i ≤ 1 by SolveKnapsackLP)
//
// A nil GroupBudget means no budget rows, a nil LayerCap no caps.
type KnapsackProblem struct {
	Items       []Item
	GroupBudget []float64
	LayerCap    []int
}

// Validate reports the first problem with p: an item whose score or cost is
// not finite, a negative cost, a group or layer index out of range, or a
// negative or non-finite budget or cap (a negative budget makes even the
// empty selection infeasible).
func (p KnapsackProblem) Validate() error {
	for g, b := range p.GroupBudget {
		if !(b >= 0) || math.IsInf(b, 0) {
			return fmt.Errorf("linalg: knapsack budget of group %d is %g, need finite ≥ 0", g, b)
		}
	}
	for l, c := range p.LayerCap {
		if c < 0 {
			return fmt.Errorf("linalg: knapsack cap of layer %d is %d, need ≥ 0", l, c)
		}
	}
	for i, it := range p.Items {
		switch {
		case math.IsNaN(it.Score) || math.IsInf(it.Score, 0):
			return fmt.Errorf("linalg: knapsack item %d has score %g", i, it.Score)
		case !(it.Cost >= 0) || math.IsInf(it.Cost, 0):
			return fmt.Errorf("linalg: knapsack item %d has cost %g, need finite ≥ 0", i, it.Cost)
		case p.GroupBudget != nil && (it.Group < 0 || it.Group >= len(p.GroupBudget)):
			return fmt.Errorf("linalg: knapsack item %d in group %d, have %d groups", i, it.Group, len(p.GroupBudget))
		case p.LayerCap != nil && (it.Layer < 0 || it.Layer >= len(p.LayerCap)):
			return fmt.Errorf("linalg: knapsack item %d in layer %d, have %d layers", i, it.Layer, len(p.LayerCap))
		}
	}
	return nil
}

// feasTol is the relative slack allowed when testing whether an item still
// fits a budget, so that costs summing to the budget up to rounding fit.
const feasTol = 1e-12

// SolveKnapsackLP solves the LP relaxation of p (0 ≤ β ≤ 1) and returns β,
// one entry per item (0 for items with Score ≥ 0).
//
// The problem is reduced first, without changing the optimum: items with
// Score ≥ 0 and items with no room (zero budget or cap) are dropped;
// redundant rows (a cap or budget that the remaining items cannot reach)
// are removed; in a layer whose items share one group and one cost only the
// LayerCap best scores can be used; and the rows split into independent
// blocks. A block with a single row is a fractional knapsack, solved exactly
// by the greedy order Score/Cost; larger blocks go to gonum's simplex
// (lp.Simplex on the standard form with one slack per row and one per upper
// bound, started from the all-slack basis). That simplex refactorises its
// basis at every pivot, so its cost grows like the cube of the block's item
// count (about 0.2 s for 200 items): use SelectGreedy for thousands.
//
// It returns an error if p is invalid (see Validate) or the simplex fails.
func SolveKnapsackLP(p KnapsackProblem) ([]float64, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	beta := make([]float64, len(p.Items))
	for _, blk := range reduce(p) {
		var err error
		switch len(blk.rows) {
		case 0:
			for _, i := range blk.items {
				beta[i] = 1
			}
		case 1:
			fractionalKnapsack(p, blk, beta)
		default:
			err = simplexBlock(p, blk, beta)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := checkFeasible(p, beta); err != nil {
		return nil, err
	}
	return beta, nil
}

// row identifies a constraint: a group budget or a layer cap.
type row struct {
	layer bool
	index int
}

// block is a set of items coupled only among themselves by rows.
type block struct {
	items []int
	rows  []row
}

// reduce applies the reductions of SolveKnapsackLP and returns the blocks.
func reduce(p KnapsackProblem) []block {
	var cand []int
	for i, it := range p.Items {
		if it.Score >= 0 {
			continue
		}
		if p.GroupBudget != nil && it.Cost > 0 && p.GroupBudget[it.Group] == 0 {
			continue
		}
		if p.LayerCap != nil && p.LayerCap[it.Layer] == 0 {
			continue
		}
		cand = append(cand, i)
	}
	byScore := func(a, b int) int {
		if c := cmpFloat(p.Items[a].Score, p.Items[b].Score); c != 0 {
			return c
		}
		return a - b
	}

	// Layer caps: keep the cap best items of a layer whose items share a
	// group and a cost (exchanging β between them changes no other row), and
	// drop caps the layer's items cannot exceed.
	capped := map[int]bool{}
	if p.LayerCap != nil {
		layers := map[int][]int{}
		for _, i := range cand {
			layers[p.Items[i].Layer] = append(layers[p.Items[i].Layer], i)
		}
		keep := map[int]bool{}
		for l, items := range layers {
			c := p.LayerCap[l]
			if len(items) > c && uniformLayer(p, items) {
				slices.SortFunc(items, byScore)
				items = items[:c]
			}
			for _, i := range items {
				keep[i] = true
			}
			capped[l] = len(items) > c
		}
		cand = slices.DeleteFunc(cand, func(i int) bool { return !keep[i] })
	}
	// Budgets the remaining items cannot exhaust are not constraints.
	budgeted := map[int]bool{}
	if p.GroupBudget != nil {
		total := map[int]float64{}
		for _, i := range cand {
			total[p.Items[i].Group] += p.Items[i].Cost
		}
		for g, t := range total {
			budgeted[g] = t > p.GroupBudget[g]
		}
	}

	// Union-find over items through the rows they share.
	parent := make(map[int]int, len(cand))
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	firstInRow := map[row]int{}
	for _, i := range cand {
		parent[i] = i
	}
	for _, i := range cand {
		for _, r := range itemRows(p, i, budgeted, capped) {
			if j, ok := firstInRow[r]; ok {
				parent[find(i)] = find(j)
			} else {
				firstInRow[r] = i
			}
		}
	}
	blocks := map[int]*block{}
	var order []int
	for _, i := range cand {
		root := find(i)
		b, ok := blocks[root]
		if !ok {
			b = &block{}
			blocks[root] = b
			order = append(order, root)
		}
		b.items = append(b.items, i)
	}
	for r, i := range firstInRow {
		b := blocks[find(i)]
		b.rows = append(b.rows, r)
	}
	out := make([]block, 0, len(order))
	for _, root := range order {
		b := blocks[root]
		slices.SortFunc(b.rows, func(a, c row) int {
			if a.layer != c.layer {
				if a.layer {
					return 1
				}
				return -1
			}
			return a.index - c.index
		})
		out = append(out, *b)
	}
	return out
}

// itemRows returns the binding rows item i appears in.
func itemRows(p KnapsackProblem, i int, budgeted, capped map[int]bool) []row {
	var rs []row
	it := p.Items[i]
	if p.GroupBudget != nil && budgeted[it.Group] && it.Cost > 0 {
		rs = append(rs, row{false, it.Group})
	}
	if p.LayerCap != nil && capped[it.Layer] {
		rs = append(rs, row{true, it.Layer})
	}
	return rs
}

// uniformLayer reports whether all items share one group and one cost, so
// that only their scores distinguish them.
func uniformLayer(p KnapsackProblem, items []int) bool {
	first := p.Items[items[0]]
	for _, i := range items[1:] {
		it := p.Items[i]
		if it.Cost != first.Cost || (p.GroupBudget != nil && it.Group != first.Group) {
			return false
		}
	}
	return true
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// greedyOrder sorts item indices by Score/Cost ascending (most negative
// gain per unit cost first; zero-cost items first of all), ties by Score,
// then index.
func greedyOrder(p KnapsackProblem, idx []int) {
	ratio := func(i int) float64 {
		it := p.Items[i]
		if it.Cost == 0 {
			return math.Inf(-1)
		}
		return it.Score / it.Cost
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := cmpFloat(ratio(a), ratio(b)); c != 0 {
			return c
		}
		if c := cmpFloat(p.Items[a].Score, p.Items[b].Score); c != 0 {
			return c
		}
		return a - b
	})
}

// fractionalKnapsack solves a block with one row exactly: take items in
// greedy order while they fit and a fraction of the first that does not.
func fractionalKnapsack(p KnapsackProblem, b block, beta []float64) {
	r := b.rows[0]
	items := slices.Clone(b.items)
	var room float64
	weight := func(i int) float64 { return 1 }
	if r.layer {
		// Unit weights: the best scores win whatever their cost.
		room = float64(p.LayerCap[r.index])
		slices.SortFunc(items, func(a, c int) int {
			if d := cmpFloat(p.Items[a].Score, p.Items[c].Score); d != 0 {
				return d
			}
			return a - c
		})
	} else {
		room = p.GroupBudget[r.index]
		weight = func(i int) float64 { return p.Items[i].Cost }
		greedyOrder(p, items)
	}
	for _, i := range items {
		w := weight(i)
		switch {
		case w <= room:
			beta[i] = 1
			room -= w
		case room > 0:
			beta[i] = room / w
			room = 0
		}
	}
}

// simplexBlock solves one block with gonum's simplex. Columns: β for each
// item, then one slack per row, then one slack per upper bound β_i ≤ 1 that
// no row already implies. Rows are scaled (budgets to 1) and scores by
// their largest magnitude so the simplex tolerances are relative.
func simplexBlock(p KnapsackProblem, b block, beta []float64) error {
	m := len(b.items)
	rowOf := map[row]int{}
	for k, r := range b.rows {
		rowOf[r] = k
	}
	var bounded []int
	for k, i := range b.items {
		it := p.Items[i]
		implied := false
		for _, r := range b.rows {
			if r.layer && r.index == it.Layer && p.LayerCap[r.index] <= 1 {
				implied = true
			}
			if !r.layer && r.index == it.Group && it.Cost > 0 && it.Cost >= p.GroupBudget[r.index] {
				implied = true
			}
		}
		if !implied {
			bounded = append(bounded, k)
		}
	}
	nr := len(b.rows) + len(bounded)
	nc := m + nr
	a := mat.NewDense(nr, nc, nil)
	rhs := make([]float64, nr)
	c := make([]float64, nc)
	scale := 0.0
	for _, i := range b.items {
		scale = max(scale, -p.Items[i].Score)
	}
	for k, r := range b.rows {
		if r.layer {
			rhs[k] = float64(p.LayerCap[r.index])
		} else {
			rhs[k] = 1
		}
	}
	for k, i := range b.items {
		it := p.Items[i]
		c[k] = it.Score / scale
		if j, ok := rowOf[row{false, it.Group}]; ok && p.GroupBudget != nil {
			a.Set(j, k, it.Cost/p.GroupBudget[it.Group])
		}
		if j, ok := rowOf[row{true, it.Layer}]; ok && p.LayerCap != nil {
			a.Set(j, k, 1)
		}
	}
	for j, k := range bounded {
		a.Set(len(b.rows)+j, k, 1)
		rhs[len(b.rows)+j] = 1
	}
	basic := make([]int, nr)
	for j := range basic {
		a.Set(j, m+j, 1)
		basic[j] = m + j
	}
	_, x, err := lp.Simplex(c, a, rhs, 1e-12, basic)
	if err != nil {
		return fmt.Errorf("linalg: knapsack LP over %d items and %d rows: %w", m, len(b.rows), err)
	}
	for k, i := range b.items {
		beta[i] = min(max(x[k], 0), 1)
	}
	return nil
}

// checkFeasible verifies β against every row and bound, guarding against a
// numerically failed solve.
func checkFeasible(p KnapsackProblem, beta []float64) error {
	gUse := make([]float64, len(p.GroupBudget))
	lUse := make([]float64, len(p.LayerCap))
	for i, b := range beta {
		if !(b >= 0 && b <= 1) {
			return fmt.Errorf("linalg: knapsack LP gave β[%d] = %g outside [0, 1]", i, b)
		}
		if p.GroupBudget != nil {
			gUse[p.Items[i].Group] += b * p.Items[i].Cost
		}
		if p.LayerCap != nil {
			lUse[p.Items[i].Layer] += b
		}
	}
	for g, u := range gUse {
		if u > p.GroupBudget[g]*(1+1e-9)+1e-12 {
			return fmt.Errorf("linalg: knapsack LP overspends group %d: %g > %g", g, u, p.GroupBudget[g])
		}
	}
	for l, u := range lUse {
		if u > float64(p.LayerCap[l])+1e-9 {
			return fmt.Errorf("linalg: knapsack LP exceeds cap of layer %d: %g > %d", l, u, p.LayerCap[l])
		}
	}
	return nil
}

// usage tracks what a selection spends.
type usage struct {
	p     KnapsackProblem
	group []float64
	layer []int
}

func newUsage(p KnapsackProblem) *usage {
	return &usage{p: p, group: make([]float64, len(p.GroupBudget)), layer: make([]int, len(p.LayerCap))}
}

// fits reports whether item i can be added without breaking a row.
func (u *usage) fits(i int) bool {
	it := u.p.Items[i]
	if u.p.GroupBudget != nil {
		b := u.p.GroupBudget[it.Group]
		if u.group[it.Group]+it.Cost > b*(1+feasTol) {
			return false
		}
	}
	if u.p.LayerCap != nil && u.layer[it.Layer]+1 > u.p.LayerCap[it.Layer] {
		return false
	}
	return true
}

func (u *usage) add(i int) {
	it := u.p.Items[i]
	if u.p.GroupBudget != nil {
		u.group[it.Group] += it.Cost
	}
	if u.p.LayerCap != nil {
		u.layer[it.Layer]++
	}
}

// SelectGreedy picks items in order of Score/Cost, most negative first
// (zero-cost useful items first of all), adding each that still fits its
// group budget and layer cap, and returns the chosen indices in ascending
// order. Items with Score ≥ 0 are never chosen. With a single budget row and
// no caps the items it takes before the first misfit are exactly the
// β_i = 1 items of the LP optimum; it then keeps scanning, so it never
// selects less. It returns an error if p is invalid.
func SelectGreedy(p KnapsackProblem) ([]int, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return topUp(p, newUsage(p), nil, nil), nil
}

// topUp adds to chosen, in greedy order, every useful item not yet taken
// that fits, and returns chosen sorted.
func topUp(p KnapsackProblem, u *usage, chosen []int, taken []bool) []int {
	var idx []int
	for i, it := range p.Items {
		if it.Score < 0 && (taken == nil || !taken[i]) {
			idx = append(idx, i)
		}
	}
	greedyOrder(p, idx)
	for _, i := range idx {
		if u.fits(i) {
			u.add(i)
			chosen = append(chosen, i)
		}
	}
	slices.Sort(chosen)
	return chosen
}

// SelectKnapsack chooses items by the LP relaxation (SolveKnapsackLP), as
// the energy-aware splitting code does: it keeps the items with β_i ≥
// threshold, then spends what budget is left greedily (SelectGreedy's order)
// on the other useful items, and returns the chosen indices in ascending
// order. A threshold of 0 means 0.99 (the reference's CIFAR setting; it uses
// 0.9 on ImageNet). Kept items are added in order of decreasing β and only
// while they fit, so the selection never breaks a budget or cap even when
// the threshold admits fractional β. It returns an error if p is invalid,
// threshold is outside [0, 1], or the LP fails.
func SelectKnapsack(p KnapsackProblem, threshold float64) ([]int, error) {
	if threshold == 0 {
		threshold = 0.99
	}
	if !(threshold > 0 && threshold <= 1) {
		return nil, fmt.Errorf("linalg: knapsack threshold %g, need (0, 1]", threshold)
	}
	beta, err := SolveKnapsackLP(p)
	if err != nil {
		return nil, err
	}
	var keep []int
	for i, b := range beta {
		if b >= threshold {
			keep = append(keep, i)
		}
	}
	greedyOrder(p, keep)
	slices.SortStableFunc(keep, func(a, b int) int { return cmpFloat(beta[b], beta[a]) })
	u := newUsage(p)
	taken := make([]bool, len(p.Items))
	var chosen []int
	for _, i := range keep {
		if u.fits(i) {
			u.add(i)
			taken[i] = true
			chosen = append(chosen, i)
		}
	}
	return topUp(p, u, chosen, taken), nil
}
