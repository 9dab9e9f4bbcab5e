package coexplore_test

import (
	"fmt"

	"github.com/nadir-ml/nadir/coexplore"
	"github.com/nadir-ml/nadir/cost/fpga"
)

func ExampleArch() {
	a := coexplore.Arch{Layers: []coexplore.ConvLayer{{Kernel: 5, Filters: 8, Stride: 2}, {Kernel: 3, Filters: 16, Stride: 1}}}
	fmt.Println(a, a.Model())
	pool, _ := fpga.ParsePool("zedboard,ultra96")
	d, _ := fpga.Explore(a.FPGALayers([]int{1, 28, 28}), pool, 16)
	fmt.Printf("%d stage(s), %.0f images/s\n", len(d.Stages), d.Throughput)
	// Output:
	// [[5,8,2],[3,16,1]] cnn:c8k5s2,c16
	// 2 stage(s), 56689 images/s
}
