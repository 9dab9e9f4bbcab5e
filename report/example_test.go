package report_test

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/nadir-ml/nadir/report"
	"github.com/nadir-ml/nadir/run"
)

// Two runs compared in closing notes: a grown network and the same
// architecture trained from scratch (which names the grown run as its
// source of architecture). Runs are normally read with Load.
func ExampleMarkdown() {
	grown := &report.Run{
		Dir:    "runs/fast",
		Config: run.Config{Command: "grow", Model: "mlp:16"},
		Summary: report.Summary{Command: "grow", Method: "fast", Widths: []int{33},
			Params: 26245, MACs: 26202, TestAccuracy: 0.9633},
	}
	scratch := &report.Run{
		Dir:    "runs/scratch",
		Config: run.Config{Command: "grow", Model: "mlp:16", Grow: json.RawMessage(`{"method":"scratch","from":"runs/fast"}`)},
		Summary: report.Summary{Command: "grow", Method: "scratch", Widths: []int{33},
			Params: 26245, MACs: 26202, TestAccuracy: 0.9674},
	}
	if err := report.Markdown(os.Stdout, grown, scratch); err != nil {
		fmt.Println(err)
	}
	// Output:
	// | run | method | model | final widths | params | MACs | test accuracy |
	// |---|---|---|---|---:|---:|---:|
	// | fast | fast | mlp:16 | [33] | 26,245 | 26,202 | 96.33% |
	// | scratch | scratch | final of fast | [33] | 26,245 | 26,202 | 96.74% |
}

// A figure is written as PNG; its caption goes next to it in a report.
func ExampleWidths() {
	r := &report.Run{
		Dir: "runs/fast",
		Summary: report.Summary{Command: "grow", Method: "fast", Rounds: []report.Round{
			{Round: 0, Widths: []int{16, 12}},
			{Round: 1, Widths: []int{22, 14}},
			{Round: 2, Widths: []int{32, 14}},
		}},
	}
	f, err := report.Widths(r)
	if err != nil {
		fmt.Println(err)
		return
	}
	png, err := f.PNG()
	fmt.Println(f.Name, f.Width, f.Height, len(png) > 0, err)
	fmt.Println(f.Caption)

	// A run with no rounds has nothing to plot.
	_, err = report.Widths(&report.Run{Dir: "runs/empty"})
	fmt.Println(err)
	// Output:
	// widths.png 720 450 true <nil>
	// Units of each growable layer after each round of fast (round 0: the seed network).
	// report: run runs/empty: no rounds: report: no data to plot
}

// SplitCalibration sums each layer's predicted and measured split gains:
// here layer 0's splits gained 0.83 of what the ranking predicted and
// layer 3's half. A baseline's split, which predicts nothing, is left out.
func ExampleSplitCalibration() {
	p := func(v float64) *float64 { return &v }
	r := &report.Run{Splits: []report.Split{
		{Layer: 0, Scheme: "s2d", Predicted: p(-0.02), Measured: -0.03},
		{Layer: 0, Scheme: "s2d", Predicted: p(-0.01), Measured: 0.005},
		{Layer: 3, Scheme: "s2d", Predicted: p(-0.04), Measured: -0.02},
		{Layer: 3, Scheme: "random-split", Measured: -0.001},
	}}
	for _, c := range report.SplitCalibration(r) {
		fmt.Printf("layer %d: %d splits, %d lowered the loss, measured/predicted %.2f\n", c.Layer, c.Splits, c.Lowered, c.Ratio())
	}
	// Output:
	// layer 0: 2 splits, 1 lowered the loss, measured/predicted 0.83
	// layer 3: 1 splits, 1 lowered the loss, measured/predicted 0.50
}
