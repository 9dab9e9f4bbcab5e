package main

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"

	"github.com/nadir-ml/nadir/nn"
	nrun "github.com/nadir-ml/nadir/run"
	"github.com/nadir-ml/nadir/train"
)

// clones measures whether a grown run's split off-springs stay
// near-duplicates: for every split it pairs the split unit with the copy
// the split appended (the engine appends copies in the order the split
// events are logged) and reports the cosine similarity of their incoming
// weights in the round's checkpoint (after the training that followed the
// split) and in the final network, next to the mean |cos| of pairs of
// units of the same layer from different seed units (what unrelated
// filters look like).
func clones(dirs []string) error {
	fmt.Println("| run | pairs | cos after the next round | cos at the end | share > 0.9 at the end | unrelated pairs, mean \\|cos\\| |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, dir := range dirs {
		recs, err := nrun.ReadLog(filepath.Join(dir, nrun.LogFile))
		if err != nil {
			return err
		}
		rounds := nrun.Events[nrun.Round](recs)
		splits := nrun.Events[nrun.Split](recs)
		final, err := train.LoadCheckpoint(filepath.Join(dir, "ckpt", "last.ckpt"))
		if err != nil {
			return err
		}
		fnet, _, err := final.Restore()
		if err != nil {
			return err
		}
		growable := fnet.Growable()
		type pair struct{ layer, a, b, round int }
		var pairs []pair
		// Widths before round r's growth are those of round r−1's record.
		width := map[int]map[int]int{}
		for _, rr := range rounds {
			m := map[int]int{}
			for k, li := range growable {
				if k < len(rr.Widths) {
					m[li] = rr.Widths[k]
				}
			}
			width[rr.Round] = m
		}
		added := map[[2]int]int{}
		for _, s := range splits {
			if s.Added != 1 {
				continue
			}
			w := width[s.Round-1][s.Layer]
			k := added[[2]int{s.Round, s.Layer}]
			added[[2]int{s.Round, s.Layer}]++
			pairs = append(pairs, pair{s.Layer, s.Neuron, w + k, s.Round})
		}
		var after, end []float64
		byRound := map[int][]pair{}
		for _, p := range pairs {
			byRound[p.round] = append(byRound[p.round], p)
			end = append(end, cosRows(fnet, p.layer, p.a, p.b))
		}
		var rs []int
		for r := range byRound {
			rs = append(rs, r)
		}
		sort.Ints(rs)
		for _, r := range rs {
			c, err := train.LoadCheckpoint(filepath.Join(dir, "ckpt", fmt.Sprintf("round-%d.ckpt", r)))
			if err != nil {
				continue // the last round's checkpoint is last.ckpt
			}
			net, _, err := c.Restore()
			if err != nil {
				return err
			}
			for _, p := range byRound[r] {
				after = append(after, cosRows(net, p.layer, p.a, p.b))
			}
		}
		// Unrelated: the seed units of each layer against each other.
		var unrel []float64
		for k, li := range growable {
			n := rounds[0].Widths[k]
			for a := 0; a < n; a++ {
				for b := a + 1; b < n; b++ {
					unrel = append(unrel, math.Abs(cosRows(fnet, li, a, b)))
				}
			}
		}
		high := 0
		for _, c := range end {
			if c > 0.9 {
				high++
			}
		}
		fmt.Printf("| %s | %d | %.3f | %.3f | %.2f | %.3f |\n", dir, len(pairs), mean(after), mean(end),
			float64(high)/math.Max(1, float64(len(end))), mean(unrel))
	}
	return nil
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// cosRows is the cosine similarity of units a and b's incoming weights.
func cosRows(net *nn.Net, li, a, b int) float64 {
	w := net.Layers[li].(nn.Producer).Weight()
	var ab, aa, bb float64
	for j := 0; j < w.Cols; j++ {
		x, y := float64(w.Data[a*w.Cols+j]), float64(w.Data[b*w.Cols+j])
		ab += x * y
		aa += x * x
		bb += y * y
	}
	return ab / math.Sqrt(aa*bb)
}
