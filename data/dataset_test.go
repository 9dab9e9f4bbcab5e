package data

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// seqDataset returns n examples of shape [2]; example i is (i, -i) with
// label i%classes, so an example's identity can be read from its values.
func seqDataset(n, classes int) *Dataset {
	d := &Dataset{Name: "seq", Shape: []int{2}, Classes: classes}
	for i := range n {
		d.X = append(d.X, float32(i), float32(-i))
		d.Y = append(d.Y, i%classes)
	}
	return d
}

func TestSubsetHead(t *testing.T) {
	d := seqDataset(5, 3)
	s := d.Subset([]int{4, 0, 4})
	if !slices.Equal(s.X, []float32{4, -4, 0, 0, 4, -4}) || !slices.Equal(s.Y, []int{1, 0, 1}) {
		t.Fatalf("Subset: X %v Y %v", s.X, s.Y)
	}
	s.X[0] = 99
	if d.X[8] != 4 {
		t.Fatal("Subset shares storage with its source")
	}
	h := d.Head(2)
	if h.Len() != 2 || !slices.Equal(h.X, []float32{0, 0, 1, -1}) || h.Classes != 3 {
		t.Fatalf("Head(2): len %d X %v", h.Len(), h.X)
	}
	if d.Head(0) != d || d.Head(9) != d || d.Len() != 5 {
		t.Fatal("Head(0) and Head(n>Len) must return the whole dataset")
	}
	bad := *d
	bad.Y = []int{0, 1, 2, 3, 0}
	if bad.Validate() == nil {
		t.Fatal("Validate accepted a label equal to Classes")
	}
	bad = *d
	bad.X = bad.X[:9]
	if bad.Validate() == nil {
		t.Fatal("Validate accepted a short X")
	}
}

func TestSplit(t *testing.T) {
	d := seqDataset(100, 10)
	tr1, va1 := d.Split(0.25, rand.New(rand.NewPCG(1, 2)))
	tr2, va2 := d.Split(0.25, rand.New(rand.NewPCG(1, 2)))
	if tr1.Len() != 75 || va1.Len() != 25 {
		t.Fatalf("sizes %d, %d", tr1.Len(), va1.Len())
	}
	if !slices.Equal(tr1.X, tr2.X) || !slices.Equal(va1.Y, va2.Y) {
		t.Fatal("same seed gave different splits")
	}
	_, va3 := d.Split(0.25, rand.New(rand.NewPCG(3, 4)))
	if slices.Equal(va1.X, va3.X) {
		t.Fatal("different seeds gave the same split")
	}
	// Every example lands in exactly one part, with its label.
	seen := make([]int, 100)
	for _, p := range []*Dataset{tr1, va1} {
		for i := range p.Len() {
			id := int(p.X[2*i])
			if p.Y[i] != id%10 || p.X[2*i+1] != -p.X[2*i] {
				t.Fatalf("example %d corrupted", id)
			}
			seen[id]++
		}
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("example %d appears %d times", id, c)
		}
	}
	// Without a generator the tail is the validation part.
	_, tail := d.Split(0.1, nil)
	if tail.X[0] != 90 || tail.Len() != 10 {
		t.Fatalf("nil generator: validation starts at %v, len %d", tail.X[0], tail.Len())
	}
}

func TestNormalizer(t *testing.T) {
	d := &Dataset{Shape: []int{3}, Classes: 1, Y: make([]int, 4), X: []float32{
		1, 10, 5,
		3, 20, 5,
		5, 30, 5,
		7, 40, 5,
	}}
	per := FitNormalizer(d, true)
	sd := float32(math.Sqrt(5))
	if !slices.Equal(per.Mean, []float32{4, 25, 5}) || math.Abs(float64(per.Std[0]-sd)) > 1e-6 || per.Std[2] != 1 {
		t.Fatalf("per-feature fit: mean %v std %v", per.Mean, per.Std)
	}
	glob := FitNormalizer(d, false)
	if len(glob.Mean) != 1 || math.Abs(float64(glob.Mean[0]-34.0/3)) > 1e-5 {
		t.Fatalf("global fit: mean %v", glob.Mean)
	}
	c := d.Subset([]int{0, 1, 2, 3})
	per.Apply(c)
	after := FitNormalizer(c, true)
	for j := range 2 {
		if math.Abs(float64(after.Mean[j])) > 1e-6 || math.Abs(float64(after.Std[j]-1)) > 1e-6 {
			t.Fatalf("feature %d after Apply: mean %v std %v", j, after.Mean[j], after.Std[j])
		}
	}
	if c.X[2] != 0 {
		t.Fatalf("constant feature became %v, want 0", c.X[2])
	}
	if got := per.Value(7, 0); got != c.X[9] {
		t.Fatalf("Value(7,0) = %v, want %v", got, c.X[9])
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Apply with mismatched dimension did not panic")
		}
	}()
	per.Apply(seqDataset(2, 1))
}
