// Package rtcheck runs files that package export wrote in the runtimes
// people use — ONNX Runtime (the npm package onnxruntime-node, driven by
// export/testdata/ort_check.js), Debian's ONNX checker (python3-onnx) and
// Debian's PyTorch (python3-torch) — and compares their outputs with
// nadir's. It serves the tests of export and cmd/nadir. Where a runtime is
// missing, the test skips with a message naming what to install (.ci/run
// installs all three).
package rtcheck

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Tolerance is the largest accepted max-abs difference of outputs: 1e-5,
// or for outputs larger than 10 a relative 1e-6 of the largest output.
// float32 sums of hundreds of products in different orders (nadir's GEMM,
// MLAS, PyTorch's BLAS) differ by a few units in the last place, and a
// unit in the last place of 16 is already 1.9e-6.
func Tolerance(want []float32) float64 {
	scale := 0.0
	for _, v := range want {
		scale = max(scale, math.Abs(float64(v)))
	}
	return max(1e-5, 1e-6*scale)
}

// Case is one model run on one input batch. Model is an ONNX file; File and
// Sidecar a safetensors file and its JSON sidecar. Input and Output are raw
// little-endian float32 files; Want is nadir's output.
type Case struct {
	Name    string    `json:"-"`
	Want    []float32 `json:"-"`
	Model   string    `json:"model,omitempty"`
	File    string    `json:"file,omitempty"`
	Sidecar string    `json:"sidecar,omitempty"`
	Input   string    `json:"input"`
	Shape   []int     `json:"shape"`
	Output  string    `json:"output"`
	NPI     bool      `json:"npi,omitempty"`
	// Inputs, when set, feed named graph inputs instead of Input; All
	// writes every graph output, concatenated in graph order.
	Inputs []Input `json:"inputs,omitempty"`
	All    bool    `json:"all,omitempty"`
}

// Input is one named graph input read from a raw float32 file.
type Input struct {
	Name  string `json:"name"`
	File  string `json:"file"`
	Shape []int  `json:"shape"`
}

// script is the path of a file in export/testdata.
func script(name string) string {
	_, f, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(f), "..", "..", "export", "testdata", name)
}

// ORTDir finds onnxruntime-node, or skips t: $NADIR_ORT_DIR, else
// $HOME/.cache/nadir-ort, holding node_modules/onnxruntime-node.
func ORTDir(t testing.TB) string {
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

// NeedPython skips t unless Debian's python3 imports every module.
func NeedPython(t testing.TB, modules ...string) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("skipped: /usr/bin/python3 is not installed")
	}
	imp := "import " + strings.Join(modules, ", ")
	if out, err := exec.Command("/usr/bin/python3", "-c", imp).CombinedOutput(); err != nil {
		t.Skipf("skipped: Debian python3 lacks %s (%s)", strings.Join(modules, ", "), LastLine(string(out)))
	}
}

// LastLine is the last non-empty line of s.
func LastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// WriteF32 writes raw little-endian float32.
func WriteF32(t testing.TB, path string, v []float32) {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// ReadF32 reads raw little-endian float32.
func ReadF32(t testing.TB, path string) []float32 {
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

// MaxAbsDiff is max |a−b| (huge when the lengths differ, NaN-sensitive).
func MaxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if d > m || d != d {
			m = d
		}
	}
	return m
}

func run(t testing.TB, env []string, cases []Case, cmd ...string) {
	t.Helper()
	manifest := filepath.Join(t.TempDir(), "manifest.json")
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

// ORT runs every case's Model in ONNX Runtime and compares the first output
// with Want; it returns the worst difference.
func ORT(t testing.TB, cases []Case) float64 {
	t.Helper()
	dir := ORTDir(t)
	run(t, []string{"NODE_PATH=" + filepath.Join(dir, "node_modules")}, cases, "node", script("ort_check.js"))
	return compare(t, "onnxruntime", cases)
}

// Torch loads every case's safetensors File into the module its Sidecar
// describes, in Debian's PyTorch, and compares its output with Want.
func Torch(t testing.TB, cases []Case) float64 {
	t.Helper()
	NeedPython(t, "torch", "numpy")
	run(t, nil, cases, "/usr/bin/python3", script("torch_check.py"))
	return compare(t, "torch", cases)
}

// Checker runs onnx.checker.check_model(full_check=True) and strict shape
// inference on every model file.
func Checker(t testing.TB, models []string) {
	t.Helper()
	NeedPython(t, "onnx")
	out, err := exec.Command("/usr/bin/python3", append([]string{script("onnx_check.py")}, models...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("onnx checker: %v\n%s", err, LastLine(string(out)))
	}
	if n := strings.Count(string(out), " ok "); n != len(models) {
		t.Fatalf("checker passed %d of %d models:\n%s", n, len(models), out)
	}
	t.Logf("onnx.checker.check_model(full_check=True) passed %d models", len(models))
}

func compare(t testing.TB, runtime string, cases []Case) float64 {
	t.Helper()
	worst := 0.0
	for _, c := range cases {
		d := MaxAbsDiff(ReadF32(t, c.Output), c.Want)
		worst = max(worst, d)
		scale := 0.0
		for _, v := range c.Want {
			scale = max(scale, math.Abs(float64(v)))
		}
		t.Logf("%s %-30s max |difference| %.2g (largest |output| %.3g)", runtime, c.Name, d, scale)
		if tol := Tolerance(c.Want); d > tol {
			t.Errorf("%s: %s differs from nadir by %g (> %g)", runtime, c.Name, d, tol)
		}
	}
	t.Logf("%s: %d models, worst max |difference| %.2g", runtime, len(cases), worst)
	return worst
}
