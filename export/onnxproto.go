package export

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// This file is a hand-written protobuf codec for the subset of onnx.proto
// (ONNX 1.12, the version Debian's python3-onnx ships) that nadir writes and
// reads back. Field numbers are those of onnx.proto; each message type below
// names them. Generated types would pull in the protobuf reflection runtime
// and ~9k lines of generated code for five messages; protowire keeps the
// codec to the fields we use, and the decoder skips every other field.

// ONNX TensorProto.DataType values used here.
const (
	dtFloat = 1 // FLOAT
	dtInt64 = 7 // INT64
)

// AttributeProto.AttributeType values used here.
const (
	attrFloat  = 1 // FLOAT
	attrInt    = 2 // INT
	attrString = 3 // STRING
	attrFloats = 6 // FLOATS
	attrInts   = 7 // INTS
)

// Model is ModelProto: ir_version = 1, opset_import = 8, producer_name = 2,
// producer_version = 3, graph = 7, metadata_props = 14.
type Model struct {
	IRVersion       int64
	Opsets          []OpsetID
	Producer        string
	ProducerVersion string
	Graph           Graph
	Metadata        []KV
}

// OpsetID is OperatorSetIdProto: domain = 1, version = 2.
type OpsetID struct {
	Domain  string
	Version int64
}

// KV is StringStringEntryProto: key = 1, value = 2.
type KV struct{ Key, Value string }

// Graph is GraphProto: node = 1, name = 2, initializer = 5, input = 11,
// output = 12.
type Graph struct {
	Name         string
	Nodes        []Node
	Initializers []Tensor
	Inputs       []ValueInfo
	Outputs      []ValueInfo
}

// Node is NodeProto: input = 1, output = 2, name = 3, op_type = 4,
// attribute = 5, domain = 7.
type Node struct {
	Inputs, Outputs []string
	Name, OpType    string
	Domain          string
	Attrs           []Attr
}

// Attr is AttributeProto: name = 1, f = 2, i = 3, s = 4, floats = 7,
// ints = 8, type = 20.
type Attr struct {
	Name   string
	Type   int64
	F      float32
	I      int64
	S      string
	Floats []float32
	Ints   []int64
}

// Tensor is TensorProto: dims = 1, data_type = 2, float_data = 4,
// int64_data = 7, name = 8, raw_data = 9. Floats are written as raw_data
// (little-endian), as the exporters of the field do; the reader also
// accepts float_data.
type Tensor struct {
	Name     string
	Dims     []int64
	DataType int32
	Floats   []float32
	Int64s   []int64
}

// ValueInfo is ValueInfoProto (name = 1, type = 2) of a tensor type
// (TypeProto.tensor_type = 1: elem_type = 1, shape = 2); a shape is
// TensorShapeProto.dim = 1 of Dimension (dim_value = 1, dim_param = 2).
type ValueInfo struct {
	Name     string
	ElemType int32
	Shape    []Dim
}

// Dim is one dimension: a fixed size, or a named symbolic one (Param).
type Dim struct {
	Value int64
	Param string
}

// Marshal encodes the model.
func (m *Model) Marshal() []byte {
	var b []byte
	b = appendVarintField(b, 1, uint64(m.IRVersion))
	b = appendStringField(b, 2, m.Producer)
	b = appendStringField(b, 3, m.ProducerVersion)
	b = appendMsg(b, 7, m.Graph.marshal())
	for _, o := range m.Opsets {
		var ob []byte
		ob = appendStringField(ob, 1, o.Domain)
		ob = appendVarintField(ob, 2, uint64(o.Version))
		b = appendMsg(b, 8, ob)
	}
	for _, kv := range m.Metadata {
		b = appendMsg(b, 14, kv.marshal())
	}
	return b
}

func (kv KV) marshal() []byte {
	var b []byte
	b = appendStringField(b, 1, kv.Key)
	return appendStringField(b, 2, kv.Value)
}

func (g *Graph) marshal() []byte {
	var b []byte
	for _, n := range g.Nodes {
		b = appendMsg(b, 1, n.marshal())
	}
	b = appendStringField(b, 2, g.Name)
	for _, t := range g.Initializers {
		b = appendMsg(b, 5, t.marshal())
	}
	for _, v := range g.Inputs {
		b = appendMsg(b, 11, v.marshal())
	}
	for _, v := range g.Outputs {
		b = appendMsg(b, 12, v.marshal())
	}
	return b
}

func (n *Node) marshal() []byte {
	var b []byte
	for _, s := range n.Inputs {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	for _, s := range n.Outputs {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	b = appendStringField(b, 3, n.Name)
	b = appendStringField(b, 4, n.OpType)
	for _, a := range n.Attrs {
		b = appendMsg(b, 5, a.marshal())
	}
	b = appendStringField(b, 7, n.Domain)
	return b
}

func (a *Attr) marshal() []byte {
	var b []byte
	b = appendStringField(b, 1, a.Name)
	switch a.Type {
	case attrFloat:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.F))
	case attrInt:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(a.I))
	case attrString:
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		b = protowire.AppendString(b, a.S)
	case attrFloats:
		var p []byte
		for _, f := range a.Floats {
			p = protowire.AppendFixed32(p, math.Float32bits(f))
		}
		b = appendMsg(b, 7, p)
	case attrInts:
		var p []byte
		for _, v := range a.Ints {
			p = protowire.AppendVarint(p, uint64(v))
		}
		b = appendMsg(b, 8, p)
	}
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(a.Type))
}

func (t *Tensor) marshal() []byte {
	var b []byte
	if len(t.Dims) > 0 {
		var p []byte
		for _, d := range t.Dims {
			p = protowire.AppendVarint(p, uint64(d))
		}
		b = appendMsg(b, 1, p)
	}
	b = appendVarintField(b, 2, uint64(t.DataType))
	b = appendStringField(b, 8, t.Name)
	var raw []byte
	switch t.DataType {
	case dtFloat:
		raw = make([]byte, 0, 4*len(t.Floats))
		for _, f := range t.Floats {
			raw = protowire.AppendFixed32(raw, math.Float32bits(f))
		}
	case dtInt64:
		raw = make([]byte, 0, 8*len(t.Int64s))
		for _, v := range t.Int64s {
			raw = protowire.AppendFixed64(raw, uint64(v))
		}
	}
	b = protowire.AppendTag(b, 9, protowire.BytesType)
	return protowire.AppendBytes(b, raw)
}

func (v *ValueInfo) marshal() []byte {
	var shape []byte
	for _, d := range v.Shape {
		var db []byte
		if d.Param != "" {
			db = appendStringField(db, 2, d.Param)
		} else {
			db = protowire.AppendTag(db, 1, protowire.VarintType)
			db = protowire.AppendVarint(db, uint64(d.Value))
		}
		shape = appendMsg(shape, 1, db)
	}
	var tt []byte
	tt = appendVarintField(tt, 1, uint64(v.ElemType))
	tt = appendMsg(tt, 2, shape)
	var b []byte
	b = appendStringField(b, 1, v.Name)
	return appendMsg(b, 2, appendMsg(nil, 1, tt))
}

func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func appendStringField(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendMsg(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

// ---- decoding ----

var errProto = errors.New("malformed protobuf")

// fields walks the top-level fields of a message, calling f with each
// field's number, wire type and value bytes (varints and fixed values
// decoded into v). Unknown fields are skipped by the caller ignoring them.
func fields(b []byte, f func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errProto
		}
		b = b[n:]
		var v uint64
		var bs []byte
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var x uint32
			x, n = protowire.ConsumeFixed32(b)
			v = uint64(x)
		case protowire.Fixed64Type:
			v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			bs, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return errProto
		}
		b = b[n:]
		if err := f(num, typ, v, bs); err != nil {
			return err
		}
	}
	return nil
}

// UnmarshalModel decodes a ModelProto, keeping the fields listed on Model.
func UnmarshalModel(b []byte) (*Model, error) {
	m := &Model{}
	err := fields(b, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			m.IRVersion = int64(v)
		case num == 2 && typ == protowire.BytesType:
			m.Producer = string(bs)
		case num == 3 && typ == protowire.BytesType:
			m.ProducerVersion = string(bs)
		case num == 7 && typ == protowire.BytesType:
			return m.Graph.unmarshal(bs)
		case num == 8 && typ == protowire.BytesType:
			var o OpsetID
			err := fields(bs, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
				if num == 1 && typ == protowire.BytesType {
					o.Domain = string(bs)
				} else if num == 2 && typ == protowire.VarintType {
					o.Version = int64(v)
				}
				return nil
			})
			m.Opsets = append(m.Opsets, o)
			return err
		case num == 14 && typ == protowire.BytesType:
			var kv KV
			err := fields(bs, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
				if typ == protowire.BytesType && num == 1 {
					kv.Key = string(bs)
				} else if typ == protowire.BytesType && num == 2 {
					kv.Value = string(bs)
				}
				return nil
			})
			m.Metadata = append(m.Metadata, kv)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (g *Graph) unmarshal(b []byte) error {
	return fields(b, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			var n Node
			if err := n.unmarshal(bs); err != nil {
				return err
			}
			g.Nodes = append(g.Nodes, n)
		case 2:
			g.Name = string(bs)
		case 5:
			var t Tensor
			if err := t.unmarshal(bs); err != nil {
				return err
			}
			g.Initializers = append(g.Initializers, t)
		case 11, 12:
			var vi ValueInfo
			if err := vi.unmarshal(bs); err != nil {
				return err
			}
			if num == 11 {
				g.Inputs = append(g.Inputs, vi)
			} else {
				g.Outputs = append(g.Outputs, vi)
			}
		}
		return nil
	})
}

func (n *Node) unmarshal(b []byte) error {
	return fields(b, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			n.Inputs = append(n.Inputs, string(bs))
		case 2:
			n.Outputs = append(n.Outputs, string(bs))
		case 3:
			n.Name = string(bs)
		case 4:
			n.OpType = string(bs)
		case 7:
			n.Domain = string(bs)
		case 5:
			var a Attr
			if err := a.unmarshal(bs); err != nil {
				return err
			}
			n.Attrs = append(n.Attrs, a)
		}
		return nil
	})
}

func (a *Attr) unmarshal(b []byte) error {
	return fields(b, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			a.Name = string(bs)
		case num == 20 && typ == protowire.VarintType:
			a.Type = int64(v)
		case num == 2 && typ == protowire.Fixed32Type:
			a.F = math.Float32frombits(uint32(v))
		case num == 3 && typ == protowire.VarintType:
			a.I = int64(v)
		case num == 4 && typ == protowire.BytesType:
			a.S = string(bs)
		case num == 7:
			return appendFloats(&a.Floats, typ, v, bs)
		case num == 8:
			return appendInts(&a.Ints, typ, v, bs)
		}
		return nil
	})
}

func (t *Tensor) unmarshal(b []byte) error {
	var raw []byte
	hasRaw := false
	err := fields(b, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
		switch {
		case num == 1:
			return appendInts(&t.Dims, typ, v, bs)
		case num == 2 && typ == protowire.VarintType:
			t.DataType = int32(v)
		case num == 4:
			return appendFloats(&t.Floats, typ, v, bs)
		case num == 7:
			return appendInts(&t.Int64s, typ, v, bs)
		case num == 8 && typ == protowire.BytesType:
			t.Name = string(bs)
		case num == 9 && typ == protowire.BytesType:
			raw, hasRaw = bs, true
		}
		return nil
	})
	if err != nil || !hasRaw {
		return err
	}
	switch t.DataType {
	case dtFloat:
		if len(raw)%4 != 0 {
			return fmt.Errorf("tensor %q: raw_data of %d bytes is not float32s", t.Name, len(raw))
		}
		t.Floats = make([]float32, len(raw)/4)
		for i := range t.Floats {
			x, _ := protowire.ConsumeFixed32(raw[4*i:])
			t.Floats[i] = math.Float32frombits(x)
		}
	case dtInt64:
		if len(raw)%8 != 0 {
			return fmt.Errorf("tensor %q: raw_data of %d bytes is not int64s", t.Name, len(raw))
		}
		t.Int64s = make([]int64, len(raw)/8)
		for i := range t.Int64s {
			x, _ := protowire.ConsumeFixed64(raw[8*i:])
			t.Int64s[i] = int64(x)
		}
	}
	return nil
}

func (v *ValueInfo) unmarshal(b []byte) error {
	return fields(b, func(num protowire.Number, typ protowire.Type, _ uint64, bs []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			v.Name = string(bs)
		case 2: // TypeProto
			return fields(bs, func(num protowire.Number, typ protowire.Type, _ uint64, bs []byte) error {
				if num != 1 || typ != protowire.BytesType {
					return nil
				}
				// TypeProto.Tensor
				return fields(bs, func(num protowire.Number, typ protowire.Type, x uint64, bs []byte) error {
					switch {
					case num == 1 && typ == protowire.VarintType:
						v.ElemType = int32(x)
					case num == 2 && typ == protowire.BytesType:
						return fields(bs, func(num protowire.Number, typ protowire.Type, _ uint64, bs []byte) error {
							if num != 1 || typ != protowire.BytesType {
								return nil
							}
							var d Dim
							err := fields(bs, func(num protowire.Number, typ protowire.Type, x uint64, bs []byte) error {
								if num == 1 && typ == protowire.VarintType {
									d.Value = int64(x)
								} else if num == 2 && typ == protowire.BytesType {
									d.Param = string(bs)
								}
								return nil
							})
							v.Shape = append(v.Shape, d)
							return err
						})
					}
					return nil
				})
			})
		}
		return nil
	})
}

// appendInts adds a repeated int64 field's value: packed (bytes) or one
// unpacked varint.
func appendInts(dst *[]int64, typ protowire.Type, v uint64, bs []byte) error {
	if typ == protowire.VarintType {
		*dst = append(*dst, int64(v))
		return nil
	}
	if typ != protowire.BytesType {
		return nil
	}
	for len(bs) > 0 {
		x, n := protowire.ConsumeVarint(bs)
		if n < 0 {
			return errProto
		}
		*dst = append(*dst, int64(x))
		bs = bs[n:]
	}
	return nil
}

// appendFloats adds a repeated float field's value: packed or one fixed32.
func appendFloats(dst *[]float32, typ protowire.Type, v uint64, bs []byte) error {
	if typ == protowire.Fixed32Type {
		*dst = append(*dst, math.Float32frombits(uint32(v)))
		return nil
	}
	if typ != protowire.BytesType {
		return nil
	}
	if len(bs)%4 != 0 {
		return errProto
	}
	for i := 0; i < len(bs); i += 4 {
		x, _ := protowire.ConsumeFixed32(bs[i:])
		*dst = append(*dst, math.Float32frombits(x))
	}
	return nil
}
