package grow

// PlainSplitLosses is NewSplitLosses without the incremental path: every
// measurement runs the layers from the edited one on.
var PlainSplitLosses = func(s *SplitLosses) *SplitLosses { s.plain = true; return s }

// Incremental reports whether the last Loss updated the kept consumer
// output by the changed channels (the delta path).
func (s *SplitLosses) Incremental() bool { return s.delta }
