package nn

import (
	"fmt"
	"math/rand/v2"
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
// A classifier head (flatten if needed, dense to classes) is appended.
// Example: cnn:c8,p,c16,p,f32.
func ParseModel(spec string, in []int, classes int, act Activation, r *rand.Rand) (*Net, error) {
	kind, body, ok := strings.Cut(strings.TrimSpace(spec), ":")
	if !ok || body == "" {
		return nil, fmt.Errorf("model %q: want mlp:H1,H2,... or cnn:TOKENS", spec)
	}
	if classes < 2 {
		return nil, fmt.Errorf("model %q: need at least 2 classes, data has %d", spec, classes)
	}
	b := &builder{shape: append([]int(nil), in...), act: act, r: r}
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
	return NewNet(in, b.layers...)
}

type builder struct {
	shape  []int
	act    Activation
	r      *rand.Rand
	layers []Layer
	err    error
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

func (b *builder) conv(out, k, stride, groups int) {
	if b.err != nil {
		return
	}
	if len(b.shape) != 3 {
		b.err = fmt.Errorf("convolution after a dense layer")
		return
	}
	c, err := NewConv2D(b.shape, out, k, stride, k/2, groups, false, b.r)
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
			l, err := NewMaxPool2D(b.shape, 2, 2)
			b.add(l, err)
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
