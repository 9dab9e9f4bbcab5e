package sweep_test

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/nadir-ml/nadir/dist"
	"github.com/nadir-ml/nadir/sweep"
)

// A study of two methods, two seeds and two budgets plus a baseline that
// ignores the budget axis, summarised from (here, made-up) summaries.
func Example() {
	s := sweep.Spec{
		Methods:   []string{"fast", "uniform-scratch"},
		Seeds:     []uint64{1, 2},
		Budgets:   []string{"macs=5000", "macs=9000"},
		Baselines: map[string]string{"uniform-scratch": "train"},
	}
	if err := s.Check(); err != nil {
		fmt.Println(err)
		return
	}
	points := s.Points()
	var results []dist.Result
	for i, p := range points {
		acc := 0.80 + 0.01*float64(i%2)
		macs := 4000 + 1000*float64(i)
		sum, _ := json.Marshal(map[string]any{"test_accuracy": acc, "params": 100 + i, "macs": macs})
		results = append(results, dist.Result{ID: fmt.Sprint(i), Status: dist.Done, Summary: sum})
		fmt.Println(p.Method, p.Budget, p.Seed)
	}
	rows, _ := sweep.Aggregate(points, results)
	sweep.Markdown(os.Stdout, rows)
	// Output:
	// fast macs=5000 1
	// fast macs=5000 2
	// uniform-scratch  1
	// uniform-scratch  2
	// fast macs=9000 1
	// fast macs=9000 2
	// | method | budget | n | test accuracy (mean ± sd) | params | MACs |
	// |---|---|---:|---:|---:|---:|
	// | fast | macs=5000 | 2 | 0.8050 ± 0.0071 | 100.5 | 4,500 |
	// | uniform-scratch | – | 2 | 0.8050 ± 0.0071 | 102.5 | 6,500 |
	// | fast | macs=9000 | 2 | 0.8050 ± 0.0071 | 104.5 | 8,500 |
}
