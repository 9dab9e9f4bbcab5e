package export

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
)

// Safetensors is written and read here rather than through a dependency:
// the format is an 8-byte little-endian header length, a JSON header
// mapping each tensor name to {dtype, shape, data_offsets} (plus an
// optional "__metadata__" object of strings), then the raw little-endian
// tensor bytes. That is ~150 lines with the checks the reference
// implementation makes (offsets in bounds, sizes matching shapes, no gaps
// or overlaps), against a dependency the project would have to vet and
// follow for what is a fixed, documented format.

// STensor is one tensor of a safetensors file: dtype ("F32", "I64", ...),
// shape and little-endian bytes.
type STensor struct {
	Name  string
	DType string
	Shape []int
	Data  []byte
}

var dtypeSize = map[string]int{"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
	"U16": 2, "U32": 4, "U64": 8}

// F32Tensor makes an F32 tensor.
func F32Tensor(name string, shape []int, v []float32) STensor {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return STensor{Name: name, DType: "F32", Shape: slices.Clone(shape), Data: b}
}

// Float32s converts an F32 or F64 tensor's values.
func (t *STensor) Float32s() ([]float32, error) {
	switch t.DType {
	case "F32":
		v := make([]float32, len(t.Data)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
		return v, nil
	case "F64":
		v := make([]float32, len(t.Data)/8)
		for i := range v {
			v[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*i:])))
		}
		return v, nil
	}
	return nil, fmt.Errorf("tensor %s has dtype %s, want F32", t.Name, t.DType)
}

type stEntry struct {
	DType   string `json:"dtype"`
	Shape   []int  `json:"shape"`
	Offsets [2]int `json:"data_offsets"`
}

// WriteSafetensors encodes tensors (in the given order) and string metadata.
func WriteSafetensors(tensors []STensor, meta map[string]string) ([]byte, error) {
	header := map[string]any{}
	off := 0
	for _, t := range tensors {
		if _, dup := header[t.Name]; dup || t.Name == "" {
			return nil, fmt.Errorf("safetensors: duplicate or empty tensor name %q", t.Name)
		}
		if n, ok := numel(t.Shape); !ok || n*dtypeSize[t.DType] != len(t.Data) {
			return nil, fmt.Errorf("safetensors: tensor %s: %d bytes do not fit shape %v of %s", t.Name, len(t.Data), t.Shape, t.DType)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = stEntry{t.DType, shape, [2]int{off, off + len(t.Data)}}
		off += len(t.Data)
	}
	var data []byte
	for _, t := range tensors {
		data = append(data, t.Data...)
	}
	if meta != nil {
		m := maps.Clone(meta)
		m[STMetaSHA256] = dataDigest(data)
		header["__metadata__"] = m
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return nil, err
	}
	// Pad the header with spaces so the data starts 8-byte aligned, as the
	// reference writer does.
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(hj)))
	out = append(out, hj...)
	return append(out, data...), nil
}

// STMetaSHA256 is the metadata key of the SHA-256 of the data section,
// which nadir writes (other readers ignore it) and checks when present.
const STMetaSHA256 = "nadir.sha256"

func dataDigest(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// maxHeader bounds the JSON header (the reference implementation uses 100 MB).
const maxHeader = 100 << 20

// ReadSafetensors decodes a safetensors file: its tensors sorted by data
// offset, and its metadata. Every check failure is one error line.
func ReadSafetensors(b []byte) ([]STensor, map[string]string, error) {
	if len(b) < 8 {
		return nil, nil, errors.New("safetensors: file shorter than its 8-byte header length")
	}
	n := binary.LittleEndian.Uint64(b)
	if n > maxHeader || n > uint64(len(b)-8) {
		return nil, nil, fmt.Errorf("safetensors: header length %d exceeds the file (%d bytes)", n, len(b))
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b[8 : 8+n]))
	if err := dec.Decode(&raw); err != nil {
		return nil, nil, fmt.Errorf("safetensors: header is not a JSON object: %v", err)
	}
	data := b[8+n:]
	var meta map[string]string
	var ts []STensor
	type span struct{ lo, hi int }
	spans := map[string]span{}
	for name, v := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(v, &meta); err != nil {
				return nil, nil, fmt.Errorf("safetensors: __metadata__ is not an object of strings")
			}
			continue
		}
		var e stEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: %v", name, err)
		}
		size, ok := dtypeSize[e.DType]
		if !ok {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: unknown dtype %q", name, e.DType)
		}
		cnt, ok := numel(e.Shape)
		lo, hi := e.Offsets[0], e.Offsets[1]
		if !ok || lo < 0 || hi < lo || hi > len(data) || cnt > (hi-lo)/size || (hi-lo) != cnt*size {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: offsets %v do not hold shape %v of %s in %d data bytes", name, e.Offsets, e.Shape, e.DType, len(data))
		}
		spans[name] = span{lo, hi}
		ts = append(ts, STensor{Name: name, DType: e.DType, Shape: e.Shape, Data: data[lo:hi]})
	}
	sort.Slice(ts, func(i, j int) bool {
		a, b := spans[ts[i].Name], spans[ts[j].Name]
		if a.lo != b.lo {
			return a.lo < b.lo
		}
		return ts[i].Name < ts[j].Name
	})
	end := 0
	for _, t := range ts {
		s := spans[t.Name]
		if s.lo != end {
			return nil, nil, fmt.Errorf("safetensors: tensor %q starts at byte %d, previous data ends at %d (gap or overlap)", t.Name, s.lo, end)
		}
		end = s.hi
	}
	if end != len(data) {
		return nil, nil, fmt.Errorf("safetensors: %d data bytes after the last tensor", len(data)-end)
	}
	if sum, ok := meta[STMetaSHA256]; ok && sum != dataDigest(data) {
		return nil, nil, fmt.Errorf("safetensors: data does not match its checksum (%s): the file is corrupt", STMetaSHA256)
	}
	return ts, meta, nil
}

// numel is the product of shape, false on a negative or overflowing size.
func numel(shape []int) (int, bool) {
	n := 1
	for _, d := range shape {
		if d < 0 || (d > 0 && n > math.MaxInt32/d) {
			return 0, false
		}
		n *= d
	}
	return n, true
}
