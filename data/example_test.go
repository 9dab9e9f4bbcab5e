package data_test

import (
	"fmt"
	"strings"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/tensor"
)

// ExampleBatcher reads a CSV table and walks it in evaluation order,
// reusing one pair of batch buffers.
func ExampleBatcher() {
	table := `height,weight,kind
1.0,10,cat
2.0,20,dog
1.5,12,cat
2.5,30,dog
1.2,11,cat
`
	d, err := data.ReadCSV(strings.NewReader(table), "pets.csv", "kind")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Len(), d.Shape, d.ClassNames)

	b := data.NewBatcher(d, 2)
	b.Epoch(nil) // dataset order; pass a *rand.Rand to shuffle
	var x *tensor.Tensor
	var y []int
	for step := range b.Steps() {
		x, y = b.Batch(step, x, y)
		fmt.Println(x.Shape, x.Data, y)
	}
	// Output:
	// 5 [2] [cat dog]
	// [2 2] [1 10 2 20] [0 1]
	// [2 2] [1.5 12 2.5 30] [0 1]
	// [1 2] [1.2 11] [0]
}

// ExampleNormalizer fits statistics on a training set and applies them,
// unchanged, to a test set.
func ExampleNormalizer() {
	train := &data.Dataset{Shape: []int{2}, X: []float32{0, 10, 2, 30}, Y: []int{0, 1}, Classes: 2}
	test := &data.Dataset{Shape: []int{2}, X: []float32{1, 20}, Y: []int{0}, Classes: 2}
	n := data.FitNormalizer(train, true)
	n.Apply(train)
	n.Apply(test)
	fmt.Println(n.Mean, n.Std)
	fmt.Println(train.X, test.X)
	// Output:
	// [1 20] [1 10]
	// [-1 -1 1 1] [0 0]
}
