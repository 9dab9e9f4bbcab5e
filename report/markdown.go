package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
)

// row is one run in a comparison table, formatted.
type row struct {
	Name, Method, Model, Widths, Params, MACs, Accuracy string
}

func rows(runs []*Run) []row {
	out := make([]row, len(runs))
	for i, r := range runs {
		out[i] = row{
			Name:     r.Name(),
			Method:   r.Method(),
			Model:    r.model(),
			Widths:   formatWidths(r.Summary.Widths),
			Params:   thousands(int64(r.Summary.Params)),
			MACs:     thousands(r.Summary.MACs),
			Accuracy: strconv.FormatFloat(100*r.Summary.TestAccuracy, 'f', 2, 64) + "%",
		}
	}
	return out
}

// model is the run's model flag, or for a run that took its architecture
// from another run (scratch, prune), that run.
func (r *Run) model() string {
	var g struct {
		From string `json:"from"`
	}
	if json.Unmarshal(r.Config.Grow, &g) == nil && g.From != "" {
		return "final of " + filepath.Base(filepath.Clean(g.From))
	}
	return r.Config.Model
}

// Markdown writes a Markdown table comparing runs, a row each: run
// directory, method, model (the seed model of a grow run), final widths of
// the growable layers, parameters, MACs per example and test accuracy.
func Markdown(w io.Writer, runs ...*Run) error {
	if len(runs) == 0 {
		return errors.New("report: no runs")
	}
	if err := notCoexplore(runs); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("| run | method | model | final widths | params | MACs | test accuracy |\n")
	b.WriteString("|---|---|---|---|---:|---:|---:|\n")
	for _, r := range rows(runs) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n",
			mdEscape(r.Name), mdEscape(r.Method), mdEscape(r.Model), r.Widths, r.Params, r.MACs, r.Accuracy)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdEscape keeps a cell's text from ending the cell.
func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// notCoexplore refuses co-exploration runs where runs are compared by
// their final network.
func notCoexplore(runs []*Run) error {
	for _, r := range runs {
		if r.Coexplore != nil {
			return fmt.Errorf("report: %s is a co-exploration run; its table of best designs is Designs (nadir report %s writes %s)", r.Dir, r.Dir, DesignsFile)
		}
	}
	return nil
}
