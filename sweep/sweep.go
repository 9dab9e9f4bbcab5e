package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/nadir-ml/nadir/dist"
)

// Spec is a study: the cross product of its axes. A sweep file is a Spec
// in JSON.
type Spec struct {
	Methods []string `json:"methods"`
	Seeds   []uint64 `json:"seeds"`
	// Budgets are grow --budget values ("" for none).
	Budgets []string `json:"budgets,omitempty"`
	// Data are --data values.
	Data []string `json:"data,omitempty"`
	// Args are extra flags passed to every trial.
	Args []string `json:"args,omitempty"`
	// Baselines are methods that do not grow (run by `nadir train`); the
	// budget axis does not apply to them.
	Baselines map[string]string `json:"-"`
}

// ReadSpec reads a sweep file, refusing unknown fields.
func ReadSpec(path string) (Spec, error) {
	var s Spec
	f, err := os.Open(path)
	if err != nil {
		return s, err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("%s: %v", path, err)
	}
	return s, nil
}

// Point is one cell of the grid with one seed.
type Point struct {
	Data   string `json:"data"`
	Method string `json:"method"`
	Budget string `json:"budget"`
	Seed   uint64 `json:"seed"`
}

// Check validates the axes: at least one method and seed, no duplicates.
func (s *Spec) Check() error {
	if len(s.Methods) == 0 {
		return errors.New("no methods (--method a,b)")
	}
	if len(s.Seeds) == 0 {
		return errors.New("no seeds (--seed 1,2,3)")
	}
	if len(s.Budgets) == 0 {
		s.Budgets = []string{""}
	}
	if len(s.Data) == 0 {
		s.Data = []string{"mnist"}
	}
	for name, xs := range map[string][]string{"method": s.Methods, "budget": s.Budgets, "data": s.Data} {
		seen := map[string]bool{}
		for _, x := range xs {
			if seen[x] {
				return fmt.Errorf("--%s %q listed twice", name, x)
			}
			seen[x] = true
		}
	}
	seen := map[uint64]bool{}
	for _, x := range s.Seeds {
		if seen[x] {
			return fmt.Errorf("--seed %d listed twice", x)
		}
		seen[x] = true
	}
	return nil
}

// IsBaseline reports whether method is a non-growing baseline.
func (s *Spec) IsBaseline(method string) bool {
	_, ok := s.Baselines[method]
	return ok
}

// Points expands the grid in the order data, budget, method, seed. A
// baseline gets one budget, "" (it ignores the budget axis).
func (s *Spec) Points() []Point {
	var ps []Point
	for _, d := range s.Data {
		for bi, b := range s.Budgets {
			for _, m := range s.Methods {
				budget := b
				if s.IsBaseline(m) {
					if bi > 0 {
						continue
					}
					budget = ""
				}
				for _, seed := range s.Seeds {
					ps = append(ps, Point{Data: d, Method: m, Budget: budget, Seed: seed})
				}
			}
		}
	}
	return ps
}

// Row is one method at one budget on one dataset, over its seeds.
type Row struct {
	Data         string  `json:"data"`
	Method       string  `json:"method"`
	Budget       string  `json:"budget"`
	N            int     `json:"n"`
	MeanAccuracy float64 `json:"mean_accuracy"`
	SDAccuracy   float64 `json:"sd_accuracy"`
	MeanParams   float64 `json:"mean_params"`
	SDParams     float64 `json:"sd_params"`
	MeanMACs     float64 `json:"mean_macs"`
	SDMACs       float64 `json:"sd_macs"`
}

// metrics are the fields every grow and train summary.json carries.
type metrics struct {
	TestAccuracy *float64 `json:"test_accuracy"`
	Params       float64  `json:"params"`
	MACs         float64  `json:"macs"`
}

// Aggregate turns results (parallel to points) into rows, in the order the
// cells first appear; failed trials are left out of the means (a cell with
// none done has N 0 and NaN means).
func Aggregate(points []Point, results []dist.Result) ([]Row, error) {
	if len(points) != len(results) {
		return nil, fmt.Errorf("sweep: %d points, %d results", len(points), len(results))
	}
	type key struct{ data, method, budget string }
	var order []key
	cells := map[key][][3]float64{}
	for i, p := range points {
		k := key{p.Data, p.Method, p.Budget}
		if _, ok := cells[k]; !ok {
			order = append(order, k)
			cells[k] = nil
		}
		r := results[i]
		if r.Status != dist.Done {
			continue
		}
		var m metrics
		if err := json.Unmarshal(r.Summary, &m); err != nil || m.TestAccuracy == nil {
			return nil, fmt.Errorf("sweep: trial %s: summary without test_accuracy", r.ID)
		}
		cells[k] = append(cells[k], [3]float64{*m.TestAccuracy, m.Params, m.MACs})
	}
	rows := make([]Row, 0, len(order))
	for _, k := range order {
		vs := cells[k]
		r := Row{Data: k.data, Method: k.method, Budget: k.budget, N: len(vs)}
		r.MeanAccuracy, r.SDAccuracy = meanSD(vs, 0)
		r.MeanParams, r.SDParams = meanSD(vs, 1)
		r.MeanMACs, r.SDMACs = meanSD(vs, 2)
		rows = append(rows, r)
	}
	return rows, nil
}

// meanSD is the mean and sample standard deviation (0 for one value) of
// column j.
func meanSD(vs [][3]float64, j int) (float64, float64) {
	if len(vs) == 0 {
		return math.NaN(), math.NaN()
	}
	var s float64
	for _, v := range vs {
		s += v[j]
	}
	m := s / float64(len(vs))
	if len(vs) == 1 {
		return m, 0
	}
	var ss float64
	for _, v := range vs {
		ss += (v[j] - m) * (v[j] - m)
	}
	return m, math.Sqrt(ss / float64(len(vs)-1))
}

// Markdown writes the rows as a table: test accuracy mean ± sd, mean
// parameters and MACs. The data column appears only when rows differ in it.
func Markdown(w io.Writer, rows []Row) error {
	multiData := false
	for _, r := range rows {
		multiData = multiData || r.Data != rows[0].Data
	}
	var b strings.Builder
	if multiData {
		b.WriteString("| data ")
	}
	b.WriteString("| method | budget | n | test accuracy (mean ± sd) | params | MACs |\n")
	if multiData {
		b.WriteString("|---")
	}
	b.WriteString("|---|---|---:|---:|---:|---:|\n")
	for _, r := range rows {
		if multiData {
			fmt.Fprintf(&b, "| %s ", esc(r.Data))
		}
		budget := r.Budget
		if budget == "" {
			budget = "–"
		}
		if r.N == 0 {
			fmt.Fprintf(&b, "| %s | %s | 0 | – | – | – |\n", esc(r.Method), esc(budget))
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %.4f ± %.4f | %s | %s |\n", esc(r.Method), esc(budget), r.N,
			r.MeanAccuracy, r.SDAccuracy, thousands(r.MeanParams), thousands(r.MeanMACs))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func esc(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// thousands formats a mean count with thousands separators (one decimal
// when it is not whole, as means of counts often are not).
func thousands(v float64) string {
	whole := math.Trunc(v)
	s := fmt.Sprintf("%d", int64(whole))
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && c != '-' && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac := v - whole; math.Abs(frac) >= 0.05 {
		fmt.Fprintf(&b, ".%d", int(math.Round(math.Abs(frac)*10))%10)
	}
	return b.String()
}

// Output is the machine-readable summary of a sweep (the last line of
// `nadir sweep --json`).
type Output struct {
	Trials int   `json:"trials"`
	Done   int   `json:"done"`
	Failed int   `json:"failed"`
	Rows   []Row `json:"rows"`
}

// NewOutput counts distinct trials by status.
func NewOutput(results []dist.Result, rows []Row) Output {
	o := Output{Rows: rows}
	seen := map[string]bool{}
	for _, r := range results {
		if seen[r.ID] {
			continue
		}
		seen[r.ID] = true
		o.Trials++
		if r.Status == dist.Done {
			o.Done++
		} else {
			o.Failed++
		}
	}
	return o
}

// byX sorts rows by an x value.
func byX(rows []Row, x func(Row) float64) []Row {
	out := append([]Row(nil), rows...)
	sort.SliceStable(out, func(i, j int) bool { return x(out[i]) < x(out[j]) })
	return out
}
