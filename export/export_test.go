package export

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// Every test network, plain and BN-folded, at every supported opset,
// encodes to a graph that passes the structural check, decodes to the same
// model, and reads back into a network with bit-identical outputs.
func TestONNXStructureAndRoundTrip(t *testing.T) {
	for _, tn := range testNets(t) {
		x := testInput(tn.net, 3)
		want := forward(tn.net, x)
		for _, fold := range []bool{false, true} {
			for opset := MinOpset; opset <= MaxOpset; opset++ {
				if opset != DefaultOpset && (fold || tn.name != "hand-built") {
					continue // every opset on one net; the rest at the default
				}
				opt := ONNXOptions{Opset: opset, FoldBN: fold, Info: Info{Data: "test", Pre: &Preprocess{Scale: 1, Mean: []float32{0.5}, Std: []float32{2}}}}
				m, err := ONNX(tn.net, opt)
				if err != nil {
					t.Fatalf("%s: %v", tn.name, err)
				}
				if err := CheckGraph(m); err != nil {
					t.Fatalf("%s fold=%v opset %d: structural check: %v", tn.name, fold, opset, err)
				}
				b := m.Marshal()
				if !bytes.Equal(b, mustMarshal(t, tn, opt)) {
					t.Fatalf("%s: encoding is not deterministic", tn.name)
				}
				back, info, err := ReadONNX(b)
				if err != nil {
					t.Fatalf("%s fold=%v opset %d: read back: %v", tn.name, fold, opset, err)
				}
				if info.Data != "test" || info.Pre.Std[0] != 2 {
					t.Fatalf("%s: info not kept: %+v", tn.name, info)
				}
				got := forward(back, x)
				if fold {
					if d := maxAbsDiff(got, want); d > 1e-5 {
						t.Errorf("%s: folded network differs from the original by %g", tn.name, d)
					}
					continue
				}
				if d := maxAbsDiff(got, want); d != 0 {
					t.Errorf("%s opset %d: network read back from ONNX differs by %g", tn.name, opset, d)
				}
			}
		}
	}
}

func mustMarshal(t *testing.T, tn testNet, opt ONNXOptions) []byte {
	b, err := WriteONNX(tn.net, opt)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFoldRemovesFollowingBatchNorm(t *testing.T) {
	for _, tn := range testNets(t) {
		f, err := FoldBatchNorm(tn.net)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range f.Layers {
			if l.Spec().Kind == "batchnorm" && i > 0 {
				if k := f.Layers[i-1].Spec().Kind; k == "conv2d" || k == "dense" {
					t.Errorf("%s: BatchNorm %d after %s was not folded", tn.name, i, k)
				}
			}
		}
	}
}

func TestOpsetValidation(t *testing.T) {
	net := testNets(t)[0].net
	for _, o := range []int{-1, 1, 10, 18, 99} {
		if _, err := WriteONNX(net, ONNXOptions{Opset: o}); err == nil || !strings.Contains(err.Error(), "supported opsets") {
			t.Errorf("opset %d: err %v", o, err)
		}
	}
	m, err := ONNX(net, ONNXOptions{})
	if err != nil || m.Opsets[0].Version != 13 || m.IRVersion != 7 {
		t.Fatalf("default opset: %+v %v", m.Opsets, err)
	}
	if _, err := ONNX(net, ONNXOptions{InputName: "x", OutputName: "x"}); err == nil {
		t.Error("equal input and output names accepted")
	}
}

// Files that are not nadir's own graph, or edited ones, are refused.
func TestReadONNXRejects(t *testing.T) {
	tn := testNets(t)[1]
	good, err := WriteONNX(tn.net, ONNXOptions{})
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m *Model)) []byte {
		c, _ := UnmarshalModel(good)
		f(c)
		return c.Marshal()
	}
	cases := map[string][]byte{
		"empty":       nil,
		"garbage":     []byte("not a protobuf at all"),
		"truncated":   good[:len(good)/2],
		"no metadata": edit(func(m *Model) { m.Metadata = nil }),
		"op changed":  edit(func(m *Model) { m.Graph.Nodes[2].OpType = "Sigmoid" }),
		"attr":        edit(func(m *Model) { m.Graph.Nodes[0].Attrs[1].Ints = []int64{2, 2} }),
		"weights":     edit(func(m *Model) { m.Graph.Initializers[0].Dims[0]++ }),
		"opset":       edit(func(m *Model) { m.Opsets[0].Version = 9 }),
		"extra node":  edit(func(m *Model) { m.Graph.Nodes = append(m.Graph.Nodes, m.Graph.Nodes[2]) }),
		"flipped bit": edit(func(m *Model) { m.Graph.Initializers[1].Floats[3] *= -1 }),
		"huge spec": edit(func(m *Model) {
			m.Metadata[0].Value = strings.Replace(m.Metadata[0].Value, `"out":32`, `"out":1073741824`, 1)
		}),
	}
	for name, b := range cases {
		if _, _, err := ReadONNX(b); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: multi-line error %q", name, err)
		} else if name == "huge spec" && !strings.Contains(err.Error(), "more parameters than the file holds") {
			t.Errorf("huge spec: %v", err)
		}
	}
}

func TestSafetensorsRoundTrip(t *testing.T) {
	for _, tn := range testNets(t) {
		file, sidecar, err := NetSafetensors(tn.net, Info{Data: "d"})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(sidecar, []byte(`"layers"`)) {
			t.Fatalf("sidecar without layers: %s", sidecar)
		}
		if binary.LittleEndian.Uint64(file)%8 != 0 {
			t.Errorf("header not padded to 8 bytes")
		}
		back, info, err := ReadNetSafetensors(file)
		if err != nil {
			t.Fatalf("%s: %v", tn.name, err)
		}
		x := testInput(tn.net, 2)
		if d := maxAbsDiff(forward(back, x), forward(tn.net, x)); d != 0 || info.Data != "d" {
			t.Errorf("%s: round trip differs by %g (info %+v)", tn.name, d, info)
		}
	}
}

func TestSafetensorsRejects(t *testing.T) {
	nets := testNets(t)
	good, _, err := NetSafetensors(nets[1].net, Info{})
	if err != nil {
		t.Fatal(err)
	}
	withHeader := func(h string) []byte {
		for len(h)%8 != 0 {
			h += " "
		}
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
		return append(append(b, h...), make([]byte, 8)...)
	}
	cases := map[string][]byte{
		"short":        good[:5],
		"huge header":  append(binary.LittleEndian.AppendUint64(nil, 1<<40), good[8:]...),
		"truncated":    good[:len(good)-4],
		"extra bytes":  append(append([]byte(nil), good...), 1, 2, 3),
		"bad json":     withHeader(`{"a": [}`),
		"bad dtype":    withHeader(`{"a":{"dtype":"X9","shape":[2],"data_offsets":[0,8]}}`),
		"size":         withHeader(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`),
		"neg shape":    withHeader(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`),
		"overlap":      withHeader(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`),
		"gap":          withHeader(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`),
		"flipped bit":  func() []byte { b := bytes.Clone(good); b[len(b)-5] ^= 1; return b }(),
		"bad metadata": withHeader(`{"__metadata__":{"a":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`),
	}
	for name, b := range cases {
		if _, _, err := ReadSafetensors(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Well-formed files that do not fit the network.
	other, _, _ := NetSafetensors(nets[0].net, Info{})
	ts, _, err := ReadSafetensors(other)
	if err != nil {
		t.Fatal(err)
	}
	if err := LoadTorchTensors(nets[1].net, ts); err == nil || !strings.Contains(err.Error(), "layers.0.weight has shape [32 784], the network's is [8 1 3 3]") {
		t.Errorf("mismatched architecture: %v", err)
	}
	mine, _, _ := ReadSafetensors(good)
	mine[0].Shape = []int{mine[0].Shape[0] + 1}
	if err := LoadTorchTensors(nets[1].net, mine); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("wrong shape: %v", err)
	}
	mine, _, _ = ReadSafetensors(good)
	mine = append(mine, F32Tensor("layers.99.weight", []int{1}, []float32{1}))
	if err := LoadTorchTensors(nets[1].net, mine); err == nil || !strings.Contains(err.Error(), "not part") {
		t.Errorf("extra tensor: %v", err)
	}
}
