package perf_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/nadir-ml/nadir/internal/perf"
)

// A workload is built once and run many times; this is what `nadir bench`
// and the nn benchmarks time.
func ExampleNewLeNet() {
	s, err := perf.NewLeNet(8, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		fmt.Println(err)
		return
	}
	loss := s.Run() // zero grads, forward, loss, backward, SGD step
	fmt.Printf("%d parameters, input %v, initial loss near ln 10: %t\n",
		s.Net.NumParams(), s.X.Shape, loss > 2 && loss < 2.7)
	// Output:
	// 184586 parameters, input [8 1 28 28], initial loss near ln 10: true
}
