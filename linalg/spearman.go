package linalg

import (
	"fmt"
	"math"
	"slices"
)

// Spearman returns Spearman's rank correlation of a and b: the Pearson
// correlation of their ranks, with tied values given their average rank.
// It measures how well one eigenvalue estimate (e.g. Rayleigh's) orders the
// neurons like another (the exact one), which is what selection depends on.
// It returns NaN if there are fewer than two pairs, if either input is
// constant, or if any value is NaN. It panics if the lengths differ.
func Spearman(a, b []float64) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("linalg: Spearman of lengths %d and %d", len(a), len(b)))
	}
	if len(a) < 2 {
		return math.NaN()
	}
	for i := range a {
		if math.IsNaN(a[i]) || math.IsNaN(b[i]) {
			return math.NaN()
		}
	}
	ra, rb := ranks(a), ranks(b)
	n := float64(len(a))
	mean := (n + 1) / 2
	var sab, saa, sbb float64
	for i := range ra {
		da, db := ra[i]-mean, rb[i]-mean
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	if saa == 0 || sbb == 0 {
		return math.NaN()
	}
	return sab / math.Sqrt(saa*sbb)
}

// ranks returns the 1-based ranks of x, ties sharing their average rank.
func ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int { return cmpFloat(x[i], x[j]) })
	r := make([]float64, len(x))
	for lo := 0; lo < len(idx); {
		hi := lo + 1
		for hi < len(idx) && x[idx[hi]] == x[idx[lo]] {
			hi++
		}
		avg := float64(lo+hi+1) / 2 // mean of ranks lo+1 … hi
		for _, i := range idx[lo:hi] {
			r[i] = avg
		}
		lo = hi
	}
	return r
}
