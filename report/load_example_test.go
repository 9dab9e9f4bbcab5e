package report_test

import (
	"fmt"
	"os"

	"github.com/nadir-ml/nadir/report"
	"github.com/nadir-ml/nadir/run"
)

// Read a run directory: report.Load gives its config, summary and events
// typed; run.Read gives the same log as records, and run.Events picks one
// kind out of them.
func ExampleLoad() {
	dir := "../testdata/runs/grow" // a `nadir grow` run kept as a golden test
	r, err := report.Load(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Method(), r.Config.Model, "on", r.Config.Data)
	for _, rd := range r.Summary.Rounds {
		fmt.Printf("round %d: widths %v, %d params, test accuracy %.4f\n", rd.Round, rd.Widths, rd.Params, rd.TestAccuracy)
	}
	for _, s := range r.Splits {
		fmt.Printf("split layer %d neuron %d (λ_min %.3f): loss change predicted %.2e, measured %.2e\n",
			s.Layer, s.Neuron, s.LambdaMin, *s.Predicted, s.Measured)
	}

	rr, _ := run.Read(dir)
	fmt.Println(len(rr.Records), "events,", len(run.Events[run.Eigen](rr.Records)), "of them eigen")
	if _, err := os.Stat(dir + "/ckpt/last.ckpt"); err == nil {
		fmt.Println("resumable")
	}
	// Output:
	// fast mlp:4 on mnist
	// round 0: widths [4], 3190 params, test accuracy 0.1789
	// round 1: widths [5], 3985 params, test accuracy 0.2217
	// split layer 1 neuron 3 (λ_min -4.814): loss change predicted -2.41e-04, measured -3.56e-04
	// 10 events, 4 of them eigen
	// resumable
}
