package export

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/nadir-ml/nadir/internal/rtcheck"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/npi"
	"github.com/nadir-ml/nadir/tensor"
)

// The tests in this file run the exported test networks in ONNX Runtime,
// the ONNX checker and PyTorch (see rtcheck); each skips with a message
// where its runtime is missing.

// onnxCases exports every test network (plain and BN-folded at the default
// opset; the hand-built net at every opset) with its input and nadir's
// output (of the unfolded network).
func onnxCases(t *testing.T, dir string) []rtcheck.Case {
	var cases []rtcheck.Case
	for _, tn := range testNets(t) {
		x := testInput(tn.net, 4)
		want := forward(tn.net, x)
		for opset := MinOpset; opset <= MaxOpset; opset++ {
			for _, fold := range []bool{false, true} {
				if opset != DefaultOpset && (fold || tn.name != "hand-built") || fold && !hasBN(tn.net) {
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
				c := rtcheck.Case{Name: name, Want: want, Model: filepath.Join(dir, name+".onnx"), Input: filepath.Join(dir, name+".in"),
					Output: filepath.Join(dir, name+".out"), Shape: x.Shape}
				if err := os.WriteFile(c.Model, b, 0o644); err != nil {
					t.Fatal(err)
				}
				rtcheck.WriteF32(t, c.Input, x.Data[:x.Len()])
				cases = append(cases, c)
			}
		}
	}
	return cases
}

func hasBN(n *nn.Net) bool {
	for _, l := range n.Layers {
		if l.Spec().Kind == "batchnorm" {
			return true
		}
	}
	return false
}

func TestONNXRuntime(t *testing.T) {
	rtcheck.ORTDir(t)
	rtcheck.ORT(t, onnxCases(t, t.TempDir()))
}

func TestONNXChecker(t *testing.T) {
	rtcheck.NeedPython(t, "onnx")
	var models []string
	for _, c := range onnxCases(t, t.TempDir()) {
		models = append(models, c.Model)
	}
	rtcheck.Checker(t, models)
}

func TestTorch(t *testing.T) {
	rtcheck.NeedPython(t, "torch", "numpy")
	dir := t.TempDir()
	var cases []rtcheck.Case
	for _, tn := range testNets(t) {
		x := testInput(tn.net, 4)
		file, sidecar, err := NetSafetensors(tn.net, Info{})
		if err != nil {
			t.Fatal(err)
		}
		c := rtcheck.Case{Name: tn.name, Want: forward(tn.net, x), File: filepath.Join(dir, tn.name+".safetensors"),
			Sidecar: filepath.Join(dir, tn.name+".json"), Input: filepath.Join(dir, tn.name+".in"),
			Output: filepath.Join(dir, tn.name+".out"), Shape: x.Shape}
		writeFile(t, c.File, file)
		writeFile(t, c.Sidecar, sidecar)
		rtcheck.WriteF32(t, c.Input, x.Data[:x.Len()])
		cases = append(cases, c)
	}
	cases = append(cases, npiCase(t, dir))
	rtcheck.Torch(t, cases)
}

func writeFile(t *testing.T, path string, b []byte) {
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// npiCase exports an NPI model and computes, with nadir's own LSTM and the
// model's head parameters, what torch_check.py computes: the core's hidden
// states over a sequence, then the end, key and argument heads on the last.
func npiCase(t *testing.T, dir string) rtcheck.Case {
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
	c := rtcheck.Case{Name: "npi-addition", NPI: true, Want: want, File: filepath.Join(dir, "npi.safetensors"),
		Sidecar: filepath.Join(dir, "npi.json"), Input: filepath.Join(dir, "npi.in"), Output: filepath.Join(dir, "npi.out"),
		Shape: []int{T, 1, core.In}}
	writeFile(t, c.File, file)
	writeFile(t, c.Sidecar, sidecar)
	rtcheck.WriteF32(t, c.Input, x)
	return c
}

// npiGraphCase exports an NPI model as ONNX and computes with nadir's own
// parts (the model's parameters, nn.LSTM) what the graph computes: per
// step the encoder, the program embedding, the core over the sequence from
// the zero state, and the heads, for N sequences of T steps.
func npiGraphCase(t *testing.T, dir string, opset int) (rtcheck.Case, *Model) {
	task, err := npi.NewTask("bubblesort", true)
	if err != nil {
		t.Fatal(err)
	}
	cfg := npi.DefaultModelConfig("bubblesort", true)
	cfg.EncLayers = 2
	m, err := npi.NewModel(task, cfg, rand.New(rand.NewPCG(6, 6)))
	if err != nil {
		t.Fatal(err)
	}
	ps := map[string]*nn.Param{}
	for _, p := range m.Params() {
		ps[p.Name] = p
	}
	const T, N = 4, 3
	din, nProg, E, P := ps["enc0.w"].Cols, ps["prog_embed"].Rows, cfg.Enc, cfg.ProgEmbed
	r := rand.New(rand.NewPCG(2, 2))
	x := make([]float32, T*N*din)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	prog := make([]float32, T*N*nProg)
	for i := 0; i < T*N; i++ {
		prog[i*nProg+(i%N)%nProg] = 1 // sequence n runs program n
	}
	lin := func(w, b *nn.Param, v []float32) []float32 {
		out := make([]float32, w.Rows)
		for o := range out {
			out[o] = b.Data[o] + tensor.Dot(w.Data[o*w.Cols:(o+1)*w.Cols], v)
		}
		return out
	}
	core := &nn.LSTM{In: E + P, Hidden: cfg.Hidden, Wx: ps["core.wx"], Wh: ps["core.wh"], B: ps["core.b"]}
	coreIn := make([]float32, 0, T*N*(E+P))
	for i := 0; i < T*N; i++ {
		e := x[i*din : (i+1)*din]
		for l := 0; l < cfg.EncLayers; l++ {
			e = lin(ps[fmt.Sprintf("enc%d.w", l)], ps[fmt.Sprintf("enc%d.b", l)], e)
			for j := range e {
				e[j] = float32(math.Tanh(float64(e[j])))
			}
		}
		coreIn = append(coreIn, e...)
		p := (i % N) % nProg
		coreIn = append(coreIn, ps["prog_embed"].Data[p*P:(p+1)*P]...)
	}
	var cache nn.LSTMCache
	H := cfg.Hidden
	hs := core.Forward(&cache, coreIn, T, N, nil, nil)
	want := append([]float32(nil), hs[:T*N*H]...)
	heads := [][]float32{nil, nil}
	var args [][]float32
	for i := 0; i < T*N; i++ {
		h := hs[i*H : (i+1)*H]
		heads[0] = append(heads[0], lin(ps["end.w"], ps["end.b"], h)...)
		key := lin(ps["key.w"], ps["key.b"], h)
		for p := 0; p < nProg; p++ {
			K := cfg.KeyDim
			heads[1] = append(heads[1], tensor.Dot(ps["prog_keys"].Data[p*K:(p+1)*K], key))
		}
		for s := 0; ps[fmt.Sprintf("arg%d.w", s)] != nil; s++ {
			if len(args) <= s {
				args = append(args, nil)
			}
			args[s] = append(args[s], lin(ps[fmt.Sprintf("arg%d.w", s)], ps[fmt.Sprintf("arg%d.b", s)], h)...)
		}
	}
	want = append(append(want, heads[0]...), heads[1]...)
	for _, a := range args {
		want = append(want, a...)
	}
	model, err := NPIONNX(m, opset)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("npi-bubblesort-opset%d", opset)
	c := rtcheck.Case{Name: name, Want: want, Model: filepath.Join(dir, name+".onnx"), Output: filepath.Join(dir, name+".out"), All: true,
		Inputs: []rtcheck.Input{{Name: "x", File: filepath.Join(dir, name+".x"), Shape: []int{T, N, din}},
			{Name: "program", File: filepath.Join(dir, name+".p"), Shape: []int{T, N, nProg}}}}
	writeFile(t, c.Model, model.Marshal())
	rtcheck.WriteF32(t, c.Inputs[0].File, x)
	rtcheck.WriteF32(t, c.Inputs[1].File, prog)
	return c, model
}

func TestNPIONNX(t *testing.T) {
	dir := t.TempDir()
	var cases []rtcheck.Case
	for _, opset := range []int{MinOpset, DefaultOpset, MaxOpset} {
		c, m := npiGraphCase(t, dir, opset)
		if err := CheckGraph(m); err != nil {
			t.Fatalf("opset %d: structural check: %v", opset, err)
		}
		cases = append(cases, c)
	}
	t.Run("checker", func(t *testing.T) {
		var models []string
		for _, c := range cases {
			models = append(models, c.Model)
		}
		rtcheck.Checker(t, models)
	})
	t.Run("onnxruntime", func(t *testing.T) { rtcheck.ORT(t, cases) })
}
