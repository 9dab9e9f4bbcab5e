package nn

// Param is one trainable tensor, viewed as a row-major matrix of Rows×Cols.
// Rows are output units (a dense row, a conv filter, a BN channel); Cols is
// the fan-in of one unit (1 for per-channel vectors such as biases and BN).
//
// Slots hold per-element optimiser state (momentum, second moments). They
// live here, not in the optimiser, so that every piece of neuron surgery
// resizes them with the weights: new units start from zero state and
// removed units drop theirs.
type Param struct {
	Name  string
	Rows  int
	Cols  int
	Data  []float32
	Grad  []float32
	Slots [][]float32
	// NoDecay marks parameters excluded from weight decay (biases, BN).
	NoDecay bool
	// Frozen parameters receive no optimiser updates (continual learning).
	Frozen bool
}

// NewParam allocates a zeroed rows×cols parameter.
func NewParam(name string, rows, cols int) *Param {
	return &Param{Name: name, Rows: rows, Cols: cols, Data: make([]float32, rows*cols), Grad: make([]float32, rows*cols)}
}

// Len is Rows*Cols.
func (p *Param) Len() int { return p.Rows * p.Cols }

// ZeroGrad clears the gradient.
func (p *Param) ZeroGrad() { clear(p.Grad) }

// EnsureSlots makes sure n state slots of the parameter's size exist.
func (p *Param) EnsureSlots(n int) {
	for len(p.Slots) < n {
		p.Slots = append(p.Slots, make([]float32, p.Len()))
	}
}

// each applies f to Data, Grad and every slot; isData tells which is Data.
func (p *Param) each(f func(s []float32, isData bool) []float32) {
	p.Data = f(p.Data, true)
	p.Grad = f(p.Grad, false)
	for i := range p.Slots {
		p.Slots[i] = f(p.Slots[i], false)
	}
}

// AppendRows appends len(rows) units. rows[i] holds Cols values (nil: zeros).
// Gradient and optimiser state of the new rows are zero.
func (p *Param) AppendRows(rows [][]float32) {
	n := len(rows)
	p.each(func(s []float32, isData bool) []float32 {
		out := make([]float32, (p.Rows+n)*p.Cols)
		copy(out, s)
		if isData {
			for i, r := range rows {
				if r != nil {
					if len(r) != p.Cols {
						panic("nn: AppendRows row length mismatch")
					}
					copy(out[(p.Rows+i)*p.Cols:], r)
				}
			}
		}
		return out
	})
	p.Rows += n
}

// RemoveRows drops the listed rows (any order, no duplicates).
func (p *Param) RemoveRows(idx []int) {
	drop := make([]bool, p.Rows)
	for _, i := range idx {
		drop[i] = true
	}
	keep := p.Rows - len(idx)
	p.each(func(s []float32, _ bool) []float32 {
		out := make([]float32, keep*p.Cols)
		k := 0
		for r := 0; r < p.Rows; r++ {
			if !drop[r] {
				copy(out[k*p.Cols:], s[r*p.Cols:(r+1)*p.Cols])
				k++
			}
		}
		return out
	})
	p.Rows = keep
}

// AppendColGroups appends column groups of width g to every row. Input unit j
// of the consumer owns columns [j*g, (j+1)*g) — g is kh*kw for a conv, H*W
// for a dense layer after Flatten, 1 for dense after dense. New group i takes
// the data of existing group from[i] times scale[i] (from[i] < 0: zeros).
func (p *Param) AppendColGroups(g int, from []int, scale []float32) {
	n := len(from)
	oldCols := p.Cols
	newCols := oldCols + n*g
	p.each(func(s []float32, isData bool) []float32 {
		out := make([]float32, p.Rows*newCols)
		for r := 0; r < p.Rows; r++ {
			copy(out[r*newCols:], s[r*oldCols:(r+1)*oldCols])
			if !isData {
				continue
			}
			for i, f := range from {
				if f < 0 {
					continue
				}
				dst := out[r*newCols+oldCols+i*g : r*newCols+oldCols+(i+1)*g]
				src := s[r*oldCols+f*g : r*oldCols+(f+1)*g]
				for t := range dst {
					dst[t] = src[t] * scale[i]
				}
			}
		}
		return out
	})
	p.Cols = newCols
}

// ScaleColGroup multiplies input unit j's columns (width g) by s in Data.
func (p *Param) ScaleColGroup(g, j int, s float32) {
	for r := 0; r < p.Rows; r++ {
		row := p.Data[r*p.Cols+j*g : r*p.Cols+(j+1)*g]
		for t := range row {
			row[t] *= s
		}
	}
}

// RemoveColGroups drops the listed input units (groups of width g).
func (p *Param) RemoveColGroups(g int, idx []int) {
	units := p.Cols / g
	drop := make([]bool, units)
	for _, i := range idx {
		drop[i] = true
	}
	newCols := p.Cols - len(idx)*g
	p.each(func(s []float32, _ bool) []float32 {
		out := make([]float32, p.Rows*newCols)
		for r := 0; r < p.Rows; r++ {
			k := 0
			for u := 0; u < units; u++ {
				if drop[u] {
					continue
				}
				copy(out[r*newCols+k*g:], s[r*p.Cols+u*g:r*p.Cols+(u+1)*g])
				k++
			}
		}
		return out
	})
	p.Cols = newCols
}
