package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/nadir-ml/nadir/run"
)

// Figures are the figures of a report on runs[0], compared with the other
// runs. For a co-exploration run (which is not compared): the reward per
// episode and accuracy against throughput with the Pareto fronts. Otherwise:
// accuracy against MACs (grow runs, or when there is something to
// compare), layer widths (grow runs), the eigenvalue histogram (when the
// log has eigen events), predicted against measured loss change (when a
// split made a prediction) and the training curves (train runs). The file
// names of the figures are distinct.
func Figures(runs ...*Run) ([]*Figure, error) {
	if len(runs) == 0 {
		return nil, errors.New("report: no runs")
	}
	if err := notCoexplore(runs[1:]); err != nil {
		return nil, err
	}
	r := runs[0]
	if r.Coexplore != nil {
		if len(runs) > 1 {
			return nil, fmt.Errorf("report: %s is a co-exploration run, which is not compared with other runs", r.Dir)
		}
		return coexploreFigures(r)
	}
	grow := r.Summary.Command == "grow"
	var figs []*Figure
	add := func(f *Figure, err error) error {
		if err == nil {
			figs = append(figs, f)
		}
		return err
	}
	if grow || len(runs) > 1 {
		if err := add(AccuracyVsMACs(runs...)); err != nil {
			return nil, err
		}
	}
	if grow {
		if err := add(Widths(r)); err != nil {
			return nil, err
		}
	}
	if len(r.Eigen) > 0 {
		if err := add(LambdaHistogram(r, 0)); err != nil {
			return nil, err
		}
	}
	for _, s := range r.Splits {
		if s.Predicted != nil {
			if err := add(PredictedVsMeasured(r)); err != nil {
				return nil, err
			}
			break
		}
	}
	if !grow && len(r.Epochs) > 0 {
		if err := add(TrainingCurves(r)); err != nil {
			return nil, err
		}
	}
	return figs, nil
}

// WriteHTML writes dir/report.html, a self-contained report on runs[0]
// compared with the other runs (images embedded as data URIs, no external
// assets), and each figure of Figures(runs...) as a PNG next to it; for a
// co-exploration run also the Markdown table of Designs as designs.md.
// Every file is written atomically.
func WriteHTML(dir string, runs ...*Run) error {
	figs, err := Figures(runs...)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	page := htmlPage{Run: runs[0], Method: runs[0].Method(), Name: runs[0].Name()}
	for _, f := range figs {
		b, err := f.PNG()
		if err != nil {
			return err
		}
		if err := run.WriteFile(filepath.Join(dir, f.Name), b); err != nil {
			return err
		}
		page.Figures = append(page.Figures, htmlFigure{
			Name:    f.Name,
			Caption: f.Caption,
			// The whole attribute is marked safe (base64 has no quotes), since
			// html/template would otherwise write each '+' as "&#43;".
			Src:   template.HTMLAttr(`src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(b) + `"`),
			Width: f.Width,
		})
	}
	if len(runs) > 1 {
		page.Compare = rows(runs)
	}
	if r := runs[0]; r.Coexplore != nil {
		page.Coexplore = coexploreView(r)
		var md bytes.Buffer
		if err := Designs(&md, r); err != nil {
			return err
		}
		if err := run.WriteFile(filepath.Join(dir, DesignsFile), md.Bytes()); err != nil {
			return err
		}
	}
	page.Calibration = SplitCalibration(runs[0])
	page.Config, err = flatConfig(runs[0])
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, page); err != nil {
		return err
	}
	return run.WriteFile(filepath.Join(dir, "report.html"), b.Bytes())
}

type htmlPage struct {
	Run          *Run
	Method, Name string
	Figures      []htmlFigure
	Compare      []row
	Calibration  []LayerCalibration
	Config       [][2]string
	Coexplore    *coexplorePage
}

// coexplorePage is the part of the page of a co-exploration run.
type coexplorePage struct {
	Sum    *run.CoexploreSummary
	Modes  []coexploreMode
	Stages [][]string
}

type coexploreMode struct {
	Name string
	run.CoexploreMode
}

func coexploreView(r *Run) *coexplorePage {
	v := &coexplorePage{Sum: r.Coexplore, Stages: stageRows(r)}
	for _, m := range r.Modes {
		v.Modes = append(v.Modes, coexploreMode{m, r.Coexplore.Modes[m]})
	}
	return v
}

type htmlFigure struct {
	Name, Caption string
	Src           template.HTMLAttr
	Width         int
}

// flatConfig lists config.json as dotted keys and values, sorted by key.
func flatConfig(r *Run) ([][2]string, error) {
	b, err := json.Marshal(r.Config)
	if err != nil {
		return nil, err
	}
	if r.rawConfig != nil {
		b = r.rawConfig
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	var out [][2]string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if o, ok := v.(map[string]any); ok {
			for k, x := range o {
				walk(strings.TrimPrefix(prefix+"."+k, "."), x)
			}
			return
		}
		s, _ := json.Marshal(v)
		out = append(out, [2]string{prefix, strings.Trim(string(s), `"`)})
	}
	walk("", m)
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out, nil
}

var pageTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct":    func(v float64) string { return strconv.FormatFloat(100*v, 'f', 2, 64) + "%" },
	"f4":     func(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) },
	"f2":     func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) },
	"sep":    func(v int64) string { return thousands(v) },
	"sepi":   func(v int) string { return thousands(int64(v)) },
	"widths": formatWidths,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>nadir report: {{.Name}}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 1120px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.92em; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #e4e4e4; }
th { background: #f4f4f4; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #444; max-width: 720px; }
code { background: #f4f4f4; padding: 0 0.2em; }
</style>
</head>
<body>
<h1>nadir report: {{.Name}}</h1>
{{with .Coexplore}}<p><code>coexplore</code>: specification at least <b>{{printf "%.0f" .Sum.SpecThroughput}} images/s</b> on
{{range $i, $b := .Sum.Boards}}{{if $i}} + {{end}}<code>{{$b}}</code>{{end}}, met by {{pct .Sum.SpecFraction}} of random networks
({{pct .Sum.SpecFractionFixed}} on the fixed accelerators of hw-aware).</p>
<h2>Best designs</h2>
<table>
<tr><th>mode</th><th>network</th><th>val. acc</th><th>images/s</th><th>GOPS/W</th><th>latency ms</th><th>power W</th><th>spec met</th><th>trained</th><th>sampled</th><th>rejected</th><th>s</th></tr>
{{range .Modes}}<tr><td>{{.Name}}</td>{{if .Best}}<td><code>{{.Best.Arch}}</code></td><td class="n">{{pct .BestAccuracy}}</td><td class="n">{{printf "%.0f" .BestThroughput}}</td><td class="n">{{f2 .BestEnergyEff}}</td><td class="n">{{f4 .BestLatencyMS}}</td><td class="n">{{f2 .BestPowerW}}</td><td>{{.SpecMet}}</td>{{else}}<td colspan="7">no child scored</td>{{end}}<td class="n">{{.ChildrenTrained}}</td><td class="n">{{.ChildrenSampled}}</td><td class="n">{{.Rejected}}</td><td class="n">{{f2 .Seconds}}</td></tr>
{{end}}</table>
<h2>Pipeline stages of the best designs</h2>
<table>
<tr><th>mode</th><th>stage</th><th>board (part)</th><th>layers</th><th>tiling ⟨Tm,Tn,Tr,Tc,Tk⟩</th><th>ports W/I/O (words)</th><th>DSP</th><th>BRAM18K</th><th>cycles</th></tr>
{{range .Stages}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{else}}{{with .Run}}<p><code>{{.Summary.Command}}</code>{{if eq .Summary.Command "grow"}} by <b>{{$.Method}}</b>{{end}}
on <code>{{.Config.Data}}</code>, model <code>{{.Config.Model}}</code> ({{.Config.Act}}):
test accuracy <b>{{pct .Summary.TestAccuracy}}</b>, test loss {{f4 .Summary.TestLoss}},
{{sepi .Summary.Params}} parameters, {{sep .Summary.MACs}} MACs per example{{if .Summary.Widths}}, final widths {{widths .Summary.Widths}}{{end}};
{{f2 .Summary.Seconds}} s.</p>
{{if .Summary.Rounds}}
<h2>Rounds</h2>
<table>
<tr><th>round</th><th>widths</th><th>params</th><th>MACs</th><th>train loss</th><th>test loss</th><th>test acc</th><th>splits</th><th>grow s</th><th>train s</th></tr>
{{range .Summary.Rounds}}<tr><td class="n">{{.Round}}</td><td>{{widths .Widths}}</td><td class="n">{{sepi .Params}}</td><td class="n">{{sep .MACs}}</td><td class="n">{{f4 .TrainLoss}}</td><td class="n">{{f4 .TestLoss}}</td><td class="n">{{pct .TestAccuracy}}</td><td class="n">{{.Splits}}</td><td class="n">{{f2 .GrowSeconds}}</td><td class="n">{{f2 .TrainSeconds}}</td></tr>
{{end}}</table>
{{with $.Calibration}}
<h2>Split predictions per layer</h2>
<p>Measured against predicted loss change of the splits, summed per layer over the rounds: near 1 the second-order model behind the ranking holds; near 0 or below, the layer's splits gain less than predicted.</p>
<table>
<tr><th>layer</th><th>splits</th><th>lowered the loss</th><th>predicted</th><th>measured</th><th>measured / predicted</th></tr>
{{range .}}<tr><td class="n">{{.Layer}}</td><td class="n">{{.Splits}}</td><td class="n">{{.Lowered}}</td><td class="n">{{printf "%.4g" .Predicted}}</td><td class="n">{{printf "%.4g" .Measured}}</td><td class="n">{{f2 .Ratio}}</td></tr>
{{end}}</table>
{{end}}
{{else if .Epochs}}
<h2>Epochs</h2>
<table>
<tr><th>epoch</th><th>train loss</th><th>train acc</th><th>test loss</th><th>test acc</th><th>lr</th><th>s</th></tr>
{{range .Epochs}}<tr><td class="n">{{.Epoch}}</td><td class="n">{{f4 .TrainLoss}}</td><td class="n">{{pct .TrainAccuracy}}</td><td class="n">{{f4 .TestLoss}}</td><td class="n">{{pct .TestAccuracy}}</td><td class="n">{{printf "%.3g" .LR}}</td><td class="n">{{f2 .Seconds}}</td></tr>
{{end}}</table>
{{end}}{{end}}{{end}}
{{if .Compare}}
<h2>Comparison</h2>
<table>
<tr><th>run</th><th>method</th><th>model</th><th>final widths</th><th>params</th><th>MACs</th><th>test acc</th></tr>
{{range .Compare}}<tr><td>{{.Name}}</td><td>{{.Method}}</td><td>{{.Model}}</td><td>{{.Widths}}</td><td class="n">{{.Params}}</td><td class="n">{{.MACs}}</td><td class="n">{{.Accuracy}}</td></tr>
{{end}}</table>
{{end}}
{{if .Figures}}<h2>Figures</h2>{{end}}
{{range .Figures}}<figure>
<img {{.Src}} alt="{{.Name}}" width="{{.Width}}">
<figcaption>{{.Caption}}</figcaption>
</figure>
{{end}}
<h2>Configuration</h2>
<table>
{{range .Config}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>
{{end}}</table>
</body>
</html>
`))

func formatWidths(w []int) string {
	if len(w) == 0 {
		return "—"
	}
	return fmt.Sprint(w)
}
