package export

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"

	"github.com/nadir-ml/nadir/nn"
)

// ReadONNX rebuilds the network of an ONNX file that nadir wrote. The
// architecture comes from the nadir.spec metadata and the weights from the
// initializers; then the file's graph must equal, node by node, attribute
// by attribute and initializer by initializer, the graph ONNX writes for
// the rebuilt network. So the returned network computes exactly what the
// file's graph computes, and any other ONNX file (or an edited one) is
// refused with one error line rather than run differently.
func ReadONNX(b []byte) (*nn.Net, Info, error) {
	m, err := UnmarshalModel(b)
	if err != nil {
		return nil, Info{}, fmt.Errorf("onnx: %v", err)
	}
	meta := map[string]string{}
	for _, kv := range m.Metadata {
		meta[kv.Key] = kv.Value
	}
	var spec nn.NetSpec
	if err := json.Unmarshal([]byte(meta[MetaSpec]), &spec); err != nil {
		return nil, Info{}, fmt.Errorf("onnx: not a nadir export (no %s metadata)", MetaSpec)
	}
	if meta[MetaSHA256] != weightsDigest(&m.Graph) {
		return nil, Info{}, fmt.Errorf("onnx: weights do not match their checksum (%s): the file is corrupt", MetaSHA256)
	}
	var info Info
	if s, ok := meta[MetaInfo]; ok {
		if err := json.Unmarshal([]byte(s), &info); err != nil {
			return nil, Info{}, fmt.Errorf("onnx: %s metadata: %v", MetaInfo, err)
		}
	}
	opset := 0
	for _, o := range m.Opsets {
		if o.Domain == "" || o.Domain == "ai.onnx" {
			opset = int(o.Version)
		}
	}
	if err := CheckOpset(opset); err != nil {
		return nil, Info{}, fmt.Errorf("onnx: opset %d is outside %d–%d", opset, MinOpset, MaxOpset)
	}
	g := &m.Graph
	if len(g.Inputs) != 1 || len(g.Outputs) == 0 {
		return nil, Info{}, fmt.Errorf("onnx: graph has %d inputs and %d outputs, want 1 and 1–2", len(g.Inputs), len(g.Outputs))
	}
	values := 0
	for _, t := range g.Initializers {
		values += len(t.Floats)
	}
	net, err := buildSpec(spec, values)
	if err != nil {
		return nil, Info{}, fmt.Errorf("onnx: %s: %v", MetaSpec, err)
	}
	inits := map[string]*Tensor{}
	for i := range g.Initializers {
		inits[g.Initializers[i].Name] = &g.Initializers[i]
	}
	want, err := TorchTensors(net)
	if err != nil {
		return nil, Info{}, fmt.Errorf("onnx: %v", err)
	}
	var ts []STensor
	for _, w := range want {
		if w.DType != "F32" {
			ts = append(ts, w)
			continue
		}
		t, ok := inits[w.Name]
		if !ok {
			return nil, Info{}, fmt.Errorf("onnx: initializer %s missing", w.Name)
		}
		if t.DataType != dtFloat || !slices.Equal(t.Dims, int64s(w.Shape)) {
			return nil, Info{}, fmt.Errorf("onnx: initializer %s has type %d shape %v, want float %v", w.Name, t.DataType, t.Dims, w.Shape)
		}
		n, _ := numel(w.Shape)
		if len(t.Floats) != n {
			return nil, Info{}, fmt.Errorf("onnx: initializer %s has %d values for shape %v", w.Name, len(t.Floats), w.Shape)
		}
		ts = append(ts, F32Tensor(w.Name, w.Shape, t.Floats))
	}
	if err := LoadTorchTensors(net, ts); err != nil {
		return nil, Info{}, fmt.Errorf("onnx: %v", err)
	}
	ref, err := ONNX(net, ONNXOptions{Opset: opset, InputName: g.Inputs[0].Name, OutputName: g.Outputs[0].Name, Info: info})
	if err != nil {
		return nil, Info{}, fmt.Errorf("onnx: %v", err)
	}
	if err := sameGraph(&ref.Graph, g); err != nil {
		return nil, Info{}, fmt.Errorf("onnx: the graph is not the one nadir writes for its nadir.spec: %v", err)
	}
	return net, info, nil
}

func int64s(v []int) []int64 {
	out := make([]int64, len(v))
	for i, d := range v {
		out[i] = int64(d)
	}
	return out
}

// sameGraph compares a regenerated graph with a decoded one.
func sameGraph(want, got *Graph) error {
	if len(want.Nodes) != len(got.Nodes) {
		return fmt.Errorf("%d nodes, want %d", len(got.Nodes), len(want.Nodes))
	}
	for i := range want.Nodes {
		w, g := want.Nodes[i], got.Nodes[i]
		if w.OpType != g.OpType || w.Domain != g.Domain || !slices.Equal(w.Inputs, g.Inputs) || !slices.Equal(w.Outputs, g.Outputs) ||
			len(w.Attrs) != len(g.Attrs) {
			return fmt.Errorf("node %d (%s %s) differs", i, g.OpType, g.Name)
		}
		for k := range w.Attrs {
			if !sameAttr(w.Attrs[k], g.Attrs[k]) {
				return fmt.Errorf("node %d (%s): attribute %s differs", i, g.OpType, g.Attrs[k].Name)
			}
		}
	}
	if !reflect.DeepEqual(want.Inputs, got.Inputs) || !reflect.DeepEqual(want.Outputs, got.Outputs) {
		return fmt.Errorf("graph inputs or outputs differ")
	}
	if len(want.Initializers) != len(got.Initializers) {
		return fmt.Errorf("%d initializers, want %d", len(got.Initializers), len(want.Initializers))
	}
	for i := range want.Initializers {
		w, g := &want.Initializers[i], &got.Initializers[i]
		if w.Name != g.Name || w.DataType != g.DataType || !slices.Equal(w.Dims, g.Dims) || !sameBits(w.Floats, g.Floats) || !slices.Equal(w.Int64s, g.Int64s) {
			return fmt.Errorf("initializer %s differs", g.Name)
		}
	}
	return nil
}

func sameAttr(a, b Attr) bool {
	return a.Name == b.Name && a.Type == b.Type && math.Float32bits(a.F) == math.Float32bits(b.F) && a.I == b.I && a.S == b.S &&
		sameBits(a.Floats, b.Floats) && slices.Equal(a.Ints, b.Ints)
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}
