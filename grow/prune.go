package grow

import (
	"fmt"
	"math"
	"sort"

	"github.com/nadir-ml/nadir/nn"
)

// PruneTo removes, in every growable layer, the units with the smallest
// L1 norm of incoming weights (scaled by |BatchNorm γ| when one follows)
// until the layer has widths[k] units — the magnitude-pruning baseline.
func PruneTo(net *nn.Net, widths []int) error {
	layers := net.Growable()
	if len(widths) != len(layers) {
		return fmt.Errorf("prune: %d target widths for %d growable layers", len(widths), len(layers))
	}
	for k := len(layers) - 1; k >= 0; k-- {
		li := layers[k]
		p := net.Layers[li].(nn.Producer)
		n := p.Units()
		if widths[k] > n || widths[k] < 1 {
			return fmt.Errorf("prune: layer %d has %d units, cannot prune to %d", li, n, widths[k])
		}
		info, _ := net.Chain(li)
		var gamma []float32
		for _, j := range info.Followers {
			if bn, ok := net.Layers[j].(*nn.BatchNorm); ok {
				gamma = bn.Params()[0].Data
				break
			}
		}
		w := p.Weight()
		score := make([]float64, n)
		for u := 0; u < n; u++ {
			for _, v := range w.Data[u*w.Cols : (u+1)*w.Cols] {
				score[u] += math.Abs(float64(v))
			}
			if gamma != nil {
				score[u] *= math.Abs(float64(gamma[u]))
			}
		}
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return score[order[a]] < score[order[b]] })
		if err := net.RemoveUnits(li, order[:n-widths[k]]); err != nil {
			return err
		}
	}
	return nil
}
