package export

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/npi"
	"github.com/nadir-ml/nadir/tensor"
)

// The checks in this file run the exported files in the runtimes people
// use: ONNX Runtime (the npm package onnxruntime-node, driven by
// testdata/ort_check.js), Debian's ONNX checker (python3-onnx) and Debian's
// PyTorch (python3-torch). Where a runtime is missing they skip with a
// message saying what to install; .ci/run installs them.

// tolerance is the largest accepted max-abs difference of logits.
const tolerance = 1e-5

// ortDir finds onnxruntime-node: $NADIR_ORT_DIR, else
// $HOME/.cache/nadir-ort (where .ci/run installs it), holding
// node_modules/onnxruntime-node.
func ortDir(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("ONNX Runtime check skipped: node is not installed")
	}
	dir := os.Getenv("NADIR_ORT_DIR")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "nadir-ort")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node", "package.json")); err != nil {
		t.Skipf("ONNX Runtime check skipped: onnxruntime-node not found in %s (npm install --ignore-scripts onnxruntime-node there, or set NADIR_ORT_DIR)", dir)
	}
	return dir
}

func needPython(t *testing.T, modules ...string) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("skipped: /usr/bin/python3 is not installed")
	}
	imp := "import " + strings.Join(modules, ", ")
	if out, err := exec.Command("/usr/bin/python3", "-c", imp).CombinedOutput(); err != nil {
		t.Skipf("skipped: Debian python3 lacks %s (%s)", strings.Join(modules, ", "), strings.TrimSpace(lastLine(string(out))))
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func writeF32(t *testing.T, path string, v []float32) {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readF32(t *testing.T, path string) []float32 {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

type runCase struct {
	Model   string `json:"model,omitempty"`
	File    string `json:"file,omitempty"`
	Sidecar string `json:"sidecar,omitempty"`
	Input   string `json:"input"`
	Shape   []int  `json:"shape"`
	Output  string `json:"output"`
	NPI     bool   `json:"npi,omitempty"`

	name string
	want []float32
}

func runScript(t *testing.T, env []string, cases []runCase, cmd ...string) {
	t.Helper()
	dir := t.TempDir()
	manifest := filepath.Join(dir, "manifest.json")
	b, _ := json.Marshal(cases)
	if err := os.WriteFile(manifest, b, 0o644); err != nil {
		t.Fatal(err)
	}
	c := exec.Command(cmd[0], append(cmd[1:], manifest)...)
	c.Env = append(os.Environ(), env...)
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd, " "), err, out)
	}
}

// onnxCases exports every test network (plain and BN-folded at the default
// opset; the hand-built net at every opset) with its input and nadir's
// output.
func onnxCases(t *testing.T, dir string) []runCase {
	var cases []runCase
	for _, tn := range testNets(t) {
		x := testInput(tn.net, 4)
		want := forward(tn.net, x)
		for opset := MinOpset; opset <= MaxOpset; opset++ {
			for _, fold := range []bool{false, true} {
				if opset != DefaultOpset && (fold || tn.name != "hand-built") {
					continue
				}
				name := fmt.Sprintf("%s-opset%d", tn.name, opset)
				if fold {
					name += "-foldbn"
				}
				b, err := WriteONNX(tn.net, ONNXOptions{Opset: opset, FoldBN: fold})
				if err != nil {
					t.Fatal(err)
				}
				c := runCase{name: name, want: want, Model: filepath.Join(dir, name+".onnx"), Input: filepath.Join(dir, name+".in"),
					Output: filepath.Join(dir, name+".out"), Shape: x.Shape}
				if err := os.WriteFile(c.Model, b, 0o644); err != nil {
					t.Fatal(err)
				}
				writeF32(t, c.Input, x.Data[:x.Len()])
				cases = append(cases, c)
			}
		}
	}
	return cases
}

func compare(t *testing.T, runtime string, cases []runCase) {
	t.Helper()
	worst := 0.0
	for _, c := range cases {
		got := readF32(t, c.Output)
		d := maxAbsDiff(got, c.want)
		worst = max(worst, d)
		t.Logf("%s %-28s max |logit difference| %.2g", runtime, c.name, d)
		if d > tolerance {
			t.Errorf("%s: %s differs from nadir by %g (> %g)", runtime, c.name, d, tolerance)
		}
	}
	t.Logf("%s: %d networks, worst max |difference| %.2g", runtime, len(cases), worst)
}

func TestONNXRuntime(t *testing.T) {
	dir := ortDir(t)
	cases := onnxCases(t, t.TempDir())
	script, _ := filepath.Abs(filepath.Join("testdata", "ort_check.js"))
	runScript(t, []string{"NODE_PATH=" + filepath.Join(dir, "node_modules")}, cases, "node", script)
	compare(t, "onnxruntime", cases)
}

func TestONNXChecker(t *testing.T) {
	needPython(t, "onnx")
	cases := onnxCases(t, t.TempDir())
	args := []string{filepath.Join("testdata", "onnx_check.py")}
	for _, c := range cases {
		args = append(args, c.Model)
	}
	out, err := exec.Command("/usr/bin/python3", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("onnx checker: %v\n%s", err, lastLine(string(out)))
	}
	if n := strings.Count(string(out), " ok "); n != len(cases) {
		t.Fatalf("checker passed %d of %d models:\n%s", n, len(cases), out)
	}
	t.Logf("onnx.checker.check_model(full_check=True) passed %d models", len(cases))
}

func TestTorch(t *testing.T) {
	needPython(t, "torch", "numpy")
	dir := t.TempDir()
	var cases []runCase
	for _, tn := range testNets(t) {
		x := testInput(tn.net, 4)
		file, sidecar, err := NetSafetensors(tn.net, Info{})
		if err != nil {
			t.Fatal(err)
		}
		c := runCase{name: tn.name, want: forward(tn.net, x), File: filepath.Join(dir, tn.name+".safetensors"),
			Sidecar: filepath.Join(dir, tn.name+".json"), Input: filepath.Join(dir, tn.name+".in"),
			Output: filepath.Join(dir, tn.name+".out"), Shape: x.Shape}
		os.WriteFile(c.File, file, 0o644)
		os.WriteFile(c.Sidecar, sidecar, 0o644)
		writeF32(t, c.Input, x.Data[:x.Len()])
		cases = append(cases, c)
	}
	cases = append(cases, npiCase(t, dir))
	runScript(t, nil, cases, "/usr/bin/python3", filepath.Join("testdata", "torch_check.py"))
	compare(t, "torch", cases)
}

// npiCase exports an NPI model and computes, with nadir's own LSTM and the
// model's head parameters, what torch_check.py computes: the core's hidden
// states over a sequence, then the end, key and argument heads on the last.
func npiCase(t *testing.T, dir string) runCase {
	task, err := npi.NewTask("addition", true)
	if err != nil {
		t.Fatal(err)
	}
	m, err := npi.NewModel(task, npi.DefaultModelConfig("addition", true), rand.New(rand.NewPCG(5, 5)))
	if err != nil {
		t.Fatal(err)
	}
	ps := map[string]*nn.Param{}
	for _, p := range m.Params() {
		ps[p.Name] = p
	}
	core := &nn.LSTM{In: ps["core.wx"].Cols, Hidden: m.Config.Hidden, Wx: ps["core.wx"], Wh: ps["core.wh"], B: ps["core.b"]}
	const T = 5
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, T*core.In)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	var cache nn.LSTMCache
	H := core.Hidden
	hs := core.Forward(&cache, x, T, 1, make([]float32, H), make([]float32, H))
	want := append([]float32(nil), hs[:T*H]...)
	h := want[(T-1)*H:]
	head := func(w, b *nn.Param) {
		for o := 0; o < w.Rows; o++ {
			want = append(want, b.Data[o]+tensor.Dot(w.Data[o*w.Cols:(o+1)*w.Cols], h))
		}
	}
	head(ps["end.w"], ps["end.b"])
	head(ps["key.w"], ps["key.b"])
	for s := 0; ps[fmt.Sprintf("arg%d.w", s)] != nil; s++ {
		head(ps[fmt.Sprintf("arg%d.w", s)], ps[fmt.Sprintf("arg%d.b", s)])
	}
	file, sidecar, err := NPISafetensors(m)
	if err != nil {
		t.Fatal(err)
	}
	c := runCase{name: "npi-addition", NPI: true, want: want, File: filepath.Join(dir, "npi.safetensors"),
		Sidecar: filepath.Join(dir, "npi.json"), Input: filepath.Join(dir, "npi.in"), Output: filepath.Join(dir, "npi.out"),
		Shape: []int{T, 1, core.In}}
	os.WriteFile(c.File, file, 0o644)
	os.WriteFile(c.Sidecar, sidecar, 0o644)
	writeF32(t, c.Input, x)
	return c
}
