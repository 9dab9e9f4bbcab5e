package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// lstmLoss is a fixed random linear function of every hidden state and the
// final (h, c), accumulated in float64 so that finite differences see the
// float32 forward pass, not summation noise.
type lstmLoss struct {
	wh, whT, wcT []float32
}

func (f lstmLoss) value(l *LSTM, x []float32, T, N int, h0, c0 []float32) float64 {
	var cache LSTMCache
	hs := l.Forward(&cache, x, T, N, h0, c0)
	hT, cT := cache.Last()
	var s float64
	for i, v := range hs {
		s += float64(f.wh[i]) * float64(v)
	}
	for i := range hT {
		s += float64(f.whT[i])*float64(hT[i]) + float64(f.wcT[i])*float64(cT[i])
	}
	return s
}

func randSlice(r *rand.Rand, n int, scale float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64() * scale)
	}
	return s
}

func TestLSTMGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const in, hid, T, N = 3, 4, 5, 2
	l := NewLSTM("t", in, hid, r)
	for _, p := range l.Params() {
		for i := range p.Data {
			p.Data[i] = float32(r.NormFloat64() * 0.5)
		}
	}
	x := randSlice(r, T*N*in, 1)
	h0 := randSlice(r, N*hid, 0.5)
	c0 := randSlice(r, N*hid, 0.5)
	f := lstmLoss{randSlice(r, T*N*hid, 1), randSlice(r, N*hid, 1), randSlice(r, N*hid, 1)}

	var cache LSTMCache
	l.Forward(&cache, x, T, N, h0, c0)
	for _, p := range l.Params() {
		p.ZeroGrad()
	}
	dx, dh0, dc0 := l.Backward(&cache, f.wh, f.whT, f.wcT)

	check := func(name string, v []float32, grad []float32) {
		t.Helper()
		const eps = 1e-2
		for i := range v {
			old := v[i]
			v[i] = old + eps
			lp := f.value(l, x, T, N, h0, c0)
			v[i] = old - eps
			lm := f.value(l, x, T, N, h0, c0)
			v[i] = old
			num := (lp - lm) / (2 * eps)
			if d := math.Abs(num - float64(grad[i])); d > 2e-3*math.Max(1, math.Abs(num)) {
				t.Errorf("%s[%d]: backprop %.6g, finite difference %.6g", name, i, grad[i], num)
			}
		}
	}
	check("wx", l.Wx.Data, l.Wx.Grad)
	check("wh", l.Wh.Data, l.Wh.Grad)
	check("b", l.B.Data, l.B.Grad)
	check("x", x, append([]float32(nil), dx...))
	check("h0", h0, append([]float32(nil), dh0...))
	check("c0", c0, append([]float32(nil), dc0...))
}

// Padding a shorter sequence at the end with zero upstream gradient must not
// change its gradients: batches of mixed lengths rely on this.
func TestLSTMPaddingIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const in, hid = 2, 3
	l := NewLSTM("t", in, hid, r)
	x := randSlice(r, 2*in, 1) // 2 steps of one sequence
	dh := randSlice(r, 2*hid, 1)

	var c1 LSTMCache
	l.Forward(&c1, x, 2, 1, nil, nil)
	l.Backward(&c1, dh, nil, nil)
	want := append([]float32(nil), l.Wh.Grad...)
	l.Wh.ZeroGrad()
	l.Wx.ZeroGrad()
	l.B.ZeroGrad()

	xp := append(append([]float32(nil), x...), randSlice(r, 3*in, 1)...)
	dhp := append(append([]float32(nil), dh...), make([]float32, 3*hid)...)
	var c2 LSTMCache
	l.Forward(&c2, xp, 5, 1, nil, nil)
	l.Backward(&c2, dhp, nil, nil)
	for i := range want {
		if d := math.Abs(float64(want[i] - l.Wh.Grad[i])); d > 1e-6 {
			t.Fatalf("Wh.Grad[%d] = %g with padding, %g without", i, l.Wh.Grad[i], want[i])
		}
	}
}

// Step must agree with a one-sequence Forward.
func TestLSTMStepMatchesForward(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const in, hid, T = 3, 5, 4
	l := NewLSTM("t", in, hid, r)
	x := randSlice(r, T*in, 1)
	var cache LSTMCache
	hs := l.Forward(&cache, x, T, 1, nil, nil)
	h := make([]float32, hid)
	c := make([]float32, hid)
	scratch := make([]float32, 4*hid)
	for s := 0; s < T; s++ {
		l.Step(h, c, x[s*in:(s+1)*in], scratch)
		for j := range h {
			if d := math.Abs(float64(h[j] - hs[s*hid+j])); d > 1e-6 {
				t.Fatalf("step %d unit %d: Step %g, Forward %g", s, j, h[j], hs[s*hid+j])
			}
		}
	}
}

// An LSTM whose forget gate is saturated open and input gate shut carries
// its cell state unchanged: the memory behaviour the NPI core relies on.
func ExampleLSTM() {
	r := rand.New(rand.NewPCG(1, 1))
	l := NewLSTM("mem", 1, 1, r)
	clear(l.Wx.Data)
	clear(l.Wh.Data)
	copy(l.B.Data, []float32{-20, 20, 0, 20}) // i shut, f open, g 0, o open
	var cache LSTMCache
	l.Forward(&cache, []float32{1, 2, 3}, 3, 1, []float32{0}, []float32{0.5})
	h, c := cache.Last()
	fmt.Printf("c=%.3f h=%.3f\n", c[0], h[0])
	// Output: c=0.500 h=0.462
}
