package export

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/nn"
)

// Opset range. 13 is the default: the first opset where Softmax takes a
// plain axis and every op emitted here has its current semantics; 17 is the
// newest opset that Debian's ONNX 1.12 checker knows, so nothing newer has
// been validated. Below 13 the emitted graph would still be valid for these
// ops, but Softmax before 13 flattens to 2-D, which is only equivalent for
// the 2-D outputs nadir classifies, so 11 and 12 are allowed too.
const (
	DefaultOpset = 13
	MinOpset     = 11
	MaxOpset     = 17
)

// irVersion is the ONNX IR version that accompanies an opset in the ONNX
// release that introduced it (ONNX 1.6: IR 6 / opset 11; 1.7–1.9: IR 7 /
// opsets 12–14; 1.10–1.12: IR 8 / opsets 15–17).
func irVersion(opset int) int64 {
	switch {
	case opset <= 11:
		return 6
	case opset <= 14:
		return 7
	}
	return 8
}

// CheckOpset validates an opset number.
func CheckOpset(opset int) error {
	if opset < MinOpset || opset > MaxOpset {
		return fmt.Errorf("--opset %d: supported opsets are %d to %d", opset, MinOpset, MaxOpset)
	}
	return nil
}

// Preprocess is the transformation from raw input values to the network's
// input that training used: x = (raw·Scale − Mean)/Std, with one Mean/Std
// for all values (images) or one per feature (tables). The exported graph
// takes the normalised x; Preprocess travels as metadata (ONNX
// metadata_props, safetensors __metadata__ and the sidecar), as torchvision
// keeps its Normalize outside the model.
type Preprocess struct {
	Scale float64   `json:"scale"` // raw value scale: 1/255 for 8-bit images, 1 for CSV
	Mean  []float32 `json:"mean"`
	Std   []float32 `json:"std"`
}

// Apply normalises raw values (already multiplied by Scale) in place, for
// examples of dim values each, with the data package's Normalizer: the
// arithmetic training used, to the last bit.
func (p *Preprocess) Apply(x []float32, dim int) error {
	if len(p.Mean) == 0 {
		return nil
	}
	if len(p.Std) != len(p.Mean) || (len(p.Mean) != 1 && len(p.Mean) != dim) || dim <= 0 || len(x)%dim != 0 {
		return fmt.Errorf("normalisation has %d means and %d deviations, input has %d features", len(p.Mean), len(p.Std), dim)
	}
	(&data.Normalizer{Mean: p.Mean, Std: p.Std}).ApplyValues(x, dim)
	return nil
}

// Info is what a model file records besides the network: the data it was
// trained on, its class names and its preprocessing.
type Info struct {
	Data    string      `json:"data,omitempty"`
	Classes []string    `json:"classes,omitempty"`
	Pre     *Preprocess `json:"preprocess,omitempty"`
}

// ONNXOptions adjusts WriteONNX.
type ONNXOptions struct {
	Opset      int    // 0: DefaultOpset
	FoldBN     bool   // fold eval-mode BatchNorm into the conv/dense before it
	InputName  string // default "input"
	OutputName string // default "logits"
	Info       Info
}

func (o *ONNXOptions) defaults() error {
	if o.Opset == 0 {
		o.Opset = DefaultOpset
	}
	if o.InputName == "" {
		o.InputName = "input"
	}
	if o.OutputName == "" {
		o.OutputName = "logits"
	}
	if o.InputName == o.OutputName || o.OutputName == ProbName || o.InputName == ProbName {
		return fmt.Errorf("input and output names must differ from each other and from %q", ProbName)
	}
	return CheckOpset(o.Opset)
}

// ProbName is the second graph output, softmax(logits), present when the
// network's output is a vector per example.
const ProbName = "probabilities"

// Metadata keys of an exported ONNX model.
const (
	MetaSpec    = "nadir.spec"    // nn.NetSpec of the exported network (after folding)
	MetaInfo    = "nadir.info"    // Info as JSON
	MetaPreproc = "preprocessing" // a human-readable formula
	MetaSHA256  = "nadir.sha256"  // of the initializers (weightsDigest)
)

// weightsDigest is the SHA-256 of the initializers' names, dims and values
// in order: ONNX has no checksum of its own, and a flipped bit in a weight
// would otherwise load silently.
func weightsDigest(g *Graph) string {
	h := sha256.New()
	var b [8]byte
	for _, t := range g.Initializers {
		h.Write([]byte(t.Name))
		h.Write([]byte{0})
		for _, d := range t.Dims {
			binary.LittleEndian.PutUint64(b[:], uint64(d))
			h.Write(b[:])
		}
		for _, v := range t.Floats {
			binary.LittleEndian.PutUint32(b[:4], math.Float32bits(v))
			h.Write(b[:4])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ONNX converts a network to an ONNX model: one or a few nodes per nadir
// layer, weights as initializers named like PyTorch's state_dict
// (layers.<i>.weight), a dynamic batch dimension, inputs normalised as
// Info.Pre says. With FoldBN, BatchNorm layers that directly follow a conv
// or dense layer are folded into it first (FoldBatchNorm).
//
// Layer mapping: dense → Gemm(transB=1); conv2d → Conv (strides, pads,
// group); batchnorm → BatchNormalization (running statistics: eval mode);
// relu, tanh, sigmoid, identity → the op of that name; leakyrelu →
// LeakyRelu(alpha); softplus(β) → Softplus for β = 1, else
// Div(Softplus(Mul(x, β)), β); swish → Mul(x, Sigmoid(x)); maxpool /
// avgpool → MaxPool / AveragePool; gap → GlobalAveragePool + Flatten;
// flatten → Flatten(axis 1); dropout → Identity.
func ONNX(net *nn.Net, opt ONNXOptions) (*Model, error) {
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	if opt.FoldBN {
		var err error
		if net, err = FoldBatchNorm(net); err != nil {
			return nil, err
		}
	}
	b := &graphBuilder{}
	cur := opt.InputName
	for i, l := range net.Layers {
		var err error
		if cur, err = b.layer(i, l, cur); err != nil {
			return nil, err
		}
	}
	if cur == opt.InputName {
		b.node("Identity", "output", []string{cur})
		cur = b.g.Nodes[len(b.g.Nodes)-1].Outputs[0]
	}
	last := &b.g.Nodes[len(b.g.Nodes)-1]
	last.Outputs[0] = opt.OutputName
	out := net.OutShape()
	b.g.Inputs = []ValueInfo{valueInfo(opt.InputName, net.In)}
	b.g.Outputs = []ValueInfo{valueInfo(opt.OutputName, out)}
	if len(out) == 1 {
		b.g.Nodes = append(b.g.Nodes, Node{Name: "softmax", OpType: "Softmax", Inputs: []string{opt.OutputName},
			Outputs: []string{ProbName}, Attrs: []Attr{intAttr("axis", 1)}})
		b.g.Outputs = append(b.g.Outputs, valueInfo(ProbName, out))
	}
	b.g.Name = "nadir"
	spec, err := json.Marshal(net.Spec())
	if err != nil {
		return nil, err
	}
	info, err := json.Marshal(opt.Info)
	if err != nil {
		return nil, err
	}
	m := &Model{
		IRVersion: irVersion(opt.Opset),
		Opsets:    []OpsetID{{Domain: "", Version: int64(opt.Opset)}},
		Producer:  "nadir", ProducerVersion: FormatVersion,
		Graph:    b.g,
		Metadata: []KV{{MetaSpec, string(spec)}, {MetaInfo, string(info)}, {MetaSHA256, weightsDigest(&b.g)}},
	}
	if p := opt.Info.Pre; p != nil {
		m.Metadata = append(m.Metadata, KV{MetaPreproc, p.formula(opt.InputName)})
	}
	return m, nil
}

// FormatVersion is recorded as the producer version of ONNX files and in
// safetensors metadata.
const FormatVersion = "1"

func (p *Preprocess) formula(input string) string {
	mean, _ := json.Marshal(p.Mean)
	std, _ := json.Marshal(p.Std)
	return fmt.Sprintf("%s = (raw*%g - mean)/std, mean=%s std=%s (one value: all inputs; else per feature)", input, p.Scale, mean, std)
}

// WriteONNX encodes the network as an ONNX model file's bytes.
func WriteONNX(net *nn.Net, opt ONNXOptions) ([]byte, error) {
	m, err := ONNX(net, opt)
	if err != nil {
		return nil, err
	}
	return m.Marshal(), nil
}

func valueInfo(name string, shape []int) ValueInfo {
	v := ValueInfo{Name: name, ElemType: dtFloat, Shape: []Dim{{Param: "batch"}}}
	for _, d := range shape {
		v.Shape = append(v.Shape, Dim{Value: int64(d)})
	}
	return v
}

func intAttr(name string, v int64) Attr { return Attr{Name: name, Type: attrInt, I: v} }
func intsAttr(name string, v ...int64) Attr {
	return Attr{Name: name, Type: attrInts, Ints: v}
}
func floatAttr(name string, v float32) Attr { return Attr{Name: name, Type: attrFloat, F: v} }

type graphBuilder struct {
	g Graph
}

// node appends a node named name (also its output's name) and returns the
// output.
func (b *graphBuilder) node(op, name string, in []string, attrs ...Attr) string {
	b.g.Nodes = append(b.g.Nodes, Node{Name: name, OpType: op, Inputs: in, Outputs: []string{name}, Attrs: attrs})
	return name
}

func (b *graphBuilder) init(name string, dims []int, data []float32) string {
	t := Tensor{Name: name, DataType: dtFloat, Floats: append([]float32(nil), data...)}
	for _, d := range dims {
		t.Dims = append(t.Dims, int64(d))
	}
	b.g.Initializers = append(b.g.Initializers, t)
	return name
}

func (b *graphBuilder) layer(i int, l nn.Layer, x string) (string, error) {
	sp := l.Spec()
	pre := "layers." + strconv.Itoa(i)
	name := func(s string) string { return pre + "." + s }
	switch sp.Kind {
	case "dense":
		d := l.(*nn.Dense)
		in := []string{x, b.init(name("weight"), []int{d.W.Rows, d.W.Cols}, d.W.Data)}
		if d.B != nil {
			in = append(in, b.init(name("bias"), []int{d.B.Rows}, d.B.Data))
		}
		return b.node("Gemm", pre, in, intAttr("transB", 1)), nil
	case "conv2d":
		c := l.(*nn.Conv2D)
		g := max(sp.Groups, 1)
		in := []string{x, b.init(name("weight"), []int{sp.Out, sp.In[0] / g, sp.Kernel, sp.Kernel}, c.W.Data)}
		if c.B != nil {
			in = append(in, b.init(name("bias"), []int{c.B.Rows}, c.B.Data))
		}
		k, s, p := int64(sp.Kernel), int64(max(sp.Stride, 1)), int64(sp.Pad)
		return b.node("Conv", pre, in, intsAttr("kernel_shape", k, k), intsAttr("strides", s, s),
			intsAttr("pads", p, p, p, p), intAttr("group", int64(g))), nil
	case "batchnorm":
		bn := l.(*nn.BatchNorm)
		c := bn.Gamma.Rows
		in := []string{x, b.init(name("weight"), []int{c}, bn.Gamma.Data), b.init(name("bias"), []int{c}, bn.Beta.Data),
			b.init(name("running_mean"), []int{c}, bn.RunMean), b.init(name("running_var"), []int{c}, bn.RunVar)}
		return b.node("BatchNormalization", pre, in, floatAttr("epsilon", float32(bn.Eps))), nil
	case "act":
		a := l.(*nn.Act).A
		switch a.Kind {
		case nn.ReLU:
			return b.node("Relu", pre, []string{x}), nil
		case nn.Tanh:
			return b.node("Tanh", pre, []string{x}), nil
		case nn.Sigmoid:
			return b.node("Sigmoid", pre, []string{x}), nil
		case nn.Identity:
			return b.node("Identity", pre, []string{x}), nil
		case nn.LeakyReLU:
			return b.node("LeakyRelu", pre, []string{x}, floatAttr("alpha", float32(a.Beta))), nil
		case nn.Swish:
			s := b.node("Sigmoid", name("sigmoid"), []string{x})
			return b.node("Mul", pre, []string{x, s}), nil
		case nn.Softplus:
			if a.Beta == 1 {
				return b.node("Softplus", pre, []string{x}), nil
			}
			beta := b.init(name("beta"), nil, []float32{float32(a.Beta)})
			y := b.node("Mul", name("scaled"), []string{x, beta})
			y = b.node("Softplus", name("softplus"), []string{y})
			return b.node("Div", pre, []string{y, beta}), nil
		}
		return "", fmt.Errorf("layer %d: activation %v has no ONNX form", i, a)
	case "maxpool", "avgpool":
		op := map[string]string{"maxpool": "MaxPool", "avgpool": "AveragePool"}[sp.Kind]
		k, s := int64(sp.Kernel), int64(max(sp.Stride, 1))
		return b.node(op, pre, []string{x}, intsAttr("kernel_shape", k, k), intsAttr("strides", s, s)), nil
	case "gap":
		y := b.node("GlobalAveragePool", name("pool"), []string{x})
		return b.node("Flatten", pre, []string{y}, intAttr("axis", 1)), nil
	case "flatten":
		return b.node("Flatten", pre, []string{x}, intAttr("axis", 1)), nil
	case "dropout":
		return b.node("Identity", pre, []string{x}), nil
	}
	return "", fmt.Errorf("layer %d: kind %q has no ONNX form", i, sp.Kind)
}
