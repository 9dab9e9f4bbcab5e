// Command growthstudy is the helper of bench/growth_study.sh: it finds the
// uniform width of a model template at a MAC budget, and aggregates the
// study's runs into a Markdown table (mean ± sd over seeds, and each
// method's difference from the reference baselines paired by seed), an
// accuracy-vs-MACs plot per seed network and a JSON line of rows.
//
//	growthstudy width 'cnn:c{w},p,c{w},g' 1000000   # model string at most 1M MACs
//	growthstudy rounds 'cnn:c8,p,c8,g' 1000000      # growth rounds that at most double the MACs each
//	growthstudy table MANIFEST OUTPREFIX            # MANIFEST: net budget method seed rundir (tab-separated)
//	growthstudy manifest SWEEPDIR NET BUDGET        # MANIFEST lines of a nadir sweep's trials
//	growthstudy clones RUNDIR...                    # cosine similarity of split off-springs
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/nadir-ml/nadir/dist"
	"github.com/nadir-ml/nadir/nn"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "growthstudy:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	if len(args) == 3 && args[0] == "width" {
		budget, err := strconv.ParseFloat(args[2], 64)
		if err != nil {
			return fmt.Errorf("budget %q: %v", args[2], err)
		}
		model, macs, err := uniformWidth(args[1], []int{1, 28, 28}, 10, int64(budget))
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "%s: %d MACs\n", model, macs)
		fmt.Println(model)
		return nil
	}
	if len(args) == 3 && args[0] == "rounds" {
		budget, err := strconv.ParseFloat(args[2], 64)
		if err != nil {
			return fmt.Errorf("budget %q: %v", args[2], err)
		}
		r, err := doublingRounds(args[1], []int{1, 28, 28}, 10, budget)
		if err != nil {
			return err
		}
		fmt.Println(r)
		return nil
	}
	if len(args) == 3 && args[0] == "table" {
		return table(args[1], args[2])
	}
	if len(args) == 4 && args[0] == "manifest" {
		return sweepManifest(os.Stdout, args[1], args[2], args[3])
	}
	if len(args) >= 2 && args[0] == "clones" {
		return clones(args[1:])
	}
	return fmt.Errorf("usage: growthstudy width TEMPLATE BUDGET | growthstudy rounds MODEL BUDGET | growthstudy table MANIFEST OUTPREFIX | growthstudy manifest SWEEPDIR NET BUDGET | growthstudy clones RUNDIR...")
}

// doublingRounds is the number of growth rounds in which a net of model's
// cost reaches budget MACs when no round more than doubles the cost: a round
// splits each unit at most once, and a round that must nearly double every
// layer leaves the methods no choice (they all split almost every unit).
func doublingRounds(model string, in []int, classes int, budget float64) (int, error) {
	relu, err := nn.ParseActivation("relu")
	if err != nil {
		return 0, err
	}
	net, err := nn.ParseModel(model, in, classes, relu, nil)
	if err != nil {
		return 0, err
	}
	ratio := budget / float64(net.MACs())
	if !(ratio > 1) {
		return 0, fmt.Errorf("%q already costs %d MACs, not less than the budget %g", model, net.MACs(), budget)
	}
	return max(1, int(math.Ceil(math.Log2(ratio)-1e-9))), nil
}

// uniformWidth returns the template with {w} replaced by the largest width
// whose network costs at most budget MACs per example.
func uniformWidth(tmpl string, in []int, classes int, budget int64) (string, int64, error) {
	if !strings.Contains(tmpl, "{w}") {
		return "", 0, fmt.Errorf("template %q has no {w}", tmpl)
	}
	relu, err := nn.ParseActivation("relu")
	if err != nil {
		return "", 0, err
	}
	best, bestMACs := "", int64(0)
	for w := 1; w <= 4096; w++ {
		m := strings.ReplaceAll(tmpl, "{w}", strconv.Itoa(w))
		net, err := nn.ParseModel(m, in, classes, relu, nil)
		if err != nil {
			return "", 0, err
		}
		if net.MACs() > budget {
			break
		}
		best, bestMACs = m, net.MACs()
	}
	if best == "" {
		return "", 0, fmt.Errorf("even width 1 of %q costs more than %d MACs", tmpl, budget)
	}
	return best, bestMACs, nil
}

// sweepManifest writes a manifest line (net, budget, method, seed, run
// directory) for each trial in the sweep.json of the nadir sweep in dir, in
// its order. A trial's run directory is dir/trials/ID; the ID is checked
// against the trial it names, so a sweep.json of another layout fails
// here rather than pointing the table at the wrong runs.
func sweepManifest(w io.Writer, dir, net, budget string) error {
	if net == "" || strings.ContainsAny(net, "\t\n") {
		return fmt.Errorf("net %q: want a name without tabs", net)
	}
	if _, err := strconv.ParseInt(budget, 10, 64); err != nil {
		return fmt.Errorf("budget %q: want an integer number of MACs", budget)
	}
	b, err := os.ReadFile(filepath.Join(dir, "sweep.json"))
	if err != nil {
		return err
	}
	var idx struct {
		Trials []struct {
			Method string     `json:"method"`
			Seed   uint64     `json:"seed"`
			ID     string     `json:"id"`
			Trial  dist.Trial `json:"trial"`
		} `json:"trials"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return fmt.Errorf("%s: %v", filepath.Join(dir, "sweep.json"), err)
	}
	if len(idx.Trials) == 0 {
		return fmt.Errorf("%s: no trials", filepath.Join(dir, "sweep.json"))
	}
	for _, t := range idx.Trials {
		if t.Method == "" || t.ID == "" || t.ID != t.Trial.ID() {
			return fmt.Errorf("%s: trial %q (%s seed %d) does not match its command", filepath.Join(dir, "sweep.json"), t.ID, t.Method, t.Seed)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", net, budget, t.Method, t.Seed, filepath.Join(dir, "trials", t.ID))
	}
	return nil
}

type entry struct {
	net, method string
	budget      int64
	acc, macs   []float64
	bySeed      map[int]float64
}

func (e *entry) key() string { return fmt.Sprintf("%s\x00%d\x00%s", e.net, e.budget, e.method) }

func meanSD(v []float64) (float64, float64) {
	var m float64
	for _, x := range v {
		m += x
	}
	m /= float64(len(v))
	if len(v) < 2 {
		return m, 0
	}
	var ss float64
	for _, x := range v {
		ss += (x - m) * (x - m)
	}
	return m, math.Sqrt(ss / float64(len(v)-1))
}

// Row is one line of the JSON summary.
type Row struct {
	Net          string  `json:"net"`
	Method       string  `json:"method"`
	BudgetMACs   int64   `json:"budget_macs"`
	MeanAccuracy float64 `json:"mean_accuracy"`
	SDAccuracy   float64 `json:"sd_accuracy"`
	MeanMACs     float64 `json:"mean_macs"`
	N            int     `json:"n"`
	// bySeed holds each seed's accuracy, for the paired comparisons.
	bySeed map[int]float64
}

func table(manifest, prefix string) error {
	rows, err := aggregate(manifest)
	if err != nil {
		return err
	}
	md := markdown(rows) + pairedMarkdown(rows)
	if err := os.WriteFile(prefix+".md", []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Print(md)
	if err := plots(rows, prefix); err != nil {
		return err
	}
	out, _ := json.Marshal(map[string]any{"rows": rows})
	fmt.Println(string(out))
	return nil
}

// aggregate reads the manifest's finished runs into one row per (net,
// budget, method), in first-seen order.
func aggregate(manifest string) ([]Row, error) {
	f, err := os.Open(manifest)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	byKey := map[string]*entry{}
	var order []*entry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fld := strings.Split(sc.Text(), "\t")
		if len(fld) != 5 {
			continue
		}
		budget, err := strconv.ParseInt(fld[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: budget %q", manifest, fld[1])
		}
		seed, err := strconv.Atoi(fld[3])
		if err != nil {
			return nil, fmt.Errorf("%s: seed %q", manifest, fld[3])
		}
		var sum struct {
			TestAccuracy float64 `json:"test_accuracy"`
			MACs         int64   `json:"macs"`
		}
		b, err := os.ReadFile(filepath.Join(fld[4], "summary.json"))
		if err != nil {
			fmt.Fprintln(os.Stderr, "growthstudy: skipping unfinished run:", err)
			continue
		}
		if err := json.Unmarshal(b, &sum); err != nil {
			return nil, fmt.Errorf("%s: %v", fld[4], err)
		}
		e := &entry{net: fld[0], budget: budget, method: fld[2], bySeed: map[int]float64{}}
		if old, ok := byKey[e.key()]; ok {
			e = old
		} else {
			byKey[e.key()] = e
			order = append(order, e)
		}
		if _, dup := e.bySeed[seed]; dup {
			return nil, fmt.Errorf("%s: %s %d %s seed %d listed twice", manifest, e.net, e.budget, e.method, seed)
		}
		e.bySeed[seed] = sum.TestAccuracy
		e.acc = append(e.acc, sum.TestAccuracy)
		e.macs = append(e.macs, float64(sum.MACs))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("%s: no finished runs", manifest)
	}
	var rows []Row
	for _, e := range order {
		m, sd := meanSD(e.acc)
		mm, _ := meanSD(e.macs)
		rows = append(rows, Row{Net: e.net, Method: e.method, BudgetMACs: e.budget, MeanAccuracy: m, SDAccuracy: sd, MeanMACs: mm, N: len(e.acc), bySeed: e.bySeed})
	}
	return rows, nil
}

// markdown lays the rows out as one table per seed network: a row per
// budget, a column per method, cells "accuracy % mean ± sd (MACs)".
func markdown(rows []Row) string {
	var b strings.Builder
	var nets, methods []string
	seen := map[string]bool{}
	for _, r := range rows {
		if !seen["n"+r.Net] {
			seen["n"+r.Net] = true
			nets = append(nets, r.Net)
		}
		if !seen["m"+r.Method] {
			seen["m"+r.Method] = true
			methods = append(methods, r.Method)
		}
	}
	for _, net := range nets {
		var budgets []int64
		cell := map[string]Row{}
		for _, r := range rows {
			if r.Net != net {
				continue
			}
			if _, ok := cell[fmt.Sprint(r.BudgetMACs)]; !ok {
				cell[fmt.Sprint(r.BudgetMACs)] = Row{}
				budgets = append(budgets, r.BudgetMACs)
			}
			cell[fmt.Sprint(r.BudgetMACs, r.Method)] = r
		}
		sort.Slice(budgets, func(i, j int) bool { return budgets[i] < budgets[j] })
		tableHead(&b, net+" — test accuracy %, mean ± sd over seeds (mean final MACs in k)", []string{"budget MACs"}, methods)
		for _, bud := range budgets {
			fmt.Fprintf(&b, "| %d |", bud)
			for _, m := range methods {
				r, ok := cell[fmt.Sprint(bud, m)]
				if !ok {
					b.WriteString(" — |")
					continue
				}
				fmt.Fprintf(&b, " %.2f ± %.2f (%.0fk, n=%d) |", 100*r.MeanAccuracy, 100*r.SDAccuracy, r.MeanMACs/1000, r.N)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// tableHead writes a table's title and its header: the lead columns, then a
// column per method.
func tableHead(b *strings.Builder, title string, lead, methods []string) {
	fmt.Fprintf(b, "\n%s\n\n|", title)
	cols := append(append([]string(nil), lead...), methods...)
	for _, c := range cols {
		fmt.Fprintf(b, " %s |", c)
	}
	b.WriteString("\n|")
	for range cols {
		b.WriteString("---|")
	}
	b.WriteString("\n")
}

// references are the baselines every other method is compared with seed by
// seed: the two goals set growth against random splitting and
// against the uniform-width network of equal MACs.
var references = []string{"random-split", "uniform-scratch"}

// paired is method − reference in accuracy points over the seeds both have.
type paired struct {
	mean, sd float64
	ahead, n int
}

func pairedDiff(m, ref Row) (paired, bool) {
	var d []float64
	var p paired
	for s, a := range m.bySeed {
		if b, ok := ref.bySeed[s]; ok {
			d = append(d, 100*(a-b))
			if a >= b {
				p.ahead++
			}
		}
	}
	if len(d) == 0 {
		return p, false
	}
	sort.Float64s(d) // map order must not change the sums' rounding
	p.mean, p.sd = meanSD(d)
	p.n = len(d)
	return p, true
}

// pairedMarkdown lays out, per seed network, each method's paired difference
// from each reference present: seed noise shared by the two runs of a seed
// (same data order, same initial draws) cancels, so these separate methods
// that the mean ± sd columns cannot.
func pairedMarkdown(rows []Row) string {
	var b strings.Builder
	var nets, methods []string
	seen := map[string]bool{}
	isRef := map[string]bool{}
	for _, r := range references {
		isRef[r] = true
	}
	cell := map[string]Row{}
	budgets := map[string][]int64{}
	for _, r := range rows {
		if !seen["n"+r.Net] {
			seen["n"+r.Net] = true
			nets = append(nets, r.Net)
		}
		if !isRef[r.Method] && !seen["m"+r.Method] {
			seen["m"+r.Method] = true
			methods = append(methods, r.Method)
		}
		k := fmt.Sprint(r.Net, "\x00", r.BudgetMACs)
		if !seen["b"+k] {
			seen["b"+k] = true
			budgets[r.Net] = append(budgets[r.Net], r.BudgetMACs)
		}
		cell[fmt.Sprint(k, "\x00", r.Method)] = r
	}
	for _, net := range nets {
		bs := budgets[net]
		sort.Slice(bs, func(i, j int) bool { return bs[i] < bs[j] })
		var lines []string
		for _, bud := range bs {
			k := fmt.Sprint(net, "\x00", bud, "\x00")
			for _, ref := range references {
				rr, ok := cell[k+ref]
				if !ok {
					continue
				}
				line := fmt.Sprintf("| %d | %s |", bud, ref)
				for _, m := range methods {
					mr, ok := cell[k+m]
					p, both := pairedDiff(mr, rr)
					if !ok || !both {
						line += " — |"
						continue
					}
					line += fmt.Sprintf(" %+.2f ± %.2f (%d of %d) |", p.mean, p.sd, p.ahead, p.n)
				}
				lines = append(lines, line)
			}
		}
		if len(lines) == 0 || len(methods) == 0 {
			continue
		}
		tableHead(&b, net+" — paired by seed: method − reference, accuracy points, mean ± sd (seeds at or above the reference)",
			[]string{"budget MACs", "reference"}, methods)
		b.WriteString(strings.Join(lines, "\n") + "\n")
	}
	return b.String()
}

var colours = []color.NRGBA{
	{0, 114, 178, 255}, {213, 94, 0, 255}, {0, 158, 115, 255}, {204, 121, 167, 255},
	{230, 159, 0, 255}, {86, 180, 233, 255}, {0, 0, 0, 255}, {240, 228, 66, 255},
}

// plots writes PREFIX-NET.png per seed network: mean accuracy against mean
// final MACs, a line per method through its budgets, ± sd error bars.
func plots(rows []Row, prefix string) error {
	nets := map[string][]Row{}
	for _, r := range rows {
		nets[r.Net] = append(nets[r.Net], r)
	}
	for net, rs := range nets {
		p := plot.New()
		p.X.Label.Text = "MACs per example"
		p.Y.Label.Text = "test accuracy (mean ± sd over seeds)"
		p.Legend.Top = false
		p.Legend.Left = true
		var methods []string
		by := map[string][]Row{}
		for _, r := range rs {
			if by[r.Method] == nil {
				methods = append(methods, r.Method)
			}
			by[r.Method] = append(by[r.Method], r)
		}
		for i, m := range methods {
			pts := by[m]
			sort.Slice(pts, func(a, b int) bool { return pts[a].MeanMACs < pts[b].MeanMACs })
			xy := make(plotter.XYs, len(pts))
			errs := make(plotter.YErrors, len(pts))
			for k, r := range pts {
				xy[k] = plotter.XY{X: r.MeanMACs, Y: r.MeanAccuracy}
				errs[k].Low, errs[k].High = r.SDAccuracy, r.SDAccuracy
			}
			l, s, err := plotter.NewLinePoints(xy)
			if err != nil {
				return err
			}
			c := colours[i%len(colours)]
			l.Color, s.Color = c, c
			s.Shape = draw.CircleGlyph{}
			s.Radius = vg.Points(3)
			eb, err := plotter.NewYErrorBars(struct {
				plotter.XYs
				plotter.YErrors
			}{xy, errs})
			if err != nil {
				return err
			}
			eb.Color = c
			p.Add(l, s, eb)
			p.Legend.Add(m, l, s)
		}
		for _, a := range []*plot.Axis{&p.X, &p.Y} {
			pad := 0.08 * (a.Max - a.Min)
			if pad == 0 {
				pad = 0.05*math.Abs(a.Max) + 1e-3
			}
			a.Min, a.Max = a.Min-pad, a.Max+pad
		}
		p.Title.Text = net + ": accuracy vs MACs"
		name := fmt.Sprintf("%s-%s.png", prefix, strings.NewReplacer("/", "_", " ", "_").Replace(net))
		if err := p.Save(7*vg.Inch, 4.5*vg.Inch, name); err != nil {
			return err
		}
	}
	return nil
}
