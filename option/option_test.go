package option_test

import (
	"errors"
	"fmt"

	"github.com/nadir-ml/nadir/option"
)

type Solver string

var Solvers = option.Choice[Solver]{"lanczos", "dense", "rayleigh"}

// One list gives the parser, the error and the help text.
func ExampleChoice() {
	s, err := Solvers.Parse("solver", "dense")
	fmt.Println(s, err)
	_, err = Solvers.Parse("solver", "magic")
	fmt.Println(err)
	var oe *option.Error
	fmt.Println(errors.As(err, &oe), oe.Field)
	fmt.Println(Solvers.Help())
	// Output:
	// dense <nil>
	// solver "magic": unknown (want lanczos, dense or rayleigh)
	// true solver
	// lanczos | dense | rayleigh
}
