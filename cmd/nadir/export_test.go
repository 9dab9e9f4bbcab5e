package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/export"
	"github.com/nadir-ml/nadir/internal/rtcheck"
	"github.com/nadir-ml/nadir/tensor"
)

// exportRuns are small MNIST runs of each model family: an MLP, a CNN of
// conv, pool and dense tokens, a depthwise-separable net ending in global
// pooling, and a grown network (nadir grow).
var exportRuns = []struct {
	name string
	args []string
}{
	{"mlp", []string{"train", "--model", "mlp:32"}},
	{"cnn", []string{"train", "--model", "cnn:c4,p,c8,p,f16"}},
	{"depthwise", []string{"train", "--model", "cnn:c4,d8,d8s2,g"}},
	{"grown", []string{"grow", "--model", "mlp:8", "--rounds", "2", "--split-batches", "2"}},
}

// TestExport trains the runs above, exports each (ONNX, ONNX with folded
// BatchNorm, safetensors), runs the files in ONNX Runtime, the ONNX checker
// and PyTorch on MNIST test images and compares with nadir's own forward
// pass; predict must reproduce the run's test accuracy from the run
// directory and from the exported files, --init must round-trip, and bad
// files must give one error line and exit 2.
func TestExport(t *testing.T) {
	if testing.Short() {
		t.Skip("trains small runs")
	}
	tmp := t.TempDir()
	mn, err := data.MNISTDir()
	if err != nil {
		t.Fatal(err)
	}
	images := filepath.Join(mn, "t10k-images-idx3-ubyte.gz")
	var runs [][2]string
	for _, r := range exportRuns {
		dir := filepath.Join(tmp, r.name)
		args := append(append([]string(nil), r.args...), "--max-train", "2000", "--epochs", "1", "--quiet", "--out", dir)
		if code, _, errOut := runMain(t, args...); code != 0 {
			t.Fatalf("%s: exit %d: %s", r.name, code, errOut)
		}
		runs = append(runs, [2]string{r.name, dir})
		// The default outputs, RUN/model.onnx and RUN/model.safetensors, for
		// the subtests below.
		for _, f := range []string{"onnx", "safetensors"} {
			if code, _, errOut := runMain(t, "export", dir, "--format", f); code != 0 {
				t.Fatalf("export %s: exit %d: %s", r.name, code, errOut)
			}
		}
	}
	checkRuntimes(t, runs, images, 64)

	t.Run("predict", func(t *testing.T) {
		labels, err := data.ReadIDXFile(filepath.Join(mn, "t10k-labels-idx1-ubyte.gz"))
		if err != nil {
			t.Fatal(err)
		}
		y, _ := labels.Ints()
		// The run directory and both file formats for the MLP; the ONNX
		// file for the CNN (10,000 images each).
		for _, r := range exportRuns[:2] {
			dir := filepath.Join(tmp, r.name)
			var sum struct {
				TestAccuracy float64 `json:"test_accuracy"`
			}
			b, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
			json.Unmarshal(b, &sum)
			var outs []string
			models := []string{dir + "/model.onnx", dir, dir + "/model.safetensors"}
			if r.name != "mlp" {
				models = models[:1]
			}
			for _, model := range models {
				code, out, errOut := runMain(t, "predict", model, "--input", images, "--json")
				if code != 0 {
					t.Fatalf("predict %s: exit %d: %s", model, code, errOut)
				}
				var res struct {
					Predictions []struct{ Class int }
				}
				if err := json.Unmarshal([]byte(out), &res); err != nil {
					t.Fatal(err)
				}
				right := 0
				for i, p := range res.Predictions {
					if p.Class == y[i] {
						right++
					}
				}
				acc := float64(right) / float64(len(y))
				if len(res.Predictions) != len(y) || acc != sum.TestAccuracy {
					t.Errorf("predict %s: %d predictions, accuracy %v; the run's test accuracy is %v", model, len(res.Predictions), acc, sum.TestAccuracy)
				}
				outs = append(outs, out[strings.Index(out, `"predictions"`):])
			}
			if len(outs) == 3 && (outs[0] != outs[1] || outs[0] != outs[2]) {
				t.Errorf("%s: predictions from the run, the ONNX file and the safetensors file differ", r.name)
			}
		}
	})

	t.Run("init", func(t *testing.T) {
		for _, src := range []string{"model.safetensors", "model.onnx"} {
			dir := filepath.Join(tmp, "init-"+src)
			code, _, errOut := runMain(t, "train", "--model", "cnn:c4,p,c8,p,f16", "--init", filepath.Join(tmp, "cnn", src),
				"--max-train", "2000", "--epochs", "0", "--quiet", "--out", dir)
			if code != 0 {
				t.Fatalf("train --init %s: exit %d: %s", src, code, errOut)
			}
			a, b := readSummary(t, filepath.Join(tmp, "cnn")).(map[string]any), readSummary(t, dir).(map[string]any)
			if a["test_accuracy"] != b["test_accuracy"] || a["test_loss"] != b["test_loss"] {
				t.Errorf("--init %s: accuracy/loss %v/%v, exported run's %v/%v", src, b["test_accuracy"], b["test_loss"], a["test_accuracy"], a["test_loss"])
			}
		}
	})

	t.Run("bad input", func(t *testing.T) {
		mlp, cnn := filepath.Join(tmp, "mlp"), filepath.Join(tmp, "cnn")
		onnx, _ := os.ReadFile(filepath.Join(cnn, "model.onnx"))
		st, _ := os.ReadFile(filepath.Join(cnn, "model.safetensors"))
		write := func(name string, b []byte) string {
			p := filepath.Join(tmp, name)
			os.WriteFile(p, b, 0o644)
			return p
		}
		truncOnnx := write("trunc.onnx", onnx[:len(onnx)-100])
		flipped := append([]byte(nil), onnx...)
		flipped[len(flipped)/3] ^= 0xff
		flipOnnx := write("flipped.onnx", flipped)
		truncST := write("trunc.safetensors", st[:len(st)-7])
		csv := write("short.csv", []byte("1,2,3\n4,5,6\n"))
		out := filepath.Join(tmp, "bad-run")
		cases := []struct {
			name string
			args []string
			want string
		}{
			{"truncated onnx", []string{"predict", truncOnnx, "--input", images}, "onnx"},
			{"bit flip onnx", []string{"predict", flipOnnx, "--input", images}, "onnx"},
			{"truncated safetensors", []string{"predict", truncST, "--input", images}, "safetensors"},
			{"input size", []string{"predict", mlp, "--input", csv}, "784"},
			{"missing input", []string{"predict", mlp}, "usage"},
			{"init mismatch", []string{"train", "--model", "mlp:64", "--init", filepath.Join(mlp, "model.safetensors"), "--out", out}, "shape"},
			{"init other arch", []string{"grow", "--model", "mlp:8", "--init", filepath.Join(cnn, "model.safetensors"), "--out", out}, "shape"},
			{"init corrupt", []string{"train", "--model", "cnn:c4,p,c8,p,f16", "--init", truncST, "--out", out}, "safetensors"},
			{"init corrupt onnx", []string{"train", "--model", "cnn:c4,p,c8,p,f16", "--init", truncOnnx, "--out", out}, "onnx"},
			{"bad opset", []string{"export", mlp, "--opset", "9"}, "opset"},
			{"bad format", []string{"export", mlp, "--format", "tflite"}, "tflite"},
			{"not a run", []string{"export", tmp}, "not a run directory"},
		}
		for _, c := range cases {
			code, _, errOut := runMain(t, c.args...)
			msg := strings.TrimRight(errOut, "\n")
			if code != 2 || strings.Count(msg, "\n") != 0 || !strings.Contains(msg, c.want) {
				t.Errorf("%s: want exit 2 and one line mentioning %q, got %d:\n%s", c.name, c.want, code, msg)
			}
		}
		if _, err := os.Stat(out); err == nil {
			t.Error("a refused --init left a run directory")
		}
	})
}

// TestExportRuns checks existing MNIST runs the way TestExport checks its
// small ones, on the first 1000 test images:
//
//	NADIR_EXPORT_RUNS="runs/train-1 runs/grow-1" go test ./cmd/nadir -run TestExportRuns -v
func TestExportRuns(t *testing.T) {
	env := os.Getenv("NADIR_EXPORT_RUNS")
	if env == "" {
		t.Skip("set NADIR_EXPORT_RUNS to run directories of MNIST runs")
	}
	mn, err := data.MNISTDir()
	if err != nil {
		t.Fatal(err)
	}
	var runs [][2]string
	for _, d := range strings.Fields(env) {
		runs = append(runs, [2]string{filepath.Base(d), d})
	}
	checkRuntimes(t, runs, filepath.Join(mn, "t10k-images-idx3-ubyte.gz"), 1000)
}

// checkRuntimes exports each run {name, dir} three ways (ONNX, ONNX with
// --fold-bn, safetensors) into a temporary directory and compares ONNX
// Runtime's and PyTorch's logits on the first n images with nadir's, and
// runs the ONNX checker on every ONNX file.
func checkRuntimes(t *testing.T, runs [][2]string, images string, n int) {
	var onnxCases, torchCases []rtcheck.Case
	var models []string
	tmp := t.TempDir()
	for _, r := range runs {
		name, dir := r[0], r[1]
		out := filepath.Join(tmp, name)
		os.MkdirAll(out, 0o755)
		for _, ex := range [][]string{{"--out", out + "/model.onnx"}, {"--fold-bn", "--out", out + "/folded.onnx"},
			{"--format", "safetensors", "--out", out + "/model.safetensors"}} {
			if code, _, errOut := runMain(t, append([]string{"export", dir}, ex...)...); code != 0 {
				t.Fatalf("export %s %v: exit %d: %s", name, ex, code, errOut)
			}
		}
		// nadir's logits on the first n test images, preprocessed as in training.
		net, info, err := loadRunModel(dir)
		if err != nil {
			t.Fatal(err)
		}
		x, _, err := export.ReadExamples(images, net.In)
		if err != nil {
			t.Fatal(err)
		}
		dim := tensor.Numel(net.In)
		x = x[:n*dim]
		if err := info.Pre.Apply(x, dim); err != nil {
			t.Fatal(err)
		}
		xt := &tensor.Tensor{Shape: append([]int{n}, net.In...), Data: x}
		y := net.Forward(xt, false)
		want := append([]float32(nil), y.Data[:y.Len()]...)
		in := filepath.Join(out, "input.f32")
		rtcheck.WriteF32(t, in, x)
		for _, m := range []string{"model", "folded"} {
			c := rtcheck.Case{Name: name + "/" + m + ".onnx", Want: want, Model: filepath.Join(out, m+".onnx"), Input: in,
				Shape: xt.Shape, Output: filepath.Join(out, m+".ort.f32")}
			onnxCases = append(onnxCases, c)
			models = append(models, c.Model)
		}
		torchCases = append(torchCases, rtcheck.Case{Name: name + "/model.safetensors", Want: want, File: filepath.Join(out, "model.safetensors"),
			Sidecar: filepath.Join(out, "model.json"), Input: in, Shape: xt.Shape, Output: filepath.Join(out, "torch.f32")})
	}
	t.Run("onnxruntime", func(t *testing.T) { rtcheck.ORT(t, onnxCases) })
	t.Run("checker", func(t *testing.T) { rtcheck.Checker(t, models) })
	t.Run("torch", func(t *testing.T) { rtcheck.Torch(t, torchCases) })
}

// An NPI run exports its encoder, LSTM core and heads in both formats.
func TestExportNPI(t *testing.T) {
	if testing.Short() {
		t.Skip("trains an NPI model")
	}
	dir := filepath.Join(t.TempDir(), "npi")
	if code, _, errOut := runMain(t, "npi", "train", "--task", "addition", "--epochs", "1", "--quiet", "--out", dir); code != 0 {
		t.Fatalf("npi train: exit %d: %s", code, errOut)
	}
	for _, f := range []string{"onnx", "safetensors"} {
		if code, _, errOut := runMain(t, "export", dir, "--format", f); code != 0 {
			t.Fatalf("export --format %s: exit %d: %s", f, code, errOut)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "model.onnx"))
	m, err := export.UnmarshalModel(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := export.CheckGraph(m); err != nil {
		t.Fatalf("structural check: %v", err)
	}
	b, _ = os.ReadFile(filepath.Join(dir, "model.safetensors"))
	ts, _, err := export.ReadSafetensors(b)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, x := range ts {
		names[x.Name] = true
	}
	for _, n := range []string{"core.weight_ih_l0", "core.weight_hh_l0", "core.bias_ih_l0", "core.bias_hh_l0", "encoder.0.weight", "prog_embed.weight", "prog_keys", "end.weight", "key.weight", "args.0.weight"} {
		if !names[n] {
			t.Errorf("tensor %s missing", n)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "model.json")); err != nil {
		t.Error(err)
	}
	rtcheck.Checker(t, []string{filepath.Join(dir, "model.onnx")}) // skips without python3-onnx
}

// A CSV run (per-feature normalisation, named classes): predict reads the
// same CSV, label column included, and the run directory and its ONNX
// export give the same predictions, named by the class labels, and agree
// with the labels on this separable table.
func TestPredictCSV(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a small run")
	}
	tmp := t.TempDir()
	var b strings.Builder
	b.WriteString("x1,x2,x3,kind\n")
	for i := range 300 {
		u, v := float64(i%17)*10, float64(i%7)-3 // features on different scales
		label := "low"
		if u+30*v > 80 {
			label = "high"
		}
		fmt.Fprintf(&b, "%g,%g,%g,%s\n", u, v, float64(i%5), label)
	}
	csv := filepath.Join(tmp, "t.csv")
	os.WriteFile(csv, []byte(b.String()), 0o644)
	dir := filepath.Join(tmp, "run")
	if code, _, errOut := runMain(t, "train", "--data", "csv:"+csv, "--model", "mlp:16", "--epochs", "30", "--quiet", "--out", dir); code != 0 {
		t.Fatalf("train: exit %d: %s", code, errOut)
	}
	if code, _, errOut := runMain(t, "export", dir); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	var outs []string
	for _, m := range []string{dir, dir + "/model.onnx"} {
		code, out, errOut := runMain(t, "predict", m, "--input", csv, "--json")
		if code != 0 {
			t.Fatalf("predict %s: exit %d: %s", m, code, errOut)
		}
		var res struct {
			Predictions []struct{ Name string }
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(b.String()), "\n")[1:]
		right := 0
		for i, p := range res.Predictions {
			if strings.HasSuffix(lines[i], ","+p.Name) {
				right++
			}
		}
		if len(res.Predictions) != 300 || right < 270 {
			t.Errorf("predict %s: %d predictions, %d match the labels", m, len(res.Predictions), right)
		}
		outs = append(outs, out[strings.Index(out, `"predictions"`):])
	}
	if outs[0] != outs[1] {
		t.Error("run directory and ONNX file predict differently")
	}
}
