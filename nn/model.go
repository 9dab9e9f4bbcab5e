package nn

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// ParseModel builds a network from nadir's model grammar for inputs of
// per-example shape in and the given number of classes:
//
//	mlp:H1,H2,...   dense hidden layers of widths H1, H2, ... with act
//	cnn:TOKENS      comma-separated tokens:
//	  c<N>          3x3 conv, same padding, no bias, + BatchNorm + act
//	  c<N>k<K>      kernel K;  c<N>s2: stride 2 (both may be combined)
//	  d<N>          depthwise-separable block: 3x3 depthwise + BN + act,
//	                then 1x1 pointwise to N + BN + act
//	  p             2x2 max pool;  g: global average pool
//	  f<N>          dense hidden layer of width N + act
//
// A classifier head (flatten if needed, dense to classes) is appended. A
// kernel larger than 3 must fit its input (the 3x3 default fits any map).
// Example: cnn:c8,p,c16,p,f32.
func ParseModel(spec string, in []int, classes int, act Activation, r *rand.Rand) (*Net, error) {
	// A dry pass sizes the model first, so that one too large for this
	// machine is refused before anything is allocated.
	fp, err := ModelFootprint(spec, in, classes)
	if err != nil {
		return nil, err
	}
	if need, avail := fp.Bytes(1, 1, 0), AvailableMemory(); avail > 0 && need > avail {
		return nil, fmt.Errorf("model %q: %d parameters need %s, more than the %s of memory available",
			spec, fp.Params, FormatBytes(need), FormatBytes(avail))
	}
	b, err := parseModel(spec, in, classes, act, r, false)
	if err != nil {
		return nil, err
	}
	return NewNet(in, b.layers...)
}

// parseModel runs the grammar; a dry builder only tracks shapes and sizes.
func parseModel(spec string, in []int, classes int, act Activation, r *rand.Rand, dry bool) (*builder, error) {
	kind, body, ok := strings.Cut(strings.TrimSpace(spec), ":")
	if !ok || body == "" {
		return nil, fmt.Errorf("model %q: want mlp:H1,H2,... or cnn:TOKENS", spec)
	}
	if classes < 2 {
		return nil, fmt.Errorf("model %q: need at least 2 classes, data has %d", spec, classes)
	}
	if len(in) == 0 || slices.ContainsFunc(in, func(d int) bool { return d < 1 }) {
		return nil, fmt.Errorf("model %q: input shape %v has no positive size", spec, in)
	}
	b := &builder{shape: append([]int(nil), in...), act: act, r: r, dry: dry}
	tokens := strings.Split(body, ",")
	switch kind {
	case "mlp":
		for _, t := range tokens {
			w, err := strconv.Atoi(strings.TrimSpace(t))
			if err != nil || w <= 0 {
				return nil, fmt.Errorf("model %q: bad hidden width %q", spec, t)
			}
			b.dense(w, true)
		}
	case "cnn":
		if len(in) != 3 {
			return nil, fmt.Errorf("model %q: cnn needs image data (C,H,W), data has shape %v", spec, in)
		}
		for _, t := range tokens {
			if err := b.token(strings.TrimSpace(t)); err != nil {
				return nil, fmt.Errorf("model %q: token %q: %v", spec, t, err)
			}
		}
	default:
		return nil, fmt.Errorf("model %q: unknown family %q (want mlp or cnn)", spec, kind)
	}
	b.dense(classes, false)
	if b.err != nil {
		return nil, fmt.Errorf("model %q: %v", spec, b.err)
	}
	return b, nil
}

type builder struct {
	shape  []int
	act    Activation
	r      *rand.Rand
	layers []Layer
	err    error
	// dry builders allocate nothing: they track the shape and add up
	// the footprint (see ModelFootprint).
	dry bool
	fp  Footprint
}

// dryAdd records a layer of a dry build: its sizes and output shape.
func (b *builder) dryAdd(params, buffers, scratch int64, out []int) {
	if b.err != nil {
		return
	}
	b.fp.Params = satAdd(b.fp.Params, params)
	b.fp.Buffers = satAdd(b.fp.Buffers, buffers)
	b.fp.Scratch = max(b.fp.Scratch, scratch)
	b.fp.Activations = satAdd(b.fp.Activations, numel64(out))
	b.shape = out
}

func (b *builder) add(l Layer, err error) {
	if b.err != nil {
		return
	}
	if err != nil {
		b.err = err
		return
	}
	b.layers = append(b.layers, l)
	b.shape = l.OutShape()
}

func (b *builder) dense(w int, act bool) {
	if b.dry {
		if b.err != nil {
			return
		}
		in := numel64(b.shape)
		if len(b.shape) > 1 {
			b.dryAdd(0, 0, 0, []int{int(in)})
		}
		b.dryAdd(satAdd(satMul(in, int64(w)), int64(w)), 0, 0, []int{w})
		if act {
			b.dryAdd(0, 0, 0, []int{w})
		}
		return
	}
	if len(b.shape) > 1 {
		b.add(NewFlatten(b.shape), nil)
	}
	if b.err != nil {
		return
	}
	d, err := NewDense(b.shape[0], w, true, b.r)
	b.add(d, err)
	if act {
		b.add(NewAct(b.act, b.shape), nil)
	}
}

func (b *builder) conv(outC, k, stride, groups int) {
	if b.err != nil {
		return
	}
	if len(b.shape) != 3 {
		b.err = fmt.Errorf("convolution after a dense layer")
		return
	}
	// Same padding keeps a larger kernel valid, but most of it would only
	// ever see padding: almost surely a typo, and a slow one. The 3x3
	// default stays valid on any map, as deep stacks reach 1x1 maps.
	if k > 3 && (k > b.shape[1] || k > b.shape[2]) {
		b.err = fmt.Errorf("kernel %d larger than the %dx%d input", k, b.shape[1], b.shape[2])
		return
	}
	if b.dry {
		c := b.shape[0]
		oh := (b.shape[1]+2*(k/2)-k)/stride + 1
		ow := (b.shape[2]+2*(k/2)-k)/stride + 1
		out := []int{outC, oh, ow}
		fan := satMul(int64(c/groups), int64(k*k))
		patches := satMul(fan, satMul(int64(groups), int64(oh*ow)))
		b.dryAdd(satMul(int64(outC), fan), 0, patches, out)
		b.dryAdd(satMul(int64(outC), 2), satMul(int64(outC), 2), 0, out) // BatchNorm
		b.dryAdd(0, 0, 0, out)                                           // activation
		return
	}
	c, err := NewConv2D(b.shape, outC, k, stride, k/2, groups, false, b.r)
	b.add(c, err)
	if b.err != nil {
		return
	}
	bn, err := NewBatchNorm(b.shape)
	b.add(bn, err)
	b.add(NewAct(b.act, b.shape), nil)
}

func (b *builder) token(t string) error {
	if t == "" {
		return fmt.Errorf("empty token")
	}
	switch t[0] {
	case 'p', 'g':
		if t != "p" && t != "g" {
			return fmt.Errorf("unknown token")
		}
		if len(b.shape) != 3 {
			return fmt.Errorf("pooling after a dense layer")
		}
		if t == "p" {
			if b.shape[1] < 2 || b.shape[2] < 2 {
				return fmt.Errorf("feature map %dx%d too small to pool", b.shape[1], b.shape[2])
			}
			if b.dry {
				b.dryAdd(0, 0, 0, []int{b.shape[0], b.shape[1] / 2, b.shape[2] / 2})
				return b.err
			}
			l, err := NewMaxPool2D(b.shape, 2, 2)
			b.add(l, err)
		} else if b.dry {
			b.dryAdd(0, 0, 0, []int{b.shape[0]})
		} else {
			l, err := NewGlobalAvgPool(b.shape)
			b.add(l, err)
		}
		return b.err
	case 'f':
		w, err := strconv.Atoi(t[1:])
		if err != nil || w <= 0 {
			return fmt.Errorf("bad width")
		}
		b.dense(w, true)
		return b.err
	case 'c', 'd':
		rest := t[1:]
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil || n <= 0 {
			return fmt.Errorf("bad channel count")
		}
		k, stride := 3, 1
		rest = rest[i:]
		for rest != "" {
			switch {
			case strings.HasPrefix(rest, "s2"):
				stride, rest = 2, rest[2:]
			case rest[0] == 'k' && t[0] == 'c':
				j := 1
				for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
					j++
				}
				kk, err := strconv.Atoi(rest[1:j])
				if err != nil || kk <= 0 || kk%2 == 0 {
					return fmt.Errorf("kernel must be a positive odd number")
				}
				k, rest = kk, rest[j:]
			default:
				return fmt.Errorf("unknown suffix %q", rest)
			}
		}
		if len(b.shape) != 3 {
			return fmt.Errorf("convolution after a dense layer")
		}
		if t[0] == 'c' {
			b.conv(n, k, stride, 1)
		} else {
			b.conv(b.shape[0], 3, stride, b.shape[0])
			b.conv(n, 1, 1, 1)
		}
		return b.err
	}
	return fmt.Errorf("unknown token")
}
