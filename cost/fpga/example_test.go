package fpga_test

import (
	"fmt"

	"github.com/nadir-ml/nadir/cost/fpga"
)

func ExampleTime() {
	// A 3x3 convolution, 16 → 32 channels, 28×28 output, on 8×4 tiles.
	l := fpga.Layer{B: 1, M: 32, N: 16, R: 28, C: 28, K: 3, S: 1, P: 1}
	t := fpga.Tiling{Tm: 8, Tn: 4, Tr: 14, Tc: 14, Tk: 3, Wp: 4, Ip: 8, Op: 4}
	tm, _ := fpga.Time(l, t)
	u, _ := t.Usage(16)
	fmt.Println(tm.Cycles, tm.Bottleneck)
	fmt.Printf("%d DSP, %d BRAM18K, %d port bits\n", u.DSP, u.BRAM18K, u.PortBits)
	// Output:
	// 112896 computing
	// 32 DSP, 56 BRAM18K, 256 port bits
}

func ExampleExplore() {
	layers := []fpga.Layer{
		{B: 1, M: 16, N: 1, R: 28, C: 28, K: 5, S: 1, P: 2},
		{B: 1, M: 32, N: 16, R: 14, C: 14, K: 3, S: 2, P: 1},
		{B: 1, M: 10, N: 32 * 14 * 14, R: 1, C: 1, K: 1, S: 1},
	}
	pool, _ := fpga.ParsePool("zedboard,ultra96")
	d, err := fpga.Explore(layers, pool, 16)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range d.Stages {
		fmt.Printf("layers %d-%d on %s: %v\n", s.First, s.Last-1, s.Board.Part, s.Tiling)
	}
	fmt.Printf("%.0f images/s\n", d.Throughput)
	// Output:
	// layers 0-0 on XCZU3EG: <Tm=16 Tn=1 Tr=28 Tc=28 Tk=5 | W=8 I=8 O=16>
	// layers 1-2 on XC7Z020: <Tm=10 Tn=16 Tr=14 Tc=14 Tk=3 | W=8 I=4 O=4>
	// 5102 images/s
}
