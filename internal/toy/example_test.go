package toy_test

import (
	"fmt"
	"log"
	"math"

	"github.com/nadir-ml/nadir/grow/split"
	"github.com/nadir-ml/nadir/internal/toy"
)

// One RBF neuron fitting two bumps sits between them; its splitting
// matrix has a negative eigenvalue, and the S2D split along ±v_min lowers
// the loss by about (ε²/2)·λ_min.
func Example() {
	d := &toy.Data{In: 1}
	for k := 0; k <= 60; k++ {
		x := -3 + 0.1*float64(k)
		d.X = append(d.X, x)
		d.Y = append(d.Y, math.Exp(-2*(x-1)*(x-1))+math.Exp(-2*(x+1)*(x+1)))
	}
	net := &toy.Net{In: 1, Act: toy.RBF{}, Units: []toy.Unit{{Theta: []float64{0.8, 0}, A: 1.2}}}
	spec, err := net.Spectra(d)
	if err != nil {
		log.Fatal(err)
	}
	s := split.S2D(spec[0])
	const eps = 0.05
	before := net.Loss(d)
	if err := net.Split(0, s, eps); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("λ_min = %.4f, λ_max = %.4f\n", spec[0].LambdaMin, spec[0].LambdaMax)
	fmt.Printf("predicted change %.3e, measured %.3e, width %d\n", eps*eps/2*s.Gain, net.Loss(d)-before, net.Width())
	// Output:
	// λ_min = -0.1289, λ_max = 0.1510
	// predicted change -1.612e-04, measured -1.608e-04, width 2
}
