package export

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/nadir-ml/nadir/nn"
)

// Sidecar is the JSON file written next to a safetensors file: the torch
// module the tensors load into. Every module is {type, args} with type a
// torch.nn class and args its constructor's keyword arguments, or a
// container (Sequential, ModuleList) with child modules; Modules maps the
// root module's attribute names to them. A loader builds the root as
//
//	root = torch.nn.Module()
//	for name, m in sidecar["modules"].items(): setattr(root, name, build(m))
//	for name, shape in sidecar["parameters"].items(): register a Parameter
//	root.load_state_dict(tensors, strict=True)
//
// (export/testdata/torch_check.py is such a loader). nadir networks use one
// Sequential named "layers", so tensor names are layers.<i>.weight, as in
// PyTorch's state_dict.
type Sidecar struct {
	Format     string            `json:"format"`
	Kind       string            `json:"kind"` // "net" or "npi"
	InputShape []int             `json:"input_shape,omitempty"`
	Modules    map[string]Module `json:"modules"`
	Parameters map[string][]int  `json:"parameters,omitempty"`
	Info       *Info             `json:"info,omitempty"`
	Spec       *nn.NetSpec       `json:"nadir_spec,omitempty"`
	NPI        json.RawMessage   `json:"npi_config,omitempty"`
}

// SidecarFormat names the sidecar's schema.
const SidecarFormat = "nadir-torch/1"

// Module is one torch module of a Sidecar.
type Module struct {
	Type    string         `json:"type"`
	Args    map[string]any `json:"args,omitempty"`
	Modules []Module       `json:"modules,omitempty"`
}

// Safetensors metadata keys.
const (
	STMetaFormat = "format" // "pt", as PyTorch's writers set it
	STMetaSpec   = "nadir.spec"
	STMetaInfo   = "nadir.info"
)

// TorchTensors lists a network's parameters and BatchNorm statistics under
// PyTorch state_dict names, in layer order, with PyTorch's shapes (conv
// weights out×in/groups×k×k; BatchNorm also has num_batches_tracked, an
// int64 scalar nadir does not track, written as 0).
func TorchTensors(net *nn.Net) ([]STensor, error) {
	var ts []STensor
	for i, l := range net.Layers {
		sp := l.Spec()
		pre := "layers." + strconv.Itoa(i) + "."
		switch sp.Kind {
		case "dense":
			d := l.(*nn.Dense)
			ts = append(ts, F32Tensor(pre+"weight", []int{d.W.Rows, d.W.Cols}, d.W.Data))
			if d.B != nil {
				ts = append(ts, F32Tensor(pre+"bias", []int{d.B.Rows}, d.B.Data))
			}
		case "conv2d":
			c := l.(*nn.Conv2D)
			ts = append(ts, F32Tensor(pre+"weight", []int{sp.Out, sp.In[0] / max(sp.Groups, 1), sp.Kernel, sp.Kernel}, c.W.Data))
			if c.B != nil {
				ts = append(ts, F32Tensor(pre+"bias", []int{c.B.Rows}, c.B.Data))
			}
		case "batchnorm":
			b := l.(*nn.BatchNorm)
			c := []int{b.Gamma.Rows}
			ts = append(ts, F32Tensor(pre+"weight", c, b.Gamma.Data), F32Tensor(pre+"bias", c, b.Beta.Data),
				F32Tensor(pre+"running_mean", c, b.RunMean), F32Tensor(pre+"running_var", c, b.RunVar),
				STensor{Name: pre + "num_batches_tracked", DType: "I64", Shape: []int{}, Data: make([]byte, 8)})
		default:
			if len(l.Params()) > 0 {
				return nil, fmt.Errorf("layer %d: kind %q has parameters but no PyTorch form", i, sp.Kind)
			}
		}
	}
	return ts, nil
}

// TorchModules describes the torch.nn.Sequential equivalent to net.
func TorchModules(net *nn.Net) ([]Module, error) {
	var ms []Module
	for i, l := range net.Layers {
		sp := l.Spec()
		var m Module
		switch sp.Kind {
		case "dense":
			m = Module{"Linear", map[string]any{"in_features": sp.In[0], "out_features": sp.Out, "bias": sp.Bias}, nil}
		case "conv2d":
			m = Module{"Conv2d", map[string]any{"in_channels": sp.In[0], "out_channels": sp.Out, "kernel_size": sp.Kernel,
				"stride": max(sp.Stride, 1), "padding": sp.Pad, "groups": max(sp.Groups, 1), "bias": sp.Bias}, nil}
		case "batchnorm":
			t := "BatchNorm1d"
			if len(sp.In) == 3 {
				t = "BatchNorm2d"
			}
			m = Module{t, map[string]any{"num_features": sp.In[0], "eps": sp.Eps, "momentum": sp.Moment}, nil}
		case "act":
			a := l.(*nn.Act).A
			switch a.Kind {
			case nn.ReLU:
				m = Module{Type: "ReLU"}
			case nn.Tanh:
				m = Module{Type: "Tanh"}
			case nn.Sigmoid:
				m = Module{Type: "Sigmoid"}
			case nn.Identity:
				m = Module{Type: "Identity"}
			case nn.Swish:
				m = Module{Type: "SiLU"}
			case nn.LeakyReLU:
				m = Module{"LeakyReLU", map[string]any{"negative_slope": a.Beta}, nil}
			case nn.Softplus:
				// torch's threshold 20 is nadir's: βx > 20 returns x.
				m = Module{"Softplus", map[string]any{"beta": a.Beta, "threshold": 20}, nil}
			default:
				return nil, fmt.Errorf("layer %d: activation %v has no PyTorch form", i, a)
			}
		case "maxpool":
			m = Module{"MaxPool2d", map[string]any{"kernel_size": sp.Kernel, "stride": max(sp.Stride, 1)}, nil}
		case "avgpool":
			m = Module{"AvgPool2d", map[string]any{"kernel_size": sp.Kernel, "stride": max(sp.Stride, 1)}, nil}
		case "gap":
			m = Module{Type: "Sequential", Modules: []Module{{"AdaptiveAvgPool2d", map[string]any{"output_size": 1}, nil}, {Type: "Flatten"}}}
		case "flatten":
			m = Module{Type: "Flatten"}
		case "dropout":
			m = Module{"Dropout", map[string]any{"p": sp.Rate}, nil}
		default:
			return nil, fmt.Errorf("layer %d: kind %q has no PyTorch form", i, sp.Kind)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// NetSafetensors encodes net's tensors with its spec and info as metadata,
// and returns the sidecar JSON too.
func NetSafetensors(net *nn.Net, info Info) (file, sidecar []byte, err error) {
	ts, err := TorchTensors(net)
	if err != nil {
		return nil, nil, err
	}
	mods, err := TorchModules(net)
	if err != nil {
		return nil, nil, err
	}
	spec := net.Spec()
	sj, _ := json.Marshal(spec)
	ij, _ := json.Marshal(info)
	file, err = WriteSafetensors(ts, map[string]string{STMetaFormat: "pt", STMetaSpec: string(sj), STMetaInfo: string(ij)})
	if err != nil {
		return nil, nil, err
	}
	sc := Sidecar{Format: SidecarFormat, Kind: "net", InputShape: slices.Clone(net.In),
		Modules: map[string]Module{"layers": {Type: "Sequential", Modules: mods}}, Info: &info, Spec: &spec}
	sidecar, err = json.MarshalIndent(sc, "", " ")
	return file, sidecar, err
}

// LoadTorchTensors copies tensors (as TorchTensors names them) into net's
// parameters and BatchNorm statistics. Every tensor the network needs must
// be present with its exact shape, and the file may hold no others; a
// mismatch is one error line naming the first offending tensor.
func LoadTorchTensors(net *nn.Net, tensors []STensor) error {
	want, err := TorchTensors(net)
	if err != nil {
		return err
	}
	have := map[string]*STensor{}
	for i := range tensors {
		have[tensors[i].Name] = &tensors[i]
	}
	vals := map[string][]float32{}
	for _, w := range want {
		t, ok := have[w.Name]
		if !ok {
			return fmt.Errorf("tensor %s missing (the file does not fit this architecture)", w.Name)
		}
		delete(have, w.Name)
		if !slices.Equal(t.Shape, w.Shape) {
			return fmt.Errorf("tensor %s has shape %v, the network's is %v", w.Name, t.Shape, w.Shape)
		}
		if w.DType == "I64" {
			if t.DType != "I64" {
				return fmt.Errorf("tensor %s has dtype %s, want I64", w.Name, t.DType)
			}
			continue
		}
		v, err := t.Float32s()
		if err != nil {
			return err
		}
		vals[w.Name] = v
	}
	for name := range have {
		return fmt.Errorf("tensor %s is not part of this network", name)
	}
	for i, l := range net.Layers {
		pre := "layers." + strconv.Itoa(i) + "."
		switch l.Spec().Kind {
		case "dense", "conv2d":
			ps := l.Params()
			copy(ps[0].Data, vals[pre+"weight"])
			if len(ps) > 1 {
				copy(ps[1].Data, vals[pre+"bias"])
			}
		case "batchnorm":
			b := l.(*nn.BatchNorm)
			copy(b.Gamma.Data, vals[pre+"weight"])
			copy(b.Beta.Data, vals[pre+"bias"])
			copy(b.RunMean, vals[pre+"running_mean"])
			copy(b.RunVar, vals[pre+"running_var"])
		}
	}
	return nil
}

// ReadNetSafetensors rebuilds a network from a safetensors file that
// NetSafetensors wrote (architecture from its nadir.spec metadata).
func ReadNetSafetensors(b []byte) (*nn.Net, Info, error) {
	ts, meta, err := ReadSafetensors(b)
	if err != nil {
		return nil, Info{}, err
	}
	var spec nn.NetSpec
	if err := json.Unmarshal([]byte(meta[STMetaSpec]), &spec); err != nil {
		return nil, Info{}, fmt.Errorf("safetensors: no nadir architecture in the metadata (%s)", STMetaSpec)
	}
	var info Info
	if s, ok := meta[STMetaInfo]; ok {
		if err := json.Unmarshal([]byte(s), &info); err != nil {
			return nil, Info{}, fmt.Errorf("safetensors: %s: %v", STMetaInfo, err)
		}
	}
	values := 0
	for _, t := range ts {
		if n, ok := numel(t.Shape); ok {
			values += n
		}
	}
	net, err := buildSpec(spec, values)
	if err != nil {
		return nil, Info{}, err
	}
	if err := LoadTorchTensors(net, ts); err != nil {
		return nil, Info{}, err
	}
	return net, info, nil
}

// buildSpec builds a network from an untrusted spec whose file carries
// values floats: a spec needing more parameters than that cannot load, and
// is refused before Build allocates them.
func buildSpec(spec nn.NetSpec, values int) (net *nn.Net, err error) {
	need := 0
	for i, ls := range spec.Layers {
		n, ok := specParams(ls)
		if !ok || n > values || need+n > values {
			return nil, fmt.Errorf("layer %d: the architecture needs more parameters than the file holds", i)
		}
		need += n
	}
	if len(spec.In) == 0 || len(spec.Layers) == 0 {
		return nil, fmt.Errorf("empty architecture")
	}
	defer func() {
		// Build's constructors assume consistent specs; a crafted one that
		// slips past their checks must still not crash the reader.
		if r := recover(); r != nil {
			net, err = nil, fmt.Errorf("inconsistent architecture: %v", r)
		}
	}()
	return nn.Build(spec, nil)
}

// specParams is the number of values Build allocates for a layer's
// parameters and buffers (false on nonsense sizes).
func specParams(ls nn.LayerSpec) (int, bool) {
	for _, d := range ls.In {
		if d < 0 || d > math.MaxInt32 {
			return 0, false
		}
	}
	mul := func(v ...int) (int, bool) {
		n := 1
		for _, d := range v {
			if d < 0 || (d > 0 && n > math.MaxInt32/d) {
				return 0, false
			}
			n *= d
		}
		return n, true
	}
	bias := 0
	if ls.Bias {
		bias = max(ls.Out, 0)
	}
	in0 := 0
	if len(ls.In) > 0 {
		in0 = ls.In[0]
	}
	switch ls.Kind {
	case "dense":
		n, ok := mul(in0, ls.Out)
		return n + bias, ok
	case "conv2d":
		n, ok := mul(in0/max(ls.Groups, 1), ls.Out, ls.Kernel, ls.Kernel)
		return n + bias, ok
	case "batchnorm":
		n, ok := mul(in0, 4)
		return n, ok
	}
	return 0, true
}
