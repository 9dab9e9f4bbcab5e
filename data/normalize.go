package data

import (
	"fmt"
	"math"
)

// Normalizer standardises examples to zero mean and unit variance using
// statistics fitted on one dataset, usually the training set, and applied
// unchanged to the others.
//
// Mean and Std have length 1 for global normalisation (one scalar over
// every value, the usual choice for images) or length Dim for per-feature
// normalisation (the usual choice for tabular data).
type Normalizer struct {
	Mean []float32
	Std  []float32
}

// FitNormalizer computes the mean and standard deviation of d, over all
// values or per feature. Statistics accumulate in float64. A feature with
// zero variance (a constant border pixel, say) gets Std 1, so Apply only
// centres it rather than dividing by zero.
func FitNormalizer(d *Dataset, perFeature bool) *Normalizer {
	dim := d.Dim()
	k := 1
	if perFeature {
		k = dim
	}
	sum := make([]float64, k)
	sq := make([]float64, k)
	for i := 0; i < d.Len(); i++ {
		row := d.X[i*dim : (i+1)*dim]
		if perFeature {
			for j, v := range row {
				sum[j] += float64(v)
				sq[j] += float64(v) * float64(v)
			}
			continue
		}
		var s, q float64
		for _, v := range row {
			s += float64(v)
			q += float64(v) * float64(v)
		}
		sum[0] += s
		sq[0] += q
	}
	count := float64(d.Len())
	if !perFeature {
		count *= float64(dim)
	}
	n := &Normalizer{Mean: make([]float32, k), Std: make([]float32, k)}
	for j := range k {
		n.Std[j] = 1
		if count == 0 {
			continue
		}
		m := sum[j] / count
		v := sq[j]/count - m*m
		n.Mean[j] = float32(m)
		if sd := math.Sqrt(math.Max(v, 0)); sd > 1e-12*math.Max(1, math.Abs(m)) {
			n.Std[j] = float32(sd)
		}
	}
	return n
}

// Apply standardises d in place: x ← (x − Mean) / Std. It panics when the
// normalizer is per-feature and d has a different Dim, which means it was
// fitted on incompatible data.
func (n *Normalizer) Apply(d *Dataset) {
	n.ApplyValues(d.X, d.Dim())
}

// ApplyValues standardises a flat array of examples of dim values each in
// place, for data that is not held in a Dataset (a single input, a batch).
// It does not allocate.
func (n *Normalizer) ApplyValues(x []float32, dim int) {
	switch len(n.Mean) {
	case 1:
		m, inv := n.Mean[0], 1/n.Std[0]
		for i, v := range x {
			x[i] = (v - m) * inv
		}
	case dim:
		if dim == 0 || len(x)%dim != 0 {
			panic(fmt.Sprintf("data: Normalizer: %d values is not a whole number of %d-value examples", len(x), dim))
		}
		for off := 0; off < len(x); off += dim {
			row := x[off : off+dim]
			for j, v := range row {
				row[j] = (v - n.Mean[j]) / n.Std[j]
			}
		}
	default:
		panic(fmt.Sprintf("data: Normalizer with %d features applied to examples of %d values", len(n.Mean), dim))
	}
}

// Value returns the normalised value of raw v in feature j (j is ignored by
// a global normalizer). ShiftAugmentFill uses Value(0, 0) to pad shifted
// images with the normalised background.
func (n *Normalizer) Value(v float32, j int) float32 {
	if len(n.Mean) == 1 {
		j = 0
	}
	return (v - n.Mean[j]) / n.Std[j]
}
