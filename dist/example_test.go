package dist_test

import (
	"context"
	"fmt"
	"os"

	"github.com/nadir-ml/nadir/dist"
)

// A Pool runs trials on goroutines; results are kept by content-derived ID,
// so a trial listed twice runs once and a second Execute runs nothing.
func ExamplePool() {
	dir, _ := os.MkdirTemp("", "trials")
	defer os.RemoveAll(dir)
	trials := []dist.Trial{
		{Command: "noop", Seed: 1},
		{Command: "noop", Seed: 2},
		{Command: "noop", Seed: 1}, // the same trial again
		{Command: "fail", Args: []string{"no such data"}, Seed: 3},
	}
	ran := 0
	pool := &dist.Pool{Workers: 2}
	res, err := pool.Execute(context.Background(), dir, trials, func(dist.Result) { ran++ })
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res {
		if r.Status == dist.Done {
			fmt.Println(r.Trial.Command, r.Trial.Seed, r.Status)
		} else {
			fmt.Println(r.Trial.Command, r.Trial.Seed, r.Status+":", r.Error)
		}
	}
	fmt.Println("ran:", ran)
	ran = 0
	pool.Execute(context.Background(), dir, trials[:3], func(dist.Result) { ran++ })
	fmt.Println("ran again:", ran)
	// Output:
	// noop 1 done
	// noop 2 done
	// noop 1 done
	// fail 3 failed: no such data
	// ran: 3
	// ran again: 0
}

// The ID is a hash of the trial's canonical JSON: equal trials share it,
// and any difference in command, arguments or seed changes it.
func ExampleTrial_ID() {
	a := dist.Trial{Command: "grow", Args: []string{"--method", "fast"}, Seed: 1}
	b := dist.Trial{Command: "grow", Args: []string{"--method", "fast"}, Seed: 1}
	c := dist.Trial{Command: "grow", Args: []string{"--method", "fast"}, Seed: 2}
	fmt.Println(string(a.JSON()))
	fmt.Println(a.ID() == b.ID(), a.ID() == c.ID(), len(a.ID()))
	fmt.Println(dist.Trial{Command: "noop"}.ID() == dist.Trial{Command: "noop", Args: []string{}}.ID())
	// Output:
	// {"command":"grow","args":["--method","fast"],"seed":1}
	// true false 32
	// true
}
