package tensor

import "fmt"

// Tensor is a dense row-major float32 array. Images are laid out NCHW.
// Data may be longer than the product of Shape when a buffer is reused;
// only the first Len() elements are meaningful.
type Tensor struct {
	Shape []int
	Data  []float32
}

// New returns a zeroed tensor of the given shape.
func New(shape ...int) *Tensor {
	n := Numel(shape)
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, n)}
}

// FromData wraps data (not copied) with the given shape. It panics when the
// lengths disagree, which is a programmer error.
func FromData(data []float32, shape ...int) *Tensor {
	if Numel(shape) != len(data) {
		panic(fmt.Sprintf("tensor: shape %v needs %d elements, have %d", shape, Numel(shape), len(data)))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}
}

// Numel is the product of the dimensions.
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Len is the number of elements the shape describes.
func (t *Tensor) Len() int { return Numel(t.Shape) }

// Reshape returns t resized to shape, reusing its storage when large enough.
// A nil t allocates. Contents are not preserved in any meaningful order;
// callers overwrite the result. This is the buffer-reuse idiom that keeps
// training steps allocation-free.
func Reshape(t *Tensor, shape ...int) *Tensor {
	n := Numel(shape)
	if t == nil {
		return New(shape...)
	}
	if cap(t.Data) < n {
		t.Data = make([]float32, n)
	}
	t.Data = t.Data[:n]
	if len(t.Shape) != len(shape) {
		t.Shape = make([]int, len(shape))
	}
	copy(t.Shape, shape)
	return t
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{Shape: append([]int(nil), t.Shape...), Data: make([]float32, t.Len())}
	copy(c.Data, t.Data[:t.Len()])
	return c
}

// Zero sets every element to 0.
func (t *Tensor) Zero() {
	clear(t.Data[:t.Len()])
}
