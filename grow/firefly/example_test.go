package firefly_test

import (
	"fmt"

	"github.com/nadir-ml/nadir/grow/firefly"
)

func ExampleNew() {
	m, err := firefly.New("firefly", firefly.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Name(), m.DefaultSelect(), firefly.DefaultCandidates(16), firefly.DefaultCandidates(4))
	_, err = firefly.New("firefly", firefly.Options{Candidates: -1})
	fmt.Println(err)
	// Output:
	// firefly ratio 4 2
	// candidates -1: must be >= 0
}
