package export

import (
	"encoding/json"
	"fmt"

	"github.com/nadir-ml/nadir/npi"
)

// NPIONNX converts an NPI model's encoder, LSTM core and heads into an ONNX
// graph that runs one program invocation over a whole sequence of steps,
// from the zero state (as nadir starts every invocation):
//
//	inputs   x        [time, batch, din]   encoder input per step: the
//	                                       observation, then the previous
//	                                       call's program and arguments one-hot
//	         program  [time, batch, programs]  the running program, one-hot
//	e = tanh(…tanh(x·W₀ᵀ + b₀)…)           encoder (MatMul, Add, Tanh)
//	h = LSTM([e, program·prog_embed])      Concat, ONNX LSTM (gate rows
//	                                       reordered from nadir's i,f,g,o to
//	                                       ONNX's i,o,f,c; bias in Wb, Rb = 0)
//	outputs  hidden          [time, batch, H]
//	         end_logit       [time, batch, 1]      return when > 0
//	         program_scores  [time, batch, programs]  prog_keys · key(h)
//	         arg<s>_logits   [time, batch, vocab]  one per argument slot
func NPIONNX(m *npi.Model, opset int) (*Model, error) {
	if opset == 0 {
		opset = DefaultOpset
	}
	if err := CheckOpset(opset); err != nil {
		return nil, err
	}
	ps := map[string][2]int{}
	data := map[string][]float32{}
	for _, p := range m.Params() {
		ps[p.Name] = [2]int{p.Rows, p.Cols}
		data[p.Name] = p.Data
	}
	H, E, P := m.Config.Hidden, m.Config.Enc, m.Config.ProgEmbed
	din, nProg := ps["enc0.w"][1], ps["prog_embed"][0]
	b := &graphBuilder{}
	// transposed stores a Rows×Cols parameter as Cols×Rows for x·Wᵀ.
	transposed := func(name, param string) string {
		s := ps[param]
		t := make([]float32, len(data[param]))
		for r := 0; r < s[0]; r++ {
			for c := 0; c < s[1]; c++ {
				t[c*s[0]+r] = data[param][r*s[1]+c]
			}
		}
		return b.init(name, []int{s[1], s[0]}, t)
	}
	linear := func(x, name, param string) string {
		y := b.node("MatMul", name+".matmul", []string{x, transposed(name+".weight_t", param+".w")})
		return b.node("Add", name, []string{y, b.init(name+".bias", []int{ps[param+".b"][0]}, data[param+".b"])})
	}
	e := "x"
	for l := 0; l < m.Config.EncLayers; l++ {
		e = b.node("Tanh", fmt.Sprintf("encoder.%d.tanh", l), []string{linear(e, fmt.Sprintf("encoder.%d", l), fmt.Sprintf("enc%d", l))})
	}
	emb := b.node("MatMul", "prog_embed", []string{"program", b.init("prog_embed.weight", []int{nProg, P}, data["prog_embed"])})
	in := b.node("Concat", "core.input", []string{e, emb}, intAttr("axis", 2))
	// ONNX gate blocks i, o, f, c are nadir's blocks 0, 3, 1, 2.
	order := []int{0, 3, 1, 2}
	reorder := func(src []float32, cols int) []float32 {
		out := make([]float32, 0, len(src))
		for _, g := range order {
			out = append(out, src[g*H*cols:(g+1)*H*cols]...)
		}
		return out
	}
	w := b.init("core.W", []int{1, 4 * H, E + P}, reorder(data["core.wx"], E+P))
	r := b.init("core.R", []int{1, 4 * H, H}, reorder(data["core.wh"], H))
	bias := b.init("core.B", []int{1, 8 * H}, append(reorder(data["core.b"], 1), make([]float32, 4*H)...))
	y := b.node("LSTM", "core", []string{in, w, r, bias}, intAttr("hidden_size", int64(H)))
	var hidden string
	if opset >= 13 {
		axes := Tensor{Name: "core.squeeze_axes", Dims: []int64{1}, DataType: dtInt64, Int64s: []int64{1}}
		b.g.Initializers = append(b.g.Initializers, axes)
		hidden = b.node("Squeeze", "hidden", []string{y, axes.Name})
	} else {
		hidden = b.node("Squeeze", "hidden", []string{y}, intsAttr("axes", 1))
	}
	linear(hidden, "end_logit", "end")
	key := linear(hidden, "key", "key")
	b.node("MatMul", "program_scores", []string{key, transposed("prog_keys_t", "prog_keys")})
	outs := []ValueInfo{npiValue("hidden", H), npiValue("end_logit", 1), npiValue("program_scores", nProg)}
	for s := 0; ps[fmt.Sprintf("arg%d.w", s)][0] > 0; s++ {
		name := fmt.Sprintf("arg%d_logits", s)
		linear(hidden, name, fmt.Sprintf("arg%d", s))
		outs = append(outs, npiValue(name, ps[fmt.Sprintf("arg%d.w", s)][0]))
	}
	b.g.Name = "nadir_npi"
	b.g.Inputs = []ValueInfo{npiValue("x", din), npiValue("program", nProg)}
	b.g.Outputs = outs
	cj, _ := json.Marshal(m.Config)
	return &Model{
		IRVersion: irVersion(opset), Opsets: []OpsetID{{Version: int64(opset)}},
		Producer: "nadir", ProducerVersion: FormatVersion, Graph: b.g,
		Metadata: []KV{{"nadir.npi_config", string(cj)}, {MetaSHA256, weightsDigest(&b.g)}},
	}, nil
}

func npiValue(name string, last int) ValueInfo {
	return ValueInfo{Name: name, ElemType: dtFloat, Shape: []Dim{{Param: "time"}, {Param: "batch"}, {Value: int64(last)}}}
}
