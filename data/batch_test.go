package data

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nadir-ml/nadir/tensor"
)

// epochOrder returns the example ids of one epoch, read back from the batches.
func epochOrder(t *testing.T, b *Batcher, r *rand.Rand) []int {
	t.Helper()
	b.Epoch(r)
	var x *tensor.Tensor
	var y []int
	var ids []int
	for s := range b.Steps() {
		x, y = b.Batch(s, x, y)
		n := x.Shape[0]
		if len(y) != n || x.Len() != 2*n || !slices.Equal(x.Shape[1:], []int{2}) {
			t.Fatalf("step %d: shape %v, %d labels", s, x.Shape, len(y))
		}
		for k := range n {
			id := int(x.Data[2*k])
			if y[k] != id%7 || x.Data[2*k+1] != float32(-id) {
				t.Fatalf("step %d: example %d has label %d", s, id, y[k])
			}
			ids = append(ids, id)
		}
		if !slices.Equal(ids[len(ids)-n:], b.Indices(s)) {
			t.Fatalf("step %d: Indices disagree with the batch", s)
		}
	}
	return ids
}

func TestBatcher(t *testing.T) {
	d := seqDataset(23, 7)
	b := NewBatcher(d, 5)
	if b.Steps() != 5 {
		t.Fatalf("Steps = %d, want 5", b.Steps())
	}
	ident := make([]int, 23)
	for i := range ident {
		ident[i] = i
	}
	if got := epochOrder(t, b, nil); !slices.Equal(got, ident) {
		t.Fatalf("eval order %v", got)
	}
	e1 := epochOrder(t, b, rand.New(rand.NewPCG(7, 7)))
	e2 := epochOrder(t, b, rand.New(rand.NewPCG(7, 7)))
	if !slices.Equal(e1, e2) {
		t.Fatal("same seed gave different epochs")
	}
	if slices.Equal(e1, ident) {
		t.Fatal("shuffled epoch is the identity")
	}
	r := rand.New(rand.NewPCG(7, 7))
	e3 := epochOrder(t, b, r)
	e4 := epochOrder(t, b, r)
	if slices.Equal(e3, e4) {
		t.Fatal("consecutive epochs have the same order")
	}
	for _, e := range [][]int{e1, e3, e4} {
		if !slices.Equal(slices.Sorted(slices.Values(e)), ident) {
			t.Fatalf("epoch does not cover each example exactly once: %v", e)
		}
	}
}

func TestBatcherNoAllocs(t *testing.T) {
	d := seqDataset(103, 7)
	b := NewBatcher(d, 16)
	b.Epoch(rand.New(rand.NewPCG(1, 1)))
	x, y := b.Batch(0, nil, nil)
	step := 0
	allocs := testing.AllocsPerRun(50, func() {
		x, y = b.Batch(step%b.Steps(), x, y) // includes the short last batch
		step++
	})
	if allocs != 0 {
		t.Fatalf("Batch allocates %v times per call", allocs)
	}
}

func TestShiftAugment(t *testing.T) {
	// One 2-channel 3×4 image with distinct values 1..24.
	x := tensor.New(1, 2, 3, 4)
	for i := range x.Data {
		x.Data[i] = float32(i + 1)
	}
	orig := x.Clone()
	shiftPlane(x.Data[:12], 3, 4, 1, -2, 0) // down 1, left 2
	want := []float32{
		0, 0, 0, 0,
		3, 4, 0, 0,
		7, 8, 0, 0,
	}
	if !slices.Equal(x.Data[:12], want) {
		t.Fatalf("shift (1,-2) = %v, want %v", x.Data[:12], want)
	}
	copy(x.Data, orig.Data)
	shiftPlane(x.Data[:12], 3, 4, -1, 1, -1) // up 1, right 1, fill -1
	want = []float32{
		-1, 5, 6, 7,
		-1, 9, 10, 11,
		-1, -1, -1, -1,
	}
	if !slices.Equal(x.Data[:12], want) {
		t.Fatalf("shift (-1,1) = %v, want %v", x.Data[:12], want)
	}

	// Random shifts: deterministic for a seed, channels move together,
	// and the image content is a translate of the original.
	batch := tensor.New(8, 2, 5, 5)
	for i := range batch.Data {
		batch.Data[i] = float32(i%50 + 1)
	}
	a, c := batch.Clone(), batch.Clone()
	ShiftAugment(a, 2, rand.New(rand.NewPCG(3, 3)))
	ShiftAugment(c, 2, rand.New(rand.NewPCG(3, 3)))
	if !slices.Equal(a.Data, c.Data) {
		t.Fatal("same seed gave different augmentations")
	}
	if slices.Equal(a.Data, batch.Data) {
		t.Fatal("augmentation changed nothing")
	}
	for i := range 8 {
		img := a.Data[i*50 : (i+1)*50]
		first := slices.IndexFunc(img[:25], func(v float32) bool { return v != 0 })
		if first < 0 {
			t.Fatalf("image %d: channel 0 entirely blank", i)
		}
		// The first surviving pixel (v at (y,x)) pins the offset.
		v := int(img[first]) - 1
		dy, dx := first/5-v/5, first%5-v%5
		if dy < -2 || dy > 2 || dx < -2 || dx > 2 {
			t.Fatalf("image %d: offset (%d,%d) beyond 2", i, dy, dx)
		}
		ref := batch.Clone()
		for p := range 2 {
			shiftPlane(ref.Data[i*50+p*25:i*50+(p+1)*25], 5, 5, dy, dx, 0)
		}
		if !slices.Equal(img, ref.Data[i*50:(i+1)*50]) {
			t.Fatalf("image %d is not a (%d,%d) translate in both channels", i, dy, dx)
		}
	}
	r := rand.New(rand.NewPCG(3, 3))
	allocs := testing.AllocsPerRun(20, func() { ShiftAugment(a, 2, r) })
	if allocs != 0 {
		t.Fatalf("ShiftAugment allocates %v times", allocs)
	}
}

func BenchmarkBatchMNISTShape(b *testing.B) {
	d := &Dataset{Shape: []int{1, 28, 28}, X: make([]float32, 10000*784), Y: make([]int, 10000), Classes: 10}
	bt := NewBatcher(d, 128)
	bt.Epoch(rand.New(rand.NewPCG(1, 1)))
	var x *tensor.Tensor
	var y []int
	step := 0
	for b.Loop() {
		x, y = bt.Batch(step%bt.Steps(), x, y)
		step++
	}
}
