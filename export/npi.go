package export

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/nadir-ml/nadir/npi"
)

// NPISafetensors encodes an NPI model's encoder, LSTM core and heads under
// the names of this torch module (the sidecar describes it):
//
//	encoder    Sequential(Linear(din, E), Tanh, Linear(E, E), Tanh, ...)
//	prog_embed Embedding(programs, P)
//	core       LSTM(E+P, H): weight_ih_l0, weight_hh_l0, bias_ih_l0 (nadir's
//	           bias), bias_hh_l0 (zeros); gate order i, f, g, o in both
//	end        Linear(H, 1)       return logit
//	key        Linear(H, K)       program key; scores = prog_keys · key
//	prog_keys  Parameter(programs, K)
//	args       ModuleList(Linear(H, vocab) per argument slot)
func NPISafetensors(m *npi.Model) (file, sidecar []byte, err error) {
	var ts []STensor
	shapes := map[string][2]int{}
	var encLayers, argSlots int
	H := m.Config.Hidden
	for _, p := range m.Params() {
		shapes[p.Name] = [2]int{p.Rows, p.Cols}
		var name string
		switch {
		case strings.HasPrefix(p.Name, "enc"):
			l, kind, ok := layerName(p.Name, "enc")
			if !ok {
				return nil, nil, fmt.Errorf("npi: unexpected parameter %q", p.Name)
			}
			encLayers = max(encLayers, l+1)
			name = fmt.Sprintf("encoder.%d.%s", 2*l, kind)
		case strings.HasPrefix(p.Name, "arg"):
			s, kind, ok := layerName(p.Name, "arg")
			if !ok {
				return nil, nil, fmt.Errorf("npi: unexpected parameter %q", p.Name)
			}
			argSlots = max(argSlots, s+1)
			name = fmt.Sprintf("args.%d.%s", s, kind)
		case p.Name == "prog_embed":
			name = "prog_embed.weight"
		case p.Name == "prog_keys":
			name = "prog_keys"
		case p.Name == "core.wx":
			name = "core.weight_ih_l0"
		case p.Name == "core.wh":
			name = "core.weight_hh_l0"
		case p.Name == "core.b":
			ts = append(ts, F32Tensor("core.bias_ih_l0", []int{p.Rows}, p.Data), F32Tensor("core.bias_hh_l0", []int{p.Rows}, make([]float32, p.Rows)))
			continue
		case p.Name == "end.w" || p.Name == "key.w":
			name = strings.TrimSuffix(p.Name, ".w") + ".weight"
		case p.Name == "end.b" || p.Name == "key.b":
			name = strings.TrimSuffix(p.Name, ".b") + ".bias"
		default:
			return nil, nil, fmt.Errorf("npi: unexpected parameter %q", p.Name)
		}
		shape := []int{p.Rows, p.Cols}
		if p.Cols == 1 && strings.HasSuffix(name, "bias") {
			shape = []int{p.Rows}
		}
		ts = append(ts, F32Tensor(name, shape, p.Data))
	}
	cj, _ := json.Marshal(m.Config)
	file, err = WriteSafetensors(ts, map[string]string{STMetaFormat: "pt", "nadir.npi_config": string(cj)})
	if err != nil {
		return nil, nil, err
	}
	din, E := shapes["enc0.w"][1], m.Config.Enc
	var enc []Module
	for l := range encLayers {
		in := E
		if l == 0 {
			in = din
		}
		enc = append(enc, Module{"Linear", map[string]any{"in_features": in, "out_features": E}, nil}, Module{Type: "Tanh"})
	}
	vocab := shapes["arg0.w"][0]
	var args []Module
	for range argSlots {
		args = append(args, Module{"Linear", map[string]any{"in_features": H, "out_features": vocab}, nil})
	}
	nProg := shapes["prog_embed"][0]
	sc := Sidecar{Format: SidecarFormat, Kind: "npi", NPI: cj,
		Modules: map[string]Module{
			"encoder":    {Type: "Sequential", Modules: enc},
			"prog_embed": {"Embedding", map[string]any{"num_embeddings": nProg, "embedding_dim": m.Config.ProgEmbed}, nil},
			"core":       {"LSTM", map[string]any{"input_size": E + m.Config.ProgEmbed, "hidden_size": H}, nil},
			"end":        {"Linear", map[string]any{"in_features": H, "out_features": 1}, nil},
			"key":        {"Linear", map[string]any{"in_features": H, "out_features": m.Config.KeyDim}, nil},
			"args":       {Type: "ModuleList", Modules: args},
		},
		Parameters: map[string][]int{"prog_keys": {nProg, m.Config.KeyDim}},
	}
	sidecar, err = json.MarshalIndent(sc, "", " ")
	return file, sidecar, err
}

// layerName splits "enc3.w" into 3, "weight".
func layerName(s, prefix string) (int, string, bool) {
	num, kind, ok := strings.Cut(strings.TrimPrefix(s, prefix), ".")
	n, err := strconv.Atoi(num)
	if !ok || err != nil {
		return 0, "", false
	}
	switch kind {
	case "w":
		return n, "weight", true
	case "b":
		return n, "bias", true
	}
	return 0, "", false
}
