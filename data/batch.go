package data

import (
	"fmt"
	"math/rand/v2"

	"github.com/nadir-ml/nadir/tensor"
)

// Batcher cuts a dataset into mini-batches in a per-epoch order.
//
// Batch fills caller-owned buffers, so after the first call of an epoch
// loop no memory is allocated. The order of an epoch depends only on the
// generator passed to Epoch, not on earlier epochs, so a resumed run that
// restores its generator reproduces the order exactly.
type Batcher struct {
	d     *Dataset
	batch int
	dim   int
	perm  []int
	shape []int // [n, d.Shape...], rewritten per batch
}

// NewBatcher returns a batcher over d with batches of size batch, in
// dataset order until Epoch is called. It panics if batch < 1.
func NewBatcher(d *Dataset, batch int) *Batcher {
	if batch < 1 {
		panic(fmt.Sprintf("data: batch size %d < 1", batch))
	}
	b := &Batcher{
		d:     d,
		batch: batch,
		dim:   d.Dim(),
		perm:  make([]int, d.Len()),
		shape: append([]int{0}, d.Shape...),
	}
	b.Epoch(nil)
	return b
}

// Epoch starts a new epoch. With r == nil examples come in dataset order
// (for evaluation); otherwise in a uniformly random order drawn from r by
// a Fisher–Yates shuffle of the identity.
func (b *Batcher) Epoch(r *rand.Rand) {
	for i := range b.perm {
		b.perm[i] = i
	}
	if r == nil {
		return
	}
	for i := len(b.perm) - 1; i > 0; i-- {
		j := r.IntN(i + 1)
		b.perm[i], b.perm[j] = b.perm[j], b.perm[i]
	}
}

// Steps returns the number of batches in an epoch, ceil(Len/batch); the
// last batch may be short.
func (b *Batcher) Steps() int { return (len(b.perm) + b.batch - 1) / b.batch }

// BatchSize returns the nominal batch size.
func (b *Batcher) BatchSize() int { return b.batch }

// Dataset returns the dataset being batched.
func (b *Batcher) Dataset() *Dataset { return b.d }

// Indices returns the dataset indices of batch step in the current epoch.
// The slice aliases the batcher's order; do not modify it.
func (b *Batcher) Indices(step int) []int {
	lo, hi := b.bounds(step)
	return b.perm[lo:hi:hi]
}

// Batch copies batch step of the current epoch into x (reshaped to
// [n, Shape...] with tensor.Reshape, reusing its storage) and y (resliced,
// reusing its capacity), and returns both. Pass the returned values back in
// on the next call; nil buffers are allocated. It panics if step is not in
// [0, Steps()).
func (b *Batcher) Batch(step int, x *tensor.Tensor, y []int) (*tensor.Tensor, []int) {
	lo, hi := b.bounds(step)
	n := hi - lo
	b.shape[0] = n
	x = tensor.Reshape(x, b.shape...)
	if cap(y) < n {
		y = make([]int, n, b.batch)
	}
	y = y[:n]
	dim := b.dim
	for k, i := range b.perm[lo:hi] {
		copy(x.Data[k*dim:(k+1)*dim], b.d.X[i*dim:(i+1)*dim])
		y[k] = b.d.Y[i]
	}
	return x, y
}

func (b *Batcher) bounds(step int) (lo, hi int) {
	if step < 0 || step >= b.Steps() {
		panic(fmt.Sprintf("data: batch step %d outside [0,%d)", step, b.Steps()))
	}
	lo = step * b.batch
	return lo, min(lo+b.batch, len(b.perm))
}
