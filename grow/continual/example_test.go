package continual_test

import (
	"fmt"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/grow/continual"
)

func ExampleMakeTasks() {
	d := &data.Dataset{Name: "toy", Shape: []int{1}, Classes: 4, X: []float32{0, 1, 2, 3, 4, 5, 6, 7}, Y: []int{0, 1, 2, 3, 0, 1, 2, 3}}
	tasks, err := continual.MakeTasks(d, d, "split:2", 1)
	if err != nil {
		panic(err)
	}
	for _, t := range tasks {
		fmt.Println(t.Name, t.Classes, t.Train.X, t.Train.Y)
	}
	// Output:
	// classes 0-1 2 [0 1 4 5] [0 1 0 1]
	// classes 2-3 2 [2 3 6 7] [0 1 0 1]
}
