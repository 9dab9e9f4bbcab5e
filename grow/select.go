package grow

import (
	"fmt"
	"sort"

	"github.com/nadir-ml/nadir/linalg"
)

// Selection limits for one round.
type Limits struct {
	// Ratio bounds the units added this round to Ratio × (current units in
	// growable layers), at least one.
	Ratio float64
	// AllowPositive lets the ratio rule take candidates with Score ≥ 0 (the
	// reference code does; the paper does not).
	AllowPositive bool
	// MaxWidth caps each layer's units (0: no cap).
	MaxWidth map[int]int
	Widths   map[int]int
	// Remaining is the final budget left, in the budget's cost units, and
	// BudgetCost the cost of one unit of each layer in those units (nil
	// when no final budget is set).
	Remaining  float64
	BudgetCost map[int]float64
	// RoundCost, when positive (Config.GrowAuto), replaces Ratio: the
	// round may add up to this cost in the budget's units (BudgetCost).
	RoundCost float64
	// LineageCap bounds the candidates taken per lineage in one round (0:
	// no bound); Lineage[layer][unit] names each unit's lineage (the seed
	// unit it descends from by splitting). Without it S2D tends to split
	// both off-springs of last round's split again, so one lineage doubles
	// every round.
	LineageCap int
	Lineage    map[int][]int
	// Floor, when set, is how many units each layer adds first: its own
	// best candidates (most negative Score, Score < 0 unless unscored),
	// within the round's limits, before the rule chooses among the rest.
	// It keeps a layer whose splitting gains are small next to others' (a
	// first conv layer with 9 inputs) from never growing.
	Floor map[int]int
}

// picks is a selection in progress: the chosen candidates and what they
// add and spend.
type picks struct {
	out   []int
	added map[int]int    // units per layer
	spent float64        // in the budget's units
	units int            // units in all
	taken map[[2]int]int // picks per lineage
	in    map[int]bool   // chosen candidate indices
}

func newPicks() *picks {
	return &picks{added: map[int]int{}, taken: map[[2]int]int{}, in: map[int]bool{}}
}

// try takes candidate i of cands if it fits l's limits and its lineage has
// room, and reports whether it did.
func (p *picks) try(l Limits, cands []Candidate, i int) bool {
	c := cands[i]
	if !l.fits(c, p.added, p.spent) || l.lineageFull(c, p.taken) {
		return false
	}
	l.take(c, p.taken)
	p.out = append(p.out, i)
	p.in[i] = true
	p.units += c.Added
	p.added[c.Layer] += c.Added
	if l.BudgetCost != nil {
		p.spent += l.BudgetCost[c.Layer] * float64(c.Added)
	}
	return true
}

// floorPass takes each layer's Floor best candidates, visiting them in
// order (most negative Score first).
func (l Limits) floorPass(cands []Candidate, order []int) *picks {
	p := newPicks()
	if len(l.Floor) == 0 {
		return p
	}
	for _, i := range order {
		c := cands[i]
		if p.added[c.Layer]+c.Added > l.Floor[c.Layer] || (!c.Unscored && c.Score >= 0) {
			continue
		}
		p.try(l, cands, i)
	}
	return p
}

// byScore returns the candidates' indices, most negative Score first.
func byScore(cands []Candidate) []int {
	order := make([]int, len(cands))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return cands[order[a]].Score < cands[order[b]].Score })
	return order
}

// byScorePerCost returns the candidates' indices, most negative Score per
// unit of Cost first; unscored candidates, whose Score is a priority in
// [0, 1), come after the scored ones, lowest priority first. A candidate
// without a positive Cost sorts as if it cost 1.
func byScorePerCost(cands []Candidate) []int {
	order := make([]int, len(cands))
	for i := range order {
		order[i] = i
	}
	key := func(c Candidate) float64 {
		if c.Cost > 0 {
			return c.Score / c.Cost
		}
		return c.Score
	}
	sort.SliceStable(order, func(a, b int) bool {
		ca, cb := cands[order[a]], cands[order[b]]
		if ca.Unscored != cb.Unscored {
			return !ca.Unscored
		}
		if ca.Unscored {
			return ca.Score < cb.Score
		}
		return key(ca) < key(cb)
	})
	return order
}

// lineageFull reports whether c's lineage already has LineageCap picks,
// counted in taken.
func (l Limits) lineageFull(c Candidate, taken map[[2]int]int) bool {
	if l.LineageCap <= 0 {
		return false
	}
	lin := l.Lineage[c.Layer]
	if c.Unit >= len(lin) {
		return false
	}
	return taken[[2]int{c.Layer, lin[c.Unit]}] >= l.LineageCap
}

func (l Limits) take(c Candidate, taken map[[2]int]int) {
	if lin := l.Lineage[c.Layer]; l.LineageCap > 0 && c.Unit < len(lin) {
		taken[[2]int{c.Layer, lin[c.Unit]}]++
	}
}

func (l Limits) unitBudget(total int) int {
	return max(1, int(l.Ratio*float64(total)))
}

func (l Limits) fits(c Candidate, added map[int]int, spent float64) bool {
	if mw := l.MaxWidth[c.Layer]; mw > 0 && l.Widths[c.Layer]+added[c.Layer]+c.Added > mw {
		return false
	}
	if l.BudgetCost != nil && spent+l.BudgetCost[c.Layer]*float64(c.Added) > l.Remaining {
		return false
	}
	if l.RoundCost > 0 && spent+l.BudgetCost[c.Layer]*float64(c.Added) > l.RoundCost {
		return false
	}
	return true
}

// SelectRatio is the S2D rule: the most negative scores first, up to the
// ratio's number of added units (or, with RoundCost, up to that cost),
// only Score < 0 unless AllowPositive.
func SelectRatio(cands []Candidate, l Limits) []int {
	total := 0
	for _, w := range l.Widths {
		total += w
	}
	budget := l.unitBudget(total)
	if l.RoundCost > 0 {
		budget = 1 << 30 // the round's cost bounds it (fits)
	}
	order := byScore(cands)
	p := l.floorPass(cands, order)
	for _, i := range order {
		c := cands[i]
		if !c.Unscored && !l.AllowPositive && c.Score >= 0 {
			break
		}
		if p.in[i] || p.units+c.Added > budget {
			continue
		}
		p.try(l, cands, i)
	}
	return p.out
}

// SelectKnapsack is the energy-aware rule (METHODS.md §2.2): the LP
// relaxation of min Σ β_i Score_i subject to Σ β_i Cost_i ≤ Ratio ×
// Σ_ℓ units_ℓ cost_ℓ and per-layer width caps, keeping β ≥ 0.99, then
// topped up greedily; the final budget is enforced on the result.
//
// With RoundCost the round's size is set in the budget's units
// (BudgetCost) while each candidate is priced by its Cost, the selection's
// cost model: the candidates are taken in order of Score per Cost, each
// while the round's cost in the budget's units has room for it. That is
// the LP relaxation's solution for a single cost row, with the row's
// bound found by the round's target. Pricing by the budget's units
// instead would make the selection's cost model (e.g. the reference's
// energy proxy √MACs) a no-op whenever a budget sizes the rounds.
func SelectKnapsack(cands []Candidate, l Limits, unitCost map[int]float64) ([]int, error) {
	p := l.floorPass(cands, byScore(cands))
	if l.RoundCost > 0 {
		for _, i := range byScorePerCost(cands) {
			c := cands[i]
			if (c.Score >= 0 && !c.Unscored) || p.in[i] {
				continue
			}
			p.try(l, cands, i)
		}
		return p.out, nil
	}
	var items []linalg.Item
	var idx []int
	layerOf := map[int]int{}
	var caps []int
	for i, c := range cands {
		if (c.Score >= 0 && !c.Unscored) || p.in[i] {
			continue
		}
		li, ok := layerOf[c.Layer]
		if !ok {
			li = len(caps)
			layerOf[c.Layer] = li
			cp := 1 << 30
			if mw := l.MaxWidth[c.Layer]; mw > 0 {
				cp = max(0, mw-l.Widths[c.Layer]-p.added[c.Layer])
			}
			caps = append(caps, cp)
		}
		score := c.Score
		if c.Unscored {
			// A baseline's Score is a priority in [0, 1), not a predicted
			// change: shift it below zero so that the LP takes such
			// candidates (lowest priority first, as SelectRatio does).
			score -= 1
		}
		items = append(items, linalg.Item{Score: score, Cost: c.Cost, Group: 0, Layer: li})
		idx = append(idx, i)
	}
	if len(items) == 0 {
		return p.out, nil
	}
	var b float64
	for layer, w := range l.Widths {
		b += l.Ratio * float64(w) * unitCost[layer]
	}
	for _, i := range p.out {
		b -= cands[i].Cost
	}
	b = max(b, 0)
	chosen, err := linalg.SelectKnapsack(linalg.KnapsackProblem{Items: items, GroupBudget: []float64{b}, LayerCap: caps}, 0.99)
	if err != nil {
		return nil, fmt.Errorf("knapsack selection: %w", err)
	}
	for _, k := range chosen {
		p.try(l, cands, idx[k])
	}
	return p.out, nil
}
