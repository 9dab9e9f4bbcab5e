package grow

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/nadir-ml/nadir/cost"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
)

// SparseBN is the training half of network slimming (Liu et al. 2017): it
// wraps an optimiser and, while Active reports true, adds the subgradient
// λ·sign(γ) of the penalty λ·Σ|γ| over every BatchNorm scale of Net to
// γ's gradient before each step, which drives the scales of unneeded
// channels towards zero. It saves as the optimiser it wraps.
type SparseBN struct {
	optim.Optimizer
	Net    *nn.Net
	Lambda float64
	// Active gates the penalty (nil: always on); slimming turns it off
	// for the fine-tuning after the prune.
	Active func() bool
}

// Step adds the L1 subgradient to the BatchNorm scales, then steps.
func (s *SparseBN) Step(params []*nn.Param, lr float64) {
	if s.Lambda > 0 && (s.Active == nil || s.Active()) {
		l := float32(s.Lambda)
		for _, layer := range s.Net.Layers {
			bn, ok := layer.(*nn.BatchNorm)
			if !ok {
				continue
			}
			g := bn.Params()[0]
			for i, v := range g.Data {
				switch {
				case v > 0:
					g.Grad[i] += l
				case v < 0:
					g.Grad[i] -= l
				}
			}
		}
	}
	s.Optimizer.Step(params, lr)
}

// MarshalJSON saves the wrapped optimiser's state, so a checkpoint
// restores it by name and the penalty is re-attached from the config.
func (s *SparseBN) MarshalJSON() ([]byte, error) { return json.Marshal(s.Optimizer) }

// ownBN returns the BatchNorm that normalises producer li's units (the
// first one between it and its consumer), or nil.
func ownBN(net *nn.Net, li int) *nn.BatchNorm {
	info, err := net.Chain(li)
	if err != nil {
		return nil
	}
	for _, j := range info.Followers {
		if bn, ok := net.Layers[j].(*nn.BatchNorm); ok {
			return bn
		}
	}
	return nil
}

// SlimTo is the pruning half of network slimming: it removes the channels
// with the smallest |γ| over all growable layers that have a BatchNorm (a
// global ranking, as in the paper), one at a time, until the network's
// cost under m is at most target. Every layer keeps at least one unit;
// layers without BatchNorm are not pruned. It returns the units removed.
func SlimTo(net *nn.Net, m cost.Model, target float64) (int, error) {
	type ch struct {
		layer, id int
		mag       float64
	}
	var chans []ch
	alive := map[int][]int{} // layer → original ids of its units, in order
	for _, li := range net.Growable() {
		bn := ownBN(net, li)
		if bn == nil {
			continue
		}
		g := bn.Params()[0].Data
		ids := make([]int, len(g))
		for u, v := range g {
			ids[u] = u
			chans = append(chans, ch{li, u, math.Abs(float64(v))})
		}
		alive[li] = ids
	}
	if len(chans) == 0 {
		return 0, fmt.Errorf("network slimming needs BatchNorm after the growable layers; this network has none")
	}
	sort.SliceStable(chans, func(a, b int) bool { return chans[a].mag < chans[b].mag })
	removed := 0
	for _, c := range chans {
		total, err := m.Total(net)
		if err != nil {
			return removed, err
		}
		if total <= target {
			return removed, nil
		}
		ids := alive[c.layer]
		if len(ids) == 1 {
			continue
		}
		pos := sort.SearchInts(ids, c.id)
		if err := net.RemoveUnits(c.layer, []int{pos}); err != nil {
			return removed, err
		}
		alive[c.layer] = append(ids[:pos], ids[pos+1:]...)
		removed++
	}
	total, err := m.Total(net)
	if err != nil {
		return removed, err
	}
	if total > target {
		return removed, fmt.Errorf("network slimming: one channel per layer still costs %.6g %s, above the target %.6g", total, m.Name(), target)
	}
	return removed, nil
}
