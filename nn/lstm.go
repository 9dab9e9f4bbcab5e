package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/nadir-ml/nadir/tensor"
)

// LSTM is one long short-term memory layer trained by backpropagation
// through time. It is not a Layer of a sequential Net: recurrent models (the
// NPI core, the co-exploration controller) drive it step by step or over a
// whole sequence themselves.
//
// With gates stacked in the order input, forget, cell, output, one step is
//
//	z   = Wx·x_t + Wh·h_{t−1} + B          (4H values)
//	i, f, o = σ(z_i), σ(z_f), σ(z_o);  g = tanh(z_g)
//	c_t = f⊙c_{t−1} + i⊙g;  h_t = o⊙tanh(c_t)
//
// Usage:
//
//	l := nn.NewLSTM("core", in, hidden, rng)
//	var cache nn.LSTMCache
//	hs := l.Forward(&cache, x, T, N, h0, c0)     // x: T×N×In, time-major
//	... loss on hs (T×N×H) and on the final state cache.Last() ...
//	dx, dh0, dc0 := l.Backward(&cache, dhs, dhT, dcT) // adds into Param.Grad
//
// For inference one sequence at a time, Step advances (h, c) in place with
// no allocation. Sequences of different lengths can share a batch when they
// are padded at the end and the padded steps get zero gradient: BPTT is
// linear in the upstream gradients, so padding then changes nothing (but
// Last then holds the state after the padding, not at each sequence's end).
type LSTM struct {
	In, Hidden int
	Wx         *Param // 4H×In
	Wh         *Param // 4H×H
	B          *Param // 4H×1

	// Transposed weight copies refreshed by Forward so that the forward
	// products are plain (not transposed-B) matrix multiplies.
	wxT, whT []float32
}

// NewLSTM returns an LSTM with weights uniform in ±1/√hidden and a forget
// gate bias of 1, which lets early training carry the cell state along.
// Parameter names are name+".wx", ".wh", ".b".
func NewLSTM(name string, in, hidden int, r *rand.Rand) *LSTM {
	if in <= 0 || hidden <= 0 {
		panic(fmt.Sprintf("nn: NewLSTM with in=%d hidden=%d", in, hidden))
	}
	l := &LSTM{
		In: in, Hidden: hidden,
		Wx: NewParam(name+".wx", 4*hidden, in),
		Wh: NewParam(name+".wh", 4*hidden, hidden),
		B:  NewParam(name+".b", 4*hidden, 1),
	}
	l.B.NoDecay = true
	s := 1 / math.Sqrt(float64(hidden))
	for _, p := range []*Param{l.Wx, l.Wh} {
		for i := range p.Data {
			p.Data[i] = float32((2*r.Float64() - 1) * s)
		}
	}
	for j := hidden; j < 2*hidden; j++ {
		l.B.Data[j] = 1
	}
	return l
}

// Params returns Wx, Wh, B.
func (l *LSTM) Params() []*Param { return []*Param{l.Wx, l.Wh, l.B} }

// LSTMCache holds what one Forward needs for Backward, plus the buffers
// both return. A zero LSTMCache is ready to use; buffers grow as needed and
// are reused, so a training loop over similar shapes does not allocate.
type LSTMCache struct {
	T, N, H int
	x       []float32 // T×N×In copy of the input
	h       []float32 // (T+1)×N×H; block 0 is h0
	c       []float32 // (T+1)×N×H; block 0 is c0
	gates   []float32 // T×N×4H activated gates i, f, g, o
	tc      []float32 // T×N×H tanh(c_t)

	dgates        []float32 // T×N×4H
	dx            []float32 // T×N×In
	dhNext, dcNxt []float32 // N×H
}

// Last returns the final hidden and cell states (N×H each) of the last
// Forward; the slices alias the cache.
func (c *LSTMCache) Last() (h, cell []float32) {
	nh := c.N * c.H
	return c.h[c.T*nh : (c.T+1)*nh], c.c[c.T*nh : (c.T+1)*nh]
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// Forward runs T steps on a batch of N sequences. x holds T×N×In values,
// time-major (the N inputs of step 0 first). h0 and c0 are N×H initial
// states; nil means zeros. It returns the hidden states h_1…h_T as T×N×H
// values owned by the cache (valid until its next Forward).
func (l *LSTM) Forward(cache *LSTMCache, x []float32, T, N int, h0, c0 []float32) []float32 {
	H, In := l.Hidden, l.In
	if len(x) != T*N*In {
		panic(fmt.Sprintf("nn: LSTM.Forward x has %d values, want T*N*In = %d", len(x), T*N*In))
	}
	if (h0 != nil && len(h0) != N*H) || (c0 != nil && len(c0) != N*H) {
		panic("nn: LSTM.Forward initial state is not N×H")
	}
	l.refreshTransposes()
	cache.T, cache.N, cache.H = T, N, H
	cache.x = grow(cache.x, len(x))
	copy(cache.x, x)
	cache.h = grow(cache.h, (T+1)*N*H)
	cache.c = grow(cache.c, (T+1)*N*H)
	cache.gates = grow(cache.gates, T*N*4*H)
	cache.tc = grow(cache.tc, T*N*H)
	if h0 == nil {
		clear(cache.h[:N*H])
	} else {
		copy(cache.h, h0)
	}
	if c0 == nil {
		clear(cache.c[:N*H])
	} else {
		copy(cache.c, c0)
	}
	G := 4 * H
	// Input contributions of all steps in one product, then the bias.
	if T*N > 0 {
		tensor.Gemm(false, false, T*N, G, In, 1, cache.x, In, l.wxT, G, 0, cache.gates, G)
	}
	for r := 0; r < T*N; r++ {
		row := cache.gates[r*G : (r+1)*G]
		for j, b := range l.B.Data {
			row[j] += b
		}
	}
	for t := 0; t < T; t++ {
		z := cache.gates[t*N*G : (t+1)*N*G]
		hp := cache.h[t*N*H : (t+1)*N*H]
		tensor.Gemm(false, false, N, G, H, 1, hp, H, l.whT, G, 1, z, G)
		cp := cache.c[t*N*H : (t+1)*N*H]
		cn := cache.c[(t+1)*N*H : (t+2)*N*H]
		hn := cache.h[(t+1)*N*H : (t+2)*N*H]
		tc := cache.tc[t*N*H : (t+1)*N*H]
		for n := 0; n < N; n++ {
			cellStep(z[n*G:(n+1)*G], cp[n*H:(n+1)*H], cn[n*H:(n+1)*H], hn[n*H:(n+1)*H], tc[n*H:(n+1)*H])
		}
	}
	return cache.h[N*H : (T+1)*N*H]
}

// cellStep activates the pre-activations z (in place) and computes the new
// cell state, its tanh, and the new hidden state.
func cellStep(z, cp, cn, hn, tc []float32) {
	H := len(cp)
	zi, zf, zg, zo := z[:H], z[H:2*H], z[2*H:3*H], z[3*H:4*H]
	for j := 0; j < H; j++ {
		i := sigmoid(zi[j])
		f := sigmoid(zf[j])
		g := float32(math.Tanh(float64(zg[j])))
		o := sigmoid(zo[j])
		zi[j], zf[j], zg[j], zo[j] = i, f, g, o
		c := f*cp[j] + i*g
		cn[j] = c
		t := float32(math.Tanh(float64(c)))
		tc[j] = t
		hn[j] = o * t
	}
}

func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

func (l *LSTM) refreshTransposes() {
	G := 4 * l.Hidden
	l.wxT = transposeInto(l.wxT, l.Wx.Data, G, l.In)
	l.whT = transposeInto(l.whT, l.Wh.Data, G, l.Hidden)
}

// transposeInto writes the cols×rows transpose of the rows×cols matrix src.
func transposeInto(dst, src []float32, rows, cols int) []float32 {
	dst = grow(dst, rows*cols)
	for r := 0; r < rows; r++ {
		for c, v := range src[r*cols : (r+1)*cols] {
			dst[c*rows+r] = v
		}
	}
	return dst
}

// Backward propagates through the T steps of the last Forward. dh holds
// dL/dh_t for every step (T×N×H, nil: zeros); dhT and dcT are extra
// gradients on the final state (N×H, nil: zeros). Parameter gradients are
// added into Wx.Grad, Wh.Grad and B.Grad. It returns dL/dx (T×N×In) and
// dL/dh0, dL/dc0 (N×H), all owned by the cache.
func (l *LSTM) Backward(cache *LSTMCache, dh, dhT, dcT []float32) (dx, dh0, dc0 []float32) {
	H, In, G := l.Hidden, l.In, 4*l.Hidden
	T, N := cache.T, cache.N
	if dh != nil && len(dh) != T*N*H {
		panic(fmt.Sprintf("nn: LSTM.Backward dh has %d values, want %d", len(dh), T*N*H))
	}
	cache.dgates = grow(cache.dgates, T*N*G)
	cache.dx = grow(cache.dx, T*N*In)
	cache.dhNext = grow(cache.dhNext, N*H)
	cache.dcNxt = grow(cache.dcNxt, N*H)
	dhN, dcN := cache.dhNext, cache.dcNxt
	if dhT == nil {
		clear(dhN)
	} else {
		copy(dhN, dhT)
	}
	if dcT == nil {
		clear(dcN)
	} else {
		copy(dcN, dcT)
	}
	for t := T - 1; t >= 0; t-- {
		gates := cache.gates[t*N*G : (t+1)*N*G]
		dg := cache.dgates[t*N*G : (t+1)*N*G]
		cp := cache.c[t*N*H : (t+1)*N*H]
		tc := cache.tc[t*N*H : (t+1)*N*H]
		for n := 0; n < N; n++ {
			gt := gates[n*G : (n+1)*G]
			d := dg[n*G : (n+1)*G]
			for j := 0; j < H; j++ {
				k := n*H + j
				dht := dhN[k]
				if dh != nil {
					dht += dh[t*N*H+k]
				}
				i, f, g, o := gt[j], gt[H+j], gt[2*H+j], gt[3*H+j]
				th := tc[k]
				dc := dcN[k] + dht*o*(1-th*th)
				d[j] = dc * g * i * (1 - i)
				d[H+j] = dc * cp[k] * f * (1 - f)
				d[2*H+j] = dc * i * (1 - g*g)
				d[3*H+j] = dht * th * o * (1 - o)
				dcN[k] = dc * f
			}
		}
		// dh_{t−1} = dz_t · Wh
		tensor.Gemm(false, false, N, H, G, 1, dg, G, l.Wh.Data, H, 0, dhN, H)
	}
	if T*N > 0 {
		tensor.Gemm(true, false, G, H, T*N, 1, cache.dgates, G, cache.h[:T*N*H], H, 1, l.Wh.Grad, H)
		tensor.Gemm(true, false, G, In, T*N, 1, cache.dgates, G, cache.x, In, 1, l.Wx.Grad, In)
		tensor.Gemm(false, false, T*N, In, G, 1, cache.dgates, G, l.Wx.Data, In, 0, cache.dx, In)
		for r := 0; r < T*N; r++ {
			for j, v := range cache.dgates[r*G : (r+1)*G] {
				l.B.Grad[j] += v
			}
		}
	} else {
		clear(cache.dx)
	}
	return cache.dx, dhN, dcN
}

// Step advances one sequence by one step without a cache: h and c (H values
// each) are updated in place from input x (In values). scratch must hold at
// least 4H values. Step does not allocate; it reads the weights directly, so
// it sees updates made since the last Forward.
func (l *LSTM) Step(h, c, x, scratch []float32) {
	H, In, G := l.Hidden, l.In, 4*l.Hidden
	if len(h) != H || len(c) != H || len(x) != In || len(scratch) < G {
		panic("nn: LSTM.Step buffer sizes do not match the layer")
	}
	z := scratch[:G]
	wx, wh := l.Wx.Data, l.Wh.Data
	for r := 0; r < G; r++ {
		z[r] = l.B.Data[r] + tensor.Dot(wx[r*In:(r+1)*In], x) + tensor.Dot(wh[r*H:(r+1)*H], h)
	}
	// cellStep needs separate old/new cell buffers only elementwise, so the
	// update can be done in place; tanh(c) is not needed afterwards.
	zi, zf, zg, zo := z[:H], z[H:2*H], z[2*H:3*H], z[3*H:4*H]
	for j := 0; j < H; j++ {
		i := sigmoid(zi[j])
		f := sigmoid(zf[j])
		g := float32(math.Tanh(float64(zg[j])))
		o := sigmoid(zo[j])
		cj := f*c[j] + i*g
		c[j] = cj
		h[j] = o * float32(math.Tanh(float64(cj)))
	}
}
