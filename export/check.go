package export

import (
	"fmt"
	"slices"
)

// CheckGraph is a structural check of a graph this package writes: the
// nodes are in topological order, every input is defined once (graph
// input, initializer or an earlier node's output), only the ops listed
// below occur, and shapes inferred from the input's shape through every
// node (with their attributes and initializer shapes) give the declared
// output shapes. It is independent of the ONNX checker and of ONNX Runtime,
// so it runs in every test environment.
func CheckGraph(m *Model) error {
	g := &m.Graph
	if len(g.Inputs) == 0 {
		return fmt.Errorf("graph has no inputs")
	}
	shapes := map[string][]int64{}
	ints := map[string][]int64{} // int64 initializers' values
	define := func(name string, s []int64) error {
		if name == "" {
			return fmt.Errorf("empty value name")
		}
		if _, dup := shapes[name]; dup {
			return fmt.Errorf("value %q defined twice", name)
		}
		shapes[name] = s
		return nil
	}
	// Symbolic dimensions become negative ids, one per name.
	syms := map[string]int64{}
	dims := func(v ValueInfo) []int64 {
		var s []int64
		for _, d := range v.Shape {
			if d.Param == "" {
				s = append(s, d.Value)
				continue
			}
			if _, ok := syms[d.Param]; !ok {
				syms[d.Param] = -int64(len(syms) + 1)
			}
			s = append(s, syms[d.Param])
		}
		return s
	}
	for _, in := range g.Inputs {
		if len(in.Shape) == 0 || in.Shape[0].Param == "" {
			return fmt.Errorf("input %q has no symbolic leading dimension", in.Name)
		}
		if err := define(in.Name, dims(in)); err != nil {
			return err
		}
	}
	for _, t := range g.Initializers {
		n := int64(1)
		for _, d := range t.Dims {
			n *= d
		}
		switch {
		case t.DataType == dtFloat && int64(len(t.Floats)) == n:
		case t.DataType == dtInt64 && int64(len(t.Int64s)) == n:
			ints[t.Name] = t.Int64s
		default:
			return fmt.Errorf("initializer %s: type %d with %d values for dims %v", t.Name, t.DataType, max(len(t.Floats), len(t.Int64s)), t.Dims)
		}
		if err := define(t.Name, t.Dims); err != nil {
			return err
		}
	}
	for i, n := range g.Nodes {
		var ins [][]int64
		for _, x := range n.Inputs {
			s, ok := shapes[x]
			if !ok {
				return fmt.Errorf("node %d (%s): input %q is not defined before it", i, n.OpType, x)
			}
			ins = append(ins, s)
		}
		var out []int64
		var err error
		if n.OpType == "Squeeze" {
			out, err = inferSqueeze(n, ins, ints)
		} else {
			out, err = inferShape(n, ins)
		}
		if err != nil {
			return fmt.Errorf("node %d (%s %s): %v", i, n.OpType, n.Name, err)
		}
		if len(n.Outputs) != 1 {
			return fmt.Errorf("node %d (%s): %d outputs, want 1", i, n.OpType, len(n.Outputs))
		}
		if err := define(n.Outputs[0], out); err != nil {
			return err
		}
	}
	for _, o := range g.Outputs {
		s, ok := shapes[o.Name]
		if !ok {
			return fmt.Errorf("output %q is not computed", o.Name)
		}
		if want := dims(o); !slices.Equal(s, want) {
			return fmt.Errorf("output %q: inferred shape %v, declared %v", o.Name, s, want)
		}
	}
	return nil
}

// inferSqueeze removes the axes given as an attribute (opset < 13) or an
// int64 initializer (opset 13+), each of size 1.
func inferSqueeze(n Node, in [][]int64, ints map[string][]int64) ([]int64, error) {
	axes := attrs(n)["axes"].Ints
	if len(n.Inputs) == 2 {
		var ok bool
		if axes, ok = ints[n.Inputs[1]]; !ok {
			return nil, fmt.Errorf("axes %q is not an int64 initializer", n.Inputs[1])
		}
	}
	if len(in) == 0 || len(axes) == 0 {
		return nil, fmt.Errorf("no input or no axes")
	}
	var out []int64
	for i, d := range in[0] {
		if slices.Contains(axes, int64(i)) {
			if d != 1 {
				return nil, fmt.Errorf("axis %d has size %d, not 1", i, d)
			}
			continue
		}
		out = append(out, d)
	}
	return out, nil
}

func attrs(n Node) map[string]Attr {
	m := map[string]Attr{}
	for _, a := range n.Attrs {
		m[a.Name] = a
	}
	return m
}

// inferShape gives a node's output shape (batch dimension -1).
func inferShape(n Node, in [][]int64) ([]int64, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("no inputs")
	}
	a := attrs(n)
	need := func(k int) error {
		if len(in) != k {
			return fmt.Errorf("%d inputs, want %d", len(in), k)
		}
		return nil
	}
	switch n.OpType {
	case "Relu", "Tanh", "Sigmoid", "Identity", "LeakyRelu", "Softplus", "Softmax":
		return in[0], need(1)
	case "Mul", "Div":
		if err := need(2); err != nil {
			return nil, err
		}
		if !slices.Equal(in[0], in[1]) && len(in[1]) != 0 {
			return nil, fmt.Errorf("operand shapes %v and %v (only equal shapes or a scalar second operand are emitted)", in[0], in[1])
		}
		return in[0], nil
	case "MatMul":
		if err := need(2); err != nil {
			return nil, err
		}
		a, w := in[0], in[1]
		if len(a) < 2 || len(w) != 2 || a[len(a)-1] != w[0] {
			return nil, fmt.Errorf("operands %v and %v do not chain", a, w)
		}
		return append(slices.Clone(a[:len(a)-1]), w[1]), nil
	case "Add":
		if err := need(2); err != nil {
			return nil, err
		}
		if !slices.Equal(in[0], in[1]) && !(len(in[1]) == 1 && len(in[0]) > 0 && in[1][0] == in[0][len(in[0])-1]) {
			return nil, fmt.Errorf("operands %v and %v (only equal shapes or a bias vector are emitted)", in[0], in[1])
		}
		return in[0], nil
	case "Concat":
		ax := a["axis"].I
		out := slices.Clone(in[0])
		if ax < 0 || int(ax) >= len(out) {
			return nil, fmt.Errorf("axis %d of %v", ax, out)
		}
		for _, s := range in[1:] {
			if len(s) != len(out) {
				return nil, fmt.Errorf("ranks differ: %v", in)
			}
			for d := range s {
				if d != int(ax) && s[d] != out[d] {
					return nil, fmt.Errorf("shapes %v do not concatenate on axis %d", in, ax)
				}
			}
			if out[ax] < 0 || s[ax] < 0 {
				return nil, fmt.Errorf("symbolic size on the concatenation axis")
			}
			out[ax] += s[ax]
		}
		return out, nil
	case "LSTM":
		if err := need(4); err != nil {
			return nil, err
		}
		x, w, r, b := in[0], in[1], in[2], in[3]
		h := a["hidden_size"].I
		if len(x) != 3 || !slices.Equal(w, []int64{1, 4 * h, x[2]}) || !slices.Equal(r, []int64{1, 4 * h, h}) || !slices.Equal(b, []int64{1, 8 * h}) {
			return nil, fmt.Errorf("X %v, W %v, R %v, B %v do not fit hidden_size %d", x, w, r, b, h)
		}
		return []int64{x[0], 1, x[1], h}, nil
	case "Gemm":
		if len(in) != 2 && len(in) != 3 {
			return nil, fmt.Errorf("%d inputs", len(in))
		}
		x, w := in[0], in[1]
		if a["transB"].I != 1 || len(x) != 2 || len(w) != 2 || x[1] != w[1] {
			return nil, fmt.Errorf("x %v, W %v (transB=1) do not chain", x, w)
		}
		if len(in) == 3 && !slices.Equal(in[2], []int64{w[0]}) {
			return nil, fmt.Errorf("bias shape %v, want [%d]", in[2], w[0])
		}
		return []int64{x[0], w[0]}, nil
	case "Conv":
		if len(in) != 2 && len(in) != 3 {
			return nil, fmt.Errorf("%d inputs", len(in))
		}
		x, w := in[0], in[1]
		g := a["group"].I
		k, s, p := a["kernel_shape"].Ints, a["strides"].Ints, a["pads"].Ints
		if len(x) != 4 || len(w) != 4 || g < 1 || x[1]%g != 0 || w[0]%g != 0 || w[1] != x[1]/g || len(k) != 2 || len(s) != 2 || len(p) != 4 ||
			w[2] != k[0] || w[3] != k[1] {
			return nil, fmt.Errorf("x %v, W %v, group %d, kernel %v do not fit", x, w, g, k)
		}
		if len(in) == 3 && !slices.Equal(in[2], []int64{w[0]}) {
			return nil, fmt.Errorf("bias shape %v, want [%d]", in[2], w[0])
		}
		return []int64{x[0], w[0], (x[2]+p[0]+p[2]-k[0])/s[0] + 1, (x[3]+p[1]+p[3]-k[1])/s[1] + 1}, nil
	case "BatchNormalization":
		if err := need(5); err != nil {
			return nil, err
		}
		for _, v := range in[1:] {
			if len(in[0]) < 2 || !slices.Equal(v, []int64{in[0][1]}) {
				return nil, fmt.Errorf("statistics shape %v for input %v", v, in[0])
			}
		}
		return in[0], nil
	case "MaxPool", "AveragePool":
		k, s := a["kernel_shape"].Ints, a["strides"].Ints
		x := in[0]
		if len(x) != 4 || len(k) != 2 || len(s) != 2 || k[0] > x[2] || k[1] > x[3] {
			return nil, fmt.Errorf("input %v, kernel %v", x, k)
		}
		return []int64{x[0], x[1], (x[2]-k[0])/s[0] + 1, (x[3]-k[1])/s[1] + 1}, need(1)
	case "GlobalAveragePool":
		if len(in[0]) != 4 {
			return nil, fmt.Errorf("input %v", in[0])
		}
		return []int64{in[0][0], in[0][1], 1, 1}, need(1)
	case "Flatten":
		if a["axis"].I != 1 || len(in[0]) < 2 {
			return nil, fmt.Errorf("axis %d on %v", a["axis"].I, in[0])
		}
		n := int64(1)
		for _, d := range in[0][1:] {
			n *= d
		}
		return []int64{in[0][0], n}, need(1)
	}
	return nil, fmt.Errorf("op %q is not one nadir emits", n.OpType)
}
