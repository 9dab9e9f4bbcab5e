package report

import (
	"bytes"
	"encoding/base64"
	"image"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func figureNames(figs []*Figure) []string {
	var names []string
	for _, f := range figs {
		names = append(names, f.Name)
	}
	return names
}

func TestFiguresChoice(t *testing.T) {
	g := loadRun(t, "g1", growConfig, growSummary, growLog)
	tr := loadRun(t, "t1", trainConfig, trainSummary, trainLog)
	// A baseline run: no eigen events, no predictions.
	var baseLog []string
	for _, l := range growLog {
		if !strings.Contains(l, `"eigen"`) && !strings.Contains(l, `"predicted"`) {
			baseLog = append(baseLog, l)
		}
	}
	base := loadRun(t, "rs", growConfig, strings.Replace(growSummary, `"fast"`, `"random-split"`, 1), baseLog)
	for _, tc := range []struct {
		runs []*Run
		want []string
	}{
		{[]*Run{g}, []string{"accuracy_vs_macs.png", "widths.png", "lambda_hist.png", "predicted_vs_measured.png"}},
		{[]*Run{base}, []string{"accuracy_vs_macs.png", "widths.png"}},
		{[]*Run{tr}, []string{"training.png"}},
		{[]*Run{tr, g}, []string{"accuracy_vs_macs.png", "training.png"}},
	} {
		figs, err := Figures(tc.runs...)
		if err != nil {
			t.Fatal(err)
		}
		if got := figureNames(figs); !slices.Equal(got, tc.want) {
			t.Errorf("Figures(%s...) = %v, want %v", tc.runs[0].Name(), got, tc.want)
		}
	}
	if _, err := Figures(); err == nil {
		t.Error("Figures() succeeded")
	}
}

func TestWriteHTML(t *testing.T) {
	g := loadRun(t, "g1", growConfig, growSummary, growLog)
	tr := loadRun(t, "t1", trainConfig, trainSummary, trainLog)
	dir := filepath.Join(t.TempDir(), "out") // WriteHTML makes it
	if err := WriteHTML(dir, g, tr); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)

	// Every figure is embedded, and is the PNG written next to the page.
	figs, _ := Figures(g, tr)
	srcs := regexp.MustCompile(`<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([a-z_]+\.png)"`).FindAllStringSubmatch(html, -1)
	if len(srcs) != len(figs) || len(figs) != 4 {
		t.Fatalf("%d embedded images, %d figures; want 4", len(srcs), len(figs))
	}
	for i, m := range srcs {
		if m[2] != figs[i].Name {
			t.Errorf("image %d is %s, want %s", i, m[2], figs[i].Name)
		}
		png, err := base64.StdEncoding.DecodeString(m[1])
		if err != nil {
			t.Fatalf("%s: %v", m[2], err)
		}
		if _, _, err := image.DecodeConfig(bytes.NewReader(png)); err != nil {
			t.Errorf("%s: embedded image: %v", m[2], err)
		}
		file, err := os.ReadFile(filepath.Join(dir, m[2]))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(file, png) {
			t.Errorf("%s: the file differs from the embedded image", m[2])
		}
	}
	for _, want := range []string{
		// Rows of the round table, the comparison and the configuration.
		`<td class="n">0</td><td>[8 6]</td><td class="n">6,500</td><td class="n">6,400</td><td class="n">0.5000</td>`,
		`<td class="n">2</td><td>[12 9]</td><td class="n">9,800</td><td class="n">9,700</td><td class="n">0.3300</td><td class="n">0.3100</td><td class="n">90.25%</td><td class="n">4</td><td class="n">0.15</td><td class="n">0.25</td>`,
		`<tr><td>t1</td><td>train</td><td>mlp:32</td><td>—</td><td class="n">25,450</td><td class="n">25,408</td><td class="n">93.00%</td></tr>`,
		`<tr><th>grow.method</th><td>fast</td></tr>`,
		// Per-layer calibration of the predicted splits (the baseline's left out).
		`<tr><td class="n">1</td><td class="n">2</td><td class="n">2</td><td class="n">-2.5e-05</td><td class="n">-2.3e-05</td><td class="n">0.92</td></tr>`,
		`<tr><td class="n">3</td><td class="n">1</td><td class="n">1</td><td class="n">-2.5e-06</td><td class="n">-3e-06</td><td class="n">1.20</td></tr>`,
		`<tr><th>train.lr</th><td>0.05</td></tr>`,
		"softplus (β = 3)",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks %s", want)
		}
	}
	// Self-contained: nothing to fetch.
	for _, bad := range []string{`src="http`, `<link`, `<script`, `url(`} {
		if strings.Contains(html, bad) {
			t.Errorf("report.html refers to an external asset (%s)", bad)
		}
	}
	// Atomic writes leave no temporary files behind.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	want := append(figureNames(figs), "report.html")
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("directory holds %v, want %v", got, want)
	}
}

func TestWriteHTMLTrain(t *testing.T) {
	tr := loadRun(t, "t1", trainConfig, trainSummary, trainLog)
	if err := WriteHTML(tr.Dir, tr); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(tr.Dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<td class="n">2</td><td class="n">0.3000</td><td class="n">91.00%</td><td class="n">0.2800</td><td class="n">92.00%</td>`,
		`alt="training.png"`,
		"<h2>Epochs</h2>",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report.html lacks %s", want)
		}
	}
	if strings.Contains(string(b), "<h2>Rounds</h2>") || strings.Contains(string(b), "<h2>Comparison</h2>") {
		t.Error("a lone train run's report has a rounds or comparison table")
	}
	if _, err := os.Stat(filepath.Join(tr.Dir, "training.png")); err != nil {
		t.Error(err)
	}
}

func TestWriteHTMLErrors(t *testing.T) {
	if err := WriteHTML(t.TempDir()); err == nil {
		t.Error("WriteHTML with no runs succeeded")
	}
	g := loadRun(t, "g1", growConfig, growSummary, growLog)
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if err := WriteHTML(file, g); err == nil {
		t.Error("WriteHTML into a file succeeded")
	}
	bad := *g
	bad.Summary.Rounds = nil
	if err := WriteHTML(t.TempDir(), &bad); err == nil {
		t.Error("WriteHTML of a grow run with no rounds succeeded")
	}
}
