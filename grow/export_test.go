package grow

import (
	"math/rand/v2"

	"github.com/nadir-ml/nadir/data"
)

// PlainSplitLosses is NewSplitLosses without the incremental path: every
// measurement runs the layers from the edited one on.
var PlainSplitLosses = func(s *SplitLosses) *SplitLosses { s.plain = true; return s }

// Incremental reports whether the last Loss updated the kept consumer
// output by the changed channels (the delta path).
func (s *SplitLosses) Incremental() bool { return s.delta }

// SetKn2row switches the delta path's tap-by-tap convolution and returns
// a function that restores it.
func SetKn2row(on bool) func() {
	old := kn2rowDelta
	kn2rowDelta = on
	return func() { kn2rowDelta = old }
}

// DeltaRows is the number of channel rows the last delta update convolved
// (the changed units' old and new parameters).
func (s *SplitLosses) DeltaRows() int {
	if s.pair == nil {
		return 0
	}
	return s.pair.rows
}

// RandomImages returns n images of the given shape with standard normal
// pixels from r, labelled i mod classes.
func RandomImages(r *rand.Rand, n int, shape []int, classes int) *data.Dataset {
	d := &data.Dataset{Name: "img", Shape: shape, Classes: classes}
	size := 1
	for _, s := range shape {
		size *= s
	}
	for i := 0; i < n; i++ {
		for j := 0; j < size; j++ {
			d.X = append(d.X, float32(r.NormFloat64()))
		}
		d.Y = append(d.Y, i%classes)
	}
	return d
}
