package data

import (
	"fmt"
	"math/rand/v2"
)

// Dataset holds N labelled examples of a fixed per-example shape.
//
// X stores example i at X[i*Dim() : (i+1)*Dim()], row-major within Shape.
// Labels are class indices in [0, Classes).
type Dataset struct {
	Name    string
	Shape   []int     // per-example shape, e.g. [1 28 28] or [D]
	X       []float32 // Len()*Dim() values
	Y       []int     // Len() labels in [0, Classes)
	Classes int

	// ClassNames optionally names each class (len Classes); nil when the
	// source gives no names. CSV string labels keep their text here.
	ClassNames []string
}

// Len returns the number of examples.
func (d *Dataset) Len() int { return len(d.Y) }

// Dim returns the number of values per example, the product of Shape.
func (d *Dataset) Dim() int {
	n := 1
	for _, s := range d.Shape {
		n *= s
	}
	return n
}

// Example returns the values of example i, aliasing d.X.
func (d *Dataset) Example(i int) []float32 {
	dim := d.Dim()
	return d.X[i*dim : (i+1)*dim : (i+1)*dim]
}

// Validate reports whether the fields are mutually consistent: X has
// Len()*Dim() values, every dimension is positive and every label lies in
// [0, Classes).
func (d *Dataset) Validate() error {
	for _, s := range d.Shape {
		if s <= 0 {
			return fmt.Errorf("data: dataset %q: non-positive dimension in shape %v", d.Name, d.Shape)
		}
	}
	if want := d.Len() * d.Dim(); len(d.X) != want {
		return fmt.Errorf("data: dataset %q: X has %d values, want %d (%d examples of shape %v)", d.Name, len(d.X), want, d.Len(), d.Shape)
	}
	if d.ClassNames != nil && len(d.ClassNames) != d.Classes {
		return fmt.Errorf("data: dataset %q: %d class names for %d classes", d.Name, len(d.ClassNames), d.Classes)
	}
	for i, y := range d.Y {
		if y < 0 || y >= d.Classes {
			return fmt.Errorf("data: dataset %q: label %d of example %d outside [0,%d)", d.Name, y, i, d.Classes)
		}
	}
	return nil
}

// Subset returns a new dataset holding copies of the examples idx, in that
// order. Indices may repeat. It panics if an index is out of range.
func (d *Dataset) Subset(idx []int) *Dataset {
	dim := d.Dim()
	s := d.emptyLike(d.Name, len(idx))
	for k, i := range idx {
		if i < 0 || i >= d.Len() {
			panic(fmt.Sprintf("data: Subset index %d out of range [0,%d)", i, d.Len()))
		}
		copy(s.X[k*dim:(k+1)*dim], d.X[i*dim:(i+1)*dim])
		s.Y[k] = d.Y[i]
	}
	return s
}

// Head returns the first n examples. When n <= 0 or n >= Len() it returns d
// itself. Otherwise the result shares X and Y with d (capped so that appends
// cannot clobber d), which keeps limiting a large training set free.
func (d *Dataset) Head(n int) *Dataset {
	if n <= 0 || n >= d.Len() {
		return d
	}
	dim := d.Dim()
	h := *d
	h.X = d.X[: n*dim : n*dim]
	h.Y = d.Y[:n:n]
	return &h
}

// Split partitions d at random into a training part and a validation part
// holding round(valFrac*Len()) examples. Both are copies. The permutation is
// drawn from r, so the same generator state gives the same split; with a
// nil r the last examples form the validation part. It panics unless
// 0 <= valFrac <= 1.
func (d *Dataset) Split(valFrac float64, r *rand.Rand) (train, val *Dataset) {
	if !(valFrac >= 0 && valFrac <= 1) {
		panic(fmt.Sprintf("data: Split fraction %v outside [0,1]", valFrac))
	}
	n := d.Len()
	nVal := int(valFrac*float64(n) + 0.5)
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	if r != nil {
		r.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	}
	train = d.Subset(perm[:n-nVal])
	val = d.Subset(perm[n-nVal:])
	train.Name = d.Name + "/train"
	val.Name = d.Name + "/val"
	return train, val
}

// emptyLike returns a zeroed dataset of n examples with d's shape and classes.
func (d *Dataset) emptyLike(name string, n int) *Dataset {
	return &Dataset{
		Name:       name,
		Shape:      append([]int(nil), d.Shape...),
		X:          make([]float32, n*d.Dim()),
		Y:          make([]int, n),
		Classes:    d.Classes,
		ClassNames: d.ClassNames,
	}
}
