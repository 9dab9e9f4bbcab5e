package report

import (
	"sort"
)

// LayerCalibration is how the second-order prediction of a run's splits
// held in one layer, over every round: Predicted and Measured are the sums
// of the splits' predicted and measured loss changes, Lowered counts the
// splits that lowered the statistics loss. Measured / Predicted near one
// says the local model behind the ranking holds there; near zero or
// negative, that the layer's splits gain less than the ranking believes
// (at the applied step, or through ReLU's surrogate second derivative).
type LayerCalibration struct {
	Layer               int // index in the network
	Splits, Lowered     int
	Predicted, Measured float64
}

// Ratio is Measured / Predicted (NaN-free: 0 when nothing was predicted).
func (c LayerCalibration) Ratio() float64 {
	if c.Predicted == 0 {
		return 0
	}
	return c.Measured / c.Predicted
}

// SplitCalibration returns the calibration of every layer that has splits
// with a prediction, by layer index. Joint edits (Firefly's), whose loss
// change is not measured one by one, and baselines, which predict
// nothing, are left out; nil when no split qualifies.
func SplitCalibration(r *Run) []LayerCalibration {
	by := map[int]*LayerCalibration{}
	for _, s := range r.Splits {
		if s.Predicted == nil || s.Joint {
			continue
		}
		c := by[s.Layer]
		if c == nil {
			c = &LayerCalibration{Layer: s.Layer}
			by[s.Layer] = c
		}
		c.Splits++
		c.Predicted += *s.Predicted
		c.Measured += s.Measured
		if s.Measured < 0 {
			c.Lowered++
		}
	}
	if len(by) == 0 {
		return nil
	}
	out := make([]LayerCalibration, 0, len(by))
	for _, c := range by {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Layer < out[j].Layer })
	return out
}
