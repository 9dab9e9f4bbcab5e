package coexplore

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/nadir-ml/nadir/cost/fpga"
)

// Space is the network search space: a chain of Depth convolutions (each
// K×K, F filters, stride S, same padding, BatchNorm and activation), then
// a dense classifier.
type Space struct {
	Depths  []int `json:"depths"`
	Kernels []int `json:"kernels"`
	Filters []int `json:"filters"`
	Strides []int `json:"strides"`
}

// Spaces are the named presets.
var Spaces = map[string]Space{
	// The paper's CIFAR-10 space ("PredictableStride"), at its logged
	// depth of six layers.
	"paper": {Depths: []int{6}, Kernels: []int{1, 3, 5, 7}, Filters: []int{24, 36, 48, 64}, Strides: []int{1, 2}},
	// Small enough to train children on an MNIST subset on two cores.
	"default": {Depths: []int{1, 2, 3}, Kernels: []int{1, 3, 5}, Filters: []int{4, 8, 16}, Strides: []int{1, 2}},
}

// LoadSpace resolves a preset name or a JSON file ({"depths": [...],
// "kernels": [...], "filters": [...], "strides": [...]}).
func LoadSpace(s string) (Space, error) {
	if sp, ok := Spaces[s]; ok {
		return sp, nil
	}
	if !strings.HasSuffix(s, ".json") {
		return Space{}, fmt.Errorf("search space %q: want default, paper or a .json file", s)
	}
	b, err := os.ReadFile(s)
	if err != nil {
		return Space{}, fmt.Errorf("search space: %v", err)
	}
	var sp Space
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sp); err != nil {
		return Space{}, fmt.Errorf("search space %s: %v", s, err)
	}
	return sp, sp.Validate()
}

// ParseInts parses a comma-separated list of integers ("1,3,5").
func ParseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// Validate reports an empty or impossible space.
func (s Space) Validate() error {
	check := func(name string, vs []int, ok func(int) bool, want string) error {
		if len(vs) == 0 {
			return fmt.Errorf("search space: no %s to choose from", name)
		}
		seen := map[int]bool{}
		for _, v := range vs {
			if !ok(v) {
				return fmt.Errorf("search space: %s %d: want %s", name, v, want)
			}
			if seen[v] {
				return fmt.Errorf("search space: %s %d listed twice", name, v)
			}
			seen[v] = true
		}
		return nil
	}
	return errors.Join(
		check("depths", s.Depths, func(v int) bool { return v >= 1 && v <= 32 }, "1..32"),
		check("kernels", s.Kernels, func(v int) bool { return v >= 1 && v%2 == 1 && v <= 11 }, "odd, 1..11"),
		check("filters", s.Filters, func(v int) bool { return v >= 1 && v <= 1024 }, "1..1024"),
		check("strides", s.Strides, func(v int) bool { return v == 1 || v == 2 }, "1 or 2"),
	)
}

// MaxDepth is the deepest chain of the space.
func (s Space) MaxDepth() int {
	m := 0
	for _, d := range s.Depths {
		m = max(m, d)
	}
	return m
}

// Size is the number of distinct architectures.
func (s Space) Size() float64 {
	per := float64(len(s.Kernels) * len(s.Filters) * len(s.Strides))
	var n float64
	for _, d := range s.Depths {
		v := 1.0
		for range d {
			v *= per
		}
		n += v
	}
	return n
}

// ConvLayer is one layer of a child network.
type ConvLayer struct {
	Kernel  int `json:"k"`
	Filters int `json:"f"`
	Stride  int `json:"s"`
}

// Arch is a child network: its conv chain (the classifier is implied).
type Arch struct {
	Layers []ConvLayer `json:"layers"`
}

// Model is the architecture in nadir's model grammar (nn.ParseModel).
func (a Arch) Model() string {
	var toks []string
	for _, l := range a.Layers {
		t := fmt.Sprintf("c%d", l.Filters)
		if l.Kernel != 3 {
			t += fmt.Sprintf("k%d", l.Kernel)
		}
		if l.Stride == 2 {
			t += "s2"
		}
		toks = append(toks, t)
	}
	return "cnn:" + strings.Join(toks, ",")
}

// String is the compact [[K,F,S],...] form of the paper's logs.
func (a Arch) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, l := range a.Layers {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "[%d,%d,%d]", l.Kernel, l.Filters, l.Stride)
	}
	b.WriteByte(']')
	return b.String()
}

// Hash identifies the architecture: the SHA-256 of its canonical model
// string, so that decisions of unused layers do not make two identical
// networks look different.
func (a Arch) Hash() string {
	h := sha256.Sum256([]byte(a.Model()))
	return hex.EncodeToString(h[:8])
}

// FPGALayers lists the layers the accelerators run for inputs of shape
// (channels, height, width): the convolutions, with BatchNorm and the
// activation folded into their output stage. The dense classifier runs on
// the boards' processors, as in the reference models, which price
// convolutions only: at batch 1 it streams every weight once per image,
// so its time is the same on every tiling and would hide the differences
// between accelerator designs.
func (a Arch) FPGALayers(in []int) []fpga.Layer {
	ch, h, w := in[0], in[1], in[2]
	var out []fpga.Layer
	for _, l := range a.Layers {
		p := l.Kernel / 2
		h = (h+2*p-l.Kernel)/l.Stride + 1
		w = (w+2*p-l.Kernel)/l.Stride + 1
		out = append(out, fpga.Layer{B: 1, M: l.Filters, N: ch, R: h, C: w, K: l.Kernel, S: l.Stride, P: p})
		ch = l.Filters
	}
	return out
}

// Reference is the network the hardware-aware baseline's fixed
// accelerators are designed for: a typical member of the space (the
// median depth, filter count and stride of its lists) with the largest
// kernel, so that every child's kernels fit the fixed templates.
func (s Space) Reference() Arch {
	med := func(vs []int) int {
		c := append([]int(nil), vs...)
		sort.Ints(c)
		return c[len(c)/2]
	}
	kmax := 0
	for _, k := range s.Kernels {
		kmax = max(kmax, k)
	}
	var a Arch
	for range med(s.Depths) {
		a.Layers = append(a.Layers, ConvLayer{Kernel: kmax, Filters: med(s.Filters), Stride: med(s.Strides)})
	}
	return a
}
