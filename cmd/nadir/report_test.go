package main

import (
	"bytes"
	"encoding/json"
	"image"
	_ "image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runMain runs the command in process and returns its exit code, stdout
// and stderr.
func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	capture := func(f **os.File) func() string {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		old := *f
		*f = w
		done := make(chan string)
		go func() {
			b, _ := io.ReadAll(r)
			done <- string(b)
		}()
		return func() string {
			w.Close()
			*f = old
			return <-done
		}
	}
	out, errOut := capture(&os.Stdout), capture(&os.Stderr)
	code := realMain(args)
	return code, out(), errOut()
}

// writeReportRun makes a small finished grow run by hand.
func writeReportRun(t *testing.T, dir, method string, acc float64) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	files := map[string]string{
		"config.json": `{"command":"grow","data":"mnist","model":"mlp:8","act":"tanh","grow":{"method":"` + method + `","rounds":1}}`,
		"summary.json": `{"command":"grow","method":"` + method + `","rounds":[
 {"round":0,"widths":[8],"params":6370,"macs":6352,"train_loss":0.5,"test_accuracy":0.85},
 {"round":1,"widths":[10],"params":7960,"macs":7940,"train_loss":0.4,"test_accuracy":` + jsonNum(acc) + `,"splits":2}],
 "test_accuracy":` + jsonNum(acc) + `,"params":7960,"macs":7940,"widths":[10]}`,
		"log.jsonl": `{"event":"epoch","epoch":1,"train_loss":0.5,"train_accuracy":0.8,"test_loss":0.45,"test_accuracy":0.85}
{"event":"eigen","round":1,"layer":1,"neuron":0,"lambda_min":-0.3,"lambda_max":0.2}
{"event":"eigen","round":1,"layer":1,"neuron":1,"lambda_min":-0.1,"lambda_max":0.4}
{"event":"split","round":1,"layer":1,"neuron":0,"scheme":"s2d","measured":-1e-5,"predicted":-1.2e-5}
{"event":"split","round":1,"layer":1,"neuron":1,"scheme":"s2d","measured":-4e-6,"predicted":-5e-6}
`,
	}
	for name, s := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func jsonNum(v float64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestReport(t *testing.T) {
	tmp := t.TempDir()
	a, b := filepath.Join(tmp, "a"), filepath.Join(tmp, "b")
	writeReportRun(t, a, "fast", 0.9)
	writeReportRun(t, b, "random-split", 0.88)

	code, out, errOut := runMain(t, "report", a, "--compare", b, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var res struct {
		HTML  string   `json:"html"`
		Plots []string `json:"plots"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("last line is not the JSON result: %v\n%s", err, out)
	}
	if res.HTML != filepath.Join(a, "report.html") || len(res.Plots) != 4 {
		t.Errorf("result = %+v; want a/report.html and 4 plots", res)
	}
	if got := strings.Join(lines[:len(lines)-1], "\n"); got != strings.Join(append([]string{res.HTML}, res.Plots...), "\n") {
		t.Errorf("printed paths:\n%s\nwant the JSON's paths, one a line", got)
	}
	html, err := os.ReadFile(res.HTML)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), "<td>b</td><td>random-split</td>") {
		t.Error("report.html has no comparison row for b")
	}
	for _, p := range res.Plots {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _, err := image.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width == 0 || cfg.Height == 0 {
			t.Errorf("%s: %v (%d×%d)", p, err, cfg.Width, cfg.Height)
		}
	}

	code, out, errOut = runMain(t, "report", "--table", a+","+b)
	if code != 0 {
		t.Fatalf("--table: exit %d: %s", code, errOut)
	}
	want := "| run | method | model | final widths | params | MACs | test accuracy |\n" +
		"|---|---|---|---|---:|---:|---:|\n" +
		"| a | fast | mlp:8 | [10] | 7,960 | 7,940 | 90.00% |\n" +
		"| b | random-split | mlp:8 | [10] | 7,960 | 7,940 | 88.00% |\n"
	if out != want {
		t.Errorf("--table printed\n%s\nwant\n%s", out, want)
	}
	if _, err := os.Stat(filepath.Join(b, "report.html")); err == nil {
		t.Error("--compare or --table wrote a report into a compared run")
	}
}

func TestReportBadInput(t *testing.T) {
	tmp := t.TempDir()
	good := filepath.Join(tmp, "good")
	writeReportRun(t, good, "fast", 0.9)
	torn := filepath.Join(tmp, "torn")
	writeReportRun(t, torn, "fast", 0.9)
	os.WriteFile(filepath.Join(torn, "log.jsonl"), []byte("{\"event\":\"epoch\"}\n{\"event\":\n"), 0o644)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no dir", []string{"report"}, "one run directory"},
		{"two dirs", []string{"report", good, good}, "one run directory"},
		{"missing dir", []string{"report", filepath.Join(tmp, "nope")}, "nope"},
		{"not a run", []string{"report", tmp}, "config.json"},
		{"missing compare", []string{"report", good, "--compare", filepath.Join(tmp, "gone")}, "gone"},
		{"corrupt log", []string{"report", torn}, "log.jsonl"},
		{"table missing", []string{"report", "--table", good + "," + filepath.Join(tmp, "nope")}, "nope"},
		{"table empty", []string{"report", "--table", ","}, "--table"},
		{"table and dir", []string{"report", good, "--table", good}, "--table"},
		{"unknown flag", []string{"report", good, "--frobnicate"}, "frobnicate"},
	} {
		code, _, errOut := runMain(t, c.args...)
		msg := strings.TrimRight(errOut, "\n")
		if code != 2 {
			t.Errorf("%s: exit %d, want 2 (%s)", c.name, code, msg)
		}
		if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, c.want) {
			t.Errorf("%s: want one error line mentioning %q, got:\n%s", c.name, c.want, msg)
		}
	}
	if _, err := os.Stat(filepath.Join(torn, "report.html")); err == nil {
		t.Error("a failed report left report.html behind")
	}
}

// TestReportOfGrowRun reports on a run the grow engine made, so that the
// report keeps reading what the engine writes.
func TestReportOfGrowRun(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network")
	}
	dir := filepath.Join(t.TempDir(), "g")
	if code, _, errOut := runMain(t, "grow", "--out", dir, "--max-train", "600", "--rounds", "2", "--quiet"); code != 0 {
		t.Fatalf("grow: exit %d: %s", code, errOut)
	}
	code, out, errOut := runMain(t, "report", dir)
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}
	for _, name := range []string{"report.html", "accuracy_vs_macs.png", "widths.png", "lambda_hist.png", "predicted_vs_measured.png"} {
		p := filepath.Join(dir, name)
		if !strings.Contains(out, p+"\n") {
			t.Errorf("output does not list %s:\n%s", p, out)
		}
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	if n := bytes.Count(html, []byte("data:image/png;base64,")); n != 4 {
		t.Errorf("report.html embeds %d images, want 4", n)
	}
}
