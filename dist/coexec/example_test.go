package coexec_test

import (
	"fmt"

	"github.com/nadir-ml/nadir/coexplore"
	"github.com/nadir-ml/nadir/dist/coexec"
)

func ExampleToDist() {
	c := coexplore.NewTrial(coexplore.Trial{Model: "cnn:c8", Act: "relu", Data: "mnist", MaxTrain: 600, ValFrac: 0.25, Epochs: 1})
	d := coexec.ToDist(c)
	back, _ := coexec.FromDist(d)
	fmt.Println(d.Command, len(d.Args), back.ID == c.ID, back.Model)
	// Output:
	// coexplore-child 1 true cnn:c8
}
