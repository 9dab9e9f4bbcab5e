package grow

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
