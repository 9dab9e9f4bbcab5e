package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nadir-ml/nadir/report"
)

func init() {
	register("report", "write a run's HTML report and plots, or a Markdown table comparing runs", cmdReport)
}

func cmdReport(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	compare := fs.String("compare", "", "comma-separated run directories to compare with DIR (accuracy vs MACs, comparison table)")
	table := fs.String("table", "", "comma-separated run directories: print a Markdown table comparing them and write nothing")
	asJSON := fs.Bool("json", false, `print {"html": path, "plots": [...], "designs": path (co-exploration runs)} last`)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *table != "" {
		if len(pos) > 0 || *compare != "" {
			return fmt.Errorf("--table takes the run directories itself; got also %s", strings.Join(append(pos, *compare), " "))
		}
		runs, err := loadRuns(splitList(*table), "--table")
		if err != nil {
			return err
		}
		return report.Markdown(os.Stdout, runs...)
	}
	if len(pos) != 1 {
		return fmt.Errorf("want one run directory (nadir report DIR [--compare DIR2,...] [--json]); got %d", len(pos))
	}
	dirs := append([]string{pos[0]}, splitList(*compare)...)
	runs, err := loadRuns(dirs, "")
	if err != nil {
		return err
	}
	figs, err := report.Figures(runs...)
	if err != nil {
		return err
	}
	if err := report.WriteHTML(pos[0], runs...); err != nil {
		return failed(err)
	}
	out := struct {
		HTML  string   `json:"html"`
		Plots []string `json:"plots"`
		// Designs is a co-exploration run's table of best designs.
		Designs string `json:"designs,omitempty"`
	}{HTML: filepath.Join(pos[0], "report.html"), Plots: []string{}}
	for _, f := range figs {
		out.Plots = append(out.Plots, filepath.Join(pos[0], f.Name))
	}
	if runs[0].Coexplore != nil {
		out.Designs = filepath.Join(pos[0], report.DesignsFile)
	}
	fmt.Println(out.HTML)
	for _, p := range out.Plots {
		fmt.Println(p)
	}
	if out.Designs != "" {
		fmt.Println(out.Designs)
	}
	if *asJSON {
		return printJSON(out)
	}
	return nil
}

// splitList splits a comma-separated flag value, dropping empty entries.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func loadRuns(dirs []string, flagName string) ([]*report.Run, error) {
	if len(dirs) == 0 {
		return nil, fmt.Errorf("%s: no run directories", flagName)
	}
	runs := make([]*report.Run, len(dirs))
	for i, d := range dirs {
		r, err := report.Load(d)
		if err != nil {
			return nil, err
		}
		runs[i] = r
	}
	return runs, nil
}
