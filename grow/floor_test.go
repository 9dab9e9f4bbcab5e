package grow_test

import (
	"reflect"
	"sort"
	"testing"

	"github.com/nadir-ml/nadir/grow"
)

// TestSelectFloor checks Limits.Floor: a layer whose gains are all smaller
// than another's still adds its floor (its best units), within the round's
// limits, under both rules.
func TestSelectFloor(t *testing.T) {
	var c []grow.Candidate
	for u, s := range []float64{-0.01, -0.03, -0.02, 0.5} { // layer 0: small gains, one positive
		c = append(c, grow.Candidate{Layer: 0, Unit: u, Score: s, Added: 1, Cost: 1})
	}
	for u, s := range []float64{-1, -3, -2, -4} { // layer 1
		c = append(c, grow.Candidate{Layer: 1, Unit: u, Score: s, Added: 1, Cost: 1})
	}
	widths := map[int]int{0: 4, 1: 4}
	sorted := func(x []int) []int { x = append([]int(nil), x...); sort.Ints(x); return x }
	for _, tc := range []struct {
		floor map[int]int
		want  []int // candidate indices
	}{
		{nil, []int{5, 6, 7}},               // the three best of layer 1
		{map[int]int{0: 2}, []int{1, 2, 7}}, // layer 0's two best, then layer 1's best
		{map[int]int{0: 4}, []int{0, 1, 2}}, // only negative scores, at most 3 units
		{map[int]int{0: 1, 1: 1}, []int{1, 5, 7}},
	} {
		lim := grow.Limits{Ratio: 3.0 / 8, Widths: widths, MaxWidth: map[int]int{}, Floor: tc.floor}
		if got := sorted(grow.SelectRatio(c, lim)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ratio, floor %v: got %v, want %v", tc.floor, got, tc.want)
		}
		got, err := grow.SelectKnapsack(c, lim, map[int]float64{0: 1, 1: 1}) // budget 3 units
		if err != nil {
			t.Fatal(err)
		}
		if got := sorted(got); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("knapsack, floor %v: got %v, want %v", tc.floor, got, tc.want)
		}
	}
}
