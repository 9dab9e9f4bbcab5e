package nn

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
)

// NetSpec is a network's architecture: enough, with the parameters, to
// rebuild it exactly (widths included, so grown networks reload).
type NetSpec struct {
	In     []int       `json:"in"`
	Layers []LayerSpec `json:"layers"`
}

// Spec describes the architecture.
func (n *Net) Spec() NetSpec {
	s := NetSpec{In: append([]int(nil), n.In...)}
	for _, l := range n.Layers {
		s.Layers = append(s.Layers, l.Spec())
	}
	return s
}

// Buffered layers hold non-trainable state that checkpoints must keep
// (BatchNorm running statistics).
type Buffered interface {
	Buffers() []*[]float32
}

// Build makes a network from its spec with freshly initialised parameters
// drawn from r (r may be nil for zero parameters, to be overwritten).
func Build(spec NetSpec, r *rand.Rand) (*Net, error) {
	if r == nil {
		r = rand.New(rand.NewPCG(0, 0))
	}
	var layers []Layer
	for i, ls := range spec.Layers {
		l, err := buildLayer(ls, r)
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s): %w", i, ls.Kind, err)
		}
		layers = append(layers, l)
	}
	return NewNet(spec.In, layers...)
}

func buildLayer(s LayerSpec, r *rand.Rand) (Layer, error) {
	l, err := buildKind(s, r)
	switch x := l.(type) {
	case *Dense:
		x.Origin = s.Origin
	case *Conv2D:
		x.Origin = s.Origin
	}
	return l, err
}

func buildKind(s LayerSpec, r *rand.Rand) (Layer, error) {
	switch s.Kind {
	case "dense":
		if len(s.In) != 1 {
			return nil, fmt.Errorf("input shape %v is not a vector", s.In)
		}
		return NewDense(s.In[0], s.Out, s.Bias, r)
	case "act":
		a, err := ParseActivation(s.Act)
		if err != nil {
			return nil, err
		}
		if s.Beta != 0 {
			a.Beta = s.Beta
		}
		return NewAct(a, s.In), nil
	case "flatten":
		return NewFlatten(s.In), nil
	case "dropout":
		if s.Rate < 0 || s.Rate >= 1 {
			return nil, fmt.Errorf("dropout rate %v outside [0,1)", s.Rate)
		}
		return NewDropout(s.Rate, s.In), nil
	}
	if b, ok := builders[s.Kind]; ok {
		return b(s, r)
	}
	return nil, fmt.Errorf("unknown layer kind %q", s.Kind)
}

// builders holds constructors of the layer kinds defined in other files.
var builders = map[string]func(LayerSpec, *rand.Rand) (Layer, error){}

const netMagic = "NADIRNET1"

// MarshalBinary encodes architecture, parameters, optimiser slots and
// layer buffers, with a checksum.
func (n *Net) MarshalBinary() ([]byte, error) {
	type header struct {
		Spec  NetSpec `json:"spec"`
		Slots []int   `json:"slots"` // optimiser slots per parameter
	}
	h := header{Spec: n.Spec()}
	for _, p := range n.Params() {
		h.Slots = append(h.Slots, len(p.Slots))
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	var body bytes.Buffer
	binary.Write(&body, binary.LittleEndian, uint32(len(hj)))
	body.Write(hj)
	put := func(s []float32) {
		binary.Write(&body, binary.LittleEndian, uint32(len(s)))
		var b [4]byte
		for _, v := range s {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			body.Write(b[:])
		}
	}
	for _, p := range n.Params() {
		put(p.Data)
		for _, s := range p.Slots {
			put(s)
		}
	}
	for _, l := range n.Layers {
		if b, ok := l.(Buffered); ok {
			for _, s := range b.Buffers() {
				put(*s)
			}
		}
	}
	out := []byte(netMagic)
	out = binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(body.Bytes()))
	return append(out, body.Bytes()...), nil
}

var errCorrupt = errors.New("network data is corrupt")

// UnmarshalNet decodes what MarshalBinary wrote.
func UnmarshalNet(b []byte) (*Net, error) {
	if len(b) < len(netMagic)+8 || string(b[:len(netMagic)]) != netMagic {
		return nil, errors.New("not a nadir network")
	}
	sum := binary.LittleEndian.Uint32(b[len(netMagic):])
	body := b[len(netMagic)+4:]
	if crc32.ChecksumIEEE(body) != sum {
		return nil, fmt.Errorf("%w (checksum mismatch)", errCorrupt)
	}
	hl := int(binary.LittleEndian.Uint32(body))
	if 4+hl > len(body) {
		return nil, errCorrupt
	}
	var h struct {
		Spec  NetSpec `json:"spec"`
		Slots []int   `json:"slots"`
	}
	if err := json.Unmarshal(body[4:4+hl], &h); err != nil {
		return nil, fmt.Errorf("%w: %v", errCorrupt, err)
	}
	// Every value the architecture implies is stored after the header, so
	// an architecture larger than the file is corrupt: refused here,
	// before Build allocates it.
	rest := body[4+hl:]
	if fp := h.Spec.Footprint(); satAdd(fp.Params, fp.Buffers) > int64(len(rest)/4) {
		return nil, fmt.Errorf("%w: the architecture has %d values, the data holds at most %d", errCorrupt, satAdd(fp.Params, fp.Buffers), len(rest)/4)
	}
	net, err := Build(h.Spec, nil)
	if err != nil {
		return nil, err
	}
	get := func(want int) ([]float32, error) {
		if len(rest) < 4 {
			return nil, errCorrupt
		}
		n := int(binary.LittleEndian.Uint32(rest))
		rest = rest[4:]
		if n != want || len(rest) < 4*n {
			return nil, fmt.Errorf("%w: array of %d values where %d expected", errCorrupt, n, want)
		}
		s := make([]float32, n)
		for i := range s {
			s[i] = math.Float32frombits(binary.LittleEndian.Uint32(rest[4*i:]))
		}
		rest = rest[4*n:]
		return s, nil
	}
	params := net.Params()
	if len(params) != len(h.Slots) {
		return nil, errCorrupt
	}
	for i, p := range params {
		if p.Data, err = get(p.Len()); err != nil {
			return nil, err
		}
		p.Slots = nil
		for k := 0; k < h.Slots[i]; k++ {
			s, err := get(p.Len())
			if err != nil {
				return nil, err
			}
			p.Slots = append(p.Slots, s)
		}
	}
	for _, l := range net.Layers {
		if b, ok := l.(Buffered); ok {
			for _, s := range b.Buffers() {
				v, err := get(len(*s))
				if err != nil {
					return nil, err
				}
				*s = v
			}
		}
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(rest))
	}
	return net, nil
}
