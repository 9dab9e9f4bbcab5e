package run_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nadir-ml/nadir/run"
)

// Candidate is a producer's own event kind: a struct with JSON tags and a
// Kind method, registered once (in the init of the file that declares it).
type Candidate struct {
	Round int     `json:"round"`
	Layer int     `json:"layer"`
	Gain  float64 `json:"gain"`
}

func (Candidate) Kind() string { return "example_candidate" }

func init() { run.Register[Candidate]() }

// A new kind of event is written and read like the built-in ones.
func ExampleRegister() {
	dir, _ := os.MkdirTemp("", "nadir-register-example")
	defer os.RemoveAll(dir)
	log, _ := run.OpenLog(filepath.Join(dir, run.LogFile), 0)
	log.Append(Candidate{Round: 1, Layer: 2, Gain: -0.5})
	log.Append(run.Epoch{Epoch: 1})
	log.Close()

	recs, _ := run.ReadLog(filepath.Join(dir, run.LogFile))
	for _, c := range run.Events[Candidate](recs) {
		fmt.Printf("round %d layer %d gain %g\n", c.Round, c.Layer, c.Gain)
	}
	b, _ := os.ReadFile(filepath.Join(dir, run.LogFile))
	fmt.Printf("%.43s\n", b)
	// Output:
	// round 1 layer 2 gain -0.5
	// {"event":"example_candidate","v":1,"time":"
}
