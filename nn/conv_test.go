package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nadir-ml/nadir/tensor"
)

// uniformTensor fills a tensor with values drawn uniformly from [-1, 1).
func uniformTensor(r *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(2*r.Float64() - 1)
	}
	return t
}

// maxAbsDiff is the largest |a[i]−b[i]|.
func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("maxAbsDiff: lengths %d and %d", len(a), len(b)))
	}
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// naiveConv2D is the direct definition of a grouped convolution of a batch
// x (n, cin, h, w), in float64.
func naiveConv2D(x *tensor.Tensor, c *Conv2D) []float64 {
	n, cin, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	out, k, s, p, g := c.W.Rows, c.k, c.stride, c.pad, c.grp
	oh, ow := (h+2*p-k)/s+1, (w+2*p-k)/s+1
	cg, og := cin/g, out/g
	y := make([]float64, n*out*oh*ow)
	for b := 0; b < n; b++ {
		for o := 0; o < out; o++ {
			grp := o / og
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					var acc float64
					if c.B != nil {
						acc = float64(c.B.Data[o])
					}
					for ci := 0; ci < cg; ci++ {
						for a := 0; a < k; a++ {
							for e := 0; e < k; e++ {
								ii, jj := i*s-p+a, j*s-p+e
								if ii < 0 || ii >= h || jj < 0 || jj >= w {
									continue
								}
								acc += float64(c.W.Data[o*c.W.Cols+(ci*k+a)*k+e]) *
									float64(x.Data[((b*cin+grp*cg+ci)*h+ii)*w+jj])
							}
						}
					}
					y[((b*out+o)*oh+i)*ow+j] = acc
				}
			}
		}
	}
	return y
}

func mustConv(t testing.TB, in []int, out, k, stride, pad, groups int, bias bool, r *rand.Rand) *Conv2D {
	t.Helper()
	c, err := NewConv2D(in, out, k, stride, pad, groups, bias, r)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConv2DMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	cases := []struct{ n, c, h, w, out, k, s, p, g int }{
		{1, 1, 1, 1, 1, 1, 1, 0, 1},
		{2, 3, 7, 7, 4, 3, 1, 1, 1},
		{3, 2, 33, 7, 5, 5, 2, 2, 1},
		{2, 1, 28, 28, 3, 5, 1, 0, 1},
		{1, 4, 7, 33, 6, 3, 2, 1, 2},
		{2, 5, 9, 9, 5, 3, 1, 1, 5},   // depthwise
		{2, 6, 7, 7, 6, 5, 2, 2, 6},   // depthwise, stride 2
		{3, 6, 8, 5, 12, 3, 1, 0, 3},  // groups 3, 4 filters each
		{2, 4, 6, 6, 8, 1, 1, 0, 1},   // pointwise
		{2, 4, 6, 6, 8, 1, 2, 0, 1},   // strided 1×1 needs im2col
		{9, 3, 5, 5, 4, 3, 1, 1, 1},   // batch above gradChunks
		{2, 3, 1, 1, 2, 3, 1, 1, 1},   // kernel larger than the image
		{1, 6, 4, 4, 12, 3, 1, 1, 6},  // groups = C, two filters each: not depthwise
		{17, 2, 3, 3, 3, 2, 1, 0, 1},  // even kernel, uneven chunks
		{2, 3, 33, 33, 2, 3, 3, 0, 1}, // stride 3
	}
	for _, tc := range cases {
		for _, bias := range []bool{false, true} {
			name := fmt.Sprintf("%+v/bias=%v", tc, bias)
			c := mustConv(t, []int{tc.c, tc.h, tc.w}, tc.out, tc.k, tc.s, tc.p, tc.g, bias, r)
			x := uniformTensor(r, tc.n, tc.c, tc.h, tc.w)
			y := c.Forward(x, true)
			want := naiveConv2D(x, c)
			oh, ow := c.OutHW()
			if got := y.Shape; len(got) != 4 || got[0] != tc.n || got[1] != tc.out || got[2] != oh || got[3] != ow {
				t.Fatalf("%s: output shape %v", name, got)
			}
			for i, v := range want {
				if d := math.Abs(float64(y.Data[i]) - v); d > 1e-5*math.Max(1, math.Abs(v)) {
					t.Fatalf("%s: y[%d] = %v, want %v", name, i, y.Data[i], v)
				}
			}
		}
	}
}

func TestConv2DGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	type tc struct {
		c, hw, out, k, s, p, g int
		bias                   bool
	}
	var cases []tc
	for _, k := range []int{1, 3, 5} {
		for _, s := range []int{1, 2} {
			for _, p := range []int{0, 1} {
				cases = append(cases,
					tc{3, 7, 4, k, s, p, 1, s == 1},
					tc{4, 6, 4, k, s, p, 4, p == 0}, // depthwise
					tc{4, 7, 6, k, s, p, 2, s == 2}, // groups 2
				)
			}
		}
	}
	for _, c := range cases {
		l := mustConv(t, []int{c.c, c.hw, c.hw}, c.out, c.k, c.s, c.p, c.g, c.bias, r)
		name := fmt.Sprintf("conv %dx%dx%d→%d k%d s%d p%d g%d bias=%v", c.c, c.hw, c.hw, c.out, c.k, c.s, c.p, c.g, c.bias)
		checkGrad(t, name, l, []int{2, c.c, c.hw, c.hw}, true, r)
	}
}

// A 9-example batch spans every gradient slice with uneven sizes; the
// accumulated gradients must not depend on the thread count, and Backward
// must add to, not overwrite, Param.Grad.
func TestConv2DDeterministicAndAccumulating(t *testing.T) {
	defer tensor.SetThreads(tensor.Threads())
	for _, g := range []int{1, 4} {
		var ref [][]float32
		for _, threads := range []int{1, 2, 3, 8} {
			tensor.SetThreads(threads)
			r := rand.New(rand.NewPCG(25, 26))
			c := mustConv(t, []int{4, 9, 9}, 4, 3, 1, 1, g, true, r)
			x := uniformTensor(r, 11, 4, 9, 9)
			dy := uniformTensor(r, 11, 4, 9, 9)
			y := c.Forward(x, true).Clone()
			dx := c.Backward(dy).Clone()
			once := append([]float32(nil), c.W.Grad...)
			c.Forward(x, true)
			c.Backward(dy)
			for i, v := range c.W.Grad {
				if math.Abs(float64(v-2*once[i])) > 1e-5*math.Max(1, math.Abs(float64(v))) {
					t.Fatalf("groups %d: second Backward gave W.Grad[%d] = %v, want 2×%v", g, i, v, once[i])
				}
			}
			got := [][]float32{y.Data, dx.Data, once, c.B.Grad}
			if ref == nil {
				ref = got
				continue
			}
			for k := range got {
				for i := range got[k] {
					if got[k][i] != ref[k][i] {
						t.Fatalf("groups %d, %d threads: result %d differs at %d: %v vs %v", g, threads, k, i, got[k][i], ref[k][i])
					}
				}
			}
		}
	}
}

func TestConv2DAppendUnitsKeepsOthers(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 28))
	c := mustConv(t, []int{3, 8, 8}, 4, 3, 1, 1, 1, true, r)
	x := uniformTensor(r, 2, 3, 8, 8)
	before := c.Forward(x, false).Clone()
	newW := uniformTensor(r, 2, c.FanIn())
	c.AppendUnits([][]float32{newW.Data[:c.FanIn()], nil}, []float32{0.5})
	if c.Units() != 6 || c.W.Rows != 6 || c.B.Rows != 6 || c.OutShape()[0] != 6 {
		t.Fatalf("after AppendUnits: %d units, W %dx%d, b %d", c.Units(), c.W.Rows, c.W.Cols, c.B.Rows)
	}
	after := c.Forward(x, false).Clone()
	want := naiveConv2D(x, c)
	p := 8 * 8
	for b := 0; b < 2; b++ {
		d := maxAbsDiff(before.Data[b*4*p:(b+1)*4*p], after.Data[b*6*p:b*6*p+4*p])
		if d > 1e-6 {
			t.Fatalf("old filters' outputs changed by %g", d)
		}
		for i := b*6*p + 4*p; i < (b+1)*6*p; i++ {
			if math.Abs(float64(after.Data[i])-want[i]) > 1e-5 {
				t.Fatalf("new filter output %d = %v, want %v", i, after.Data[i], want[i])
			}
		}
		for i := b*6*p + 5*p; i < (b+1)*6*p; i++ {
			if after.Data[i] != 0 {
				t.Fatalf("zero filter with zero bias gave %v", after.Data[i])
			}
		}
	}
	// Removing a unit leaves the others' outputs.
	c.RemoveUnits([]int{1, 4})
	got := c.Forward(x, false)
	keep := []int{0, 2, 3, 5}
	for b := 0; b < 2; b++ {
		for k, o := range keep {
			d := maxAbsDiff(got.Data[(b*4+k)*p:(b*4+k+1)*p], after.Data[(b*6+o)*p:(b*6+o+1)*p])
			if d > 1e-6 {
				t.Fatalf("RemoveUnits: filter %d output changed by %g", o, d)
			}
		}
	}
}

// addChannel returns x with channel j of every example appended as a new
// last channel (or zeros for j < 0).
func addChannel(x *tensor.Tensor, j int) *tensor.Tensor {
	n, c, hw := x.Shape[0], x.Shape[1], x.Shape[2]*x.Shape[3]
	y := tensor.New(n, c+1, x.Shape[2], x.Shape[3])
	for b := 0; b < n; b++ {
		copy(y.Data[b*(c+1)*hw:], x.Data[b*c*hw:(b+1)*c*hw])
		if j >= 0 {
			copy(y.Data[(b*(c+1)+c)*hw:(b*(c+1)+c+1)*hw], x.Data[(b*c+j)*hw:(b*c+j+1)*hw])
		}
	}
	return y
}

func TestConv2DConsumerSurgery(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 30))
	c := mustConv(t, []int{3, 7, 7}, 5, 3, 2, 1, 1, true, r)
	x := uniformTensor(r, 2, 3, 7, 7)
	before := c.Forward(x, false).Clone()

	// A new input channel with zero weights changes nothing, whatever it carries.
	c.AppendInputs(1, [][]float32{nil})
	c.SetIn([]int{4, 7, 7})
	if c.FanIn() != 4*9 || c.W.Cols != 4*9 {
		t.Fatalf("after AppendInputs: FanIn %d, W.Cols %d", c.FanIn(), c.W.Cols)
	}
	x4 := addChannel(x, 1)
	for i := 3 * 49; i < 4*49; i++ {
		x4.Data[i] = float32(r.NormFloat64()) // make the new channel of example 0 arbitrary
	}
	if d := maxAbsDiff(before.Data, c.Forward(x4, false).Data); d > 1e-6 {
		t.Fatalf("zero input columns changed the output by %g", d)
	}
	c.RemoveInputs(1, []int{3})
	c.SetIn([]int{3, 7, 7})

	// Splitting the consumer side: duplicate channel 1's data and weights,
	// halve both copies. The output is unchanged.
	col := c.InputColumn(1, 1)
	if len(col) != 5*9 {
		t.Fatalf("InputColumn has %d values, want %d", len(col), 5*9)
	}
	c.AppendInputs(1, [][]float32{col})
	c.ScaleInput(1, 1, 0.5)
	c.ScaleInput(1, 3, 0.5)
	c.SetIn([]int{4, 7, 7})
	if d := maxAbsDiff(before.Data, c.Forward(addChannel(x, 1), false).Data); d > 1e-5 {
		t.Fatalf("duplicated and halved channel changed the output by %g", d)
	}

	// Removing a channel equals zeroing it in the input.
	c.RemoveInputs(1, []int{3})
	c.ScaleInput(1, 1, 2)
	c.SetIn([]int{3, 7, 7})
	c.RemoveInputs(1, []int{0})
	c.SetIn([]int{2, 7, 7})
	x0 := x.Clone()
	x2 := tensor.New(2, 2, 7, 7)
	for b := 0; b < 2; b++ {
		clear(x0.Data[b*3*49 : (b*3+1)*49])
		copy(x2.Data[b*2*49:(b+1)*2*49], x.Data[(b*3+1)*49:(b+1)*3*49])
	}
	got := c.Forward(x2, false).Clone()
	c2 := mustConv(t, []int{3, 7, 7}, 5, 3, 2, 1, 1, true, rand.New(rand.NewPCG(29, 30)))
	want := c2.Forward(x0, false)
	if d := maxAbsDiff(got.Data, want.Data); d > 1e-5 {
		t.Fatalf("RemoveInputs differs from a zeroed channel by %g", d)
	}
}

func TestConv2DDepthwiseFollow(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	c := mustConv(t, []int{3, 6, 6}, 3, 3, 1, 1, 3, true, r)
	if !c.Depthwise() {
		t.Fatal("groups = C = out should be depthwise")
	}
	x := uniformTensor(r, 2, 3, 6, 6)
	before := c.Forward(x, false).Clone()
	// Channel 3 copies channel 1 (fed with channel 1's data); channel 4 is a
	// Dirac filter (fed with zeros, it is the identity: check on its own
	// data below).
	c.FollowAppend([]int{1, -1})
	c.SetIn([]int{5, 6, 6})
	if s := c.Spec(); s.Groups != 5 || s.Out != 5 || s.In[0] != 5 {
		t.Fatalf("spec after FollowAppend: %+v", s)
	}
	x5 := addChannel(addChannel(x, 1), -1)
	for b := 0; b < 2; b++ {
		for i := 0; i < 36; i++ {
			x5.Data[(b*5+4)*36+i] = float32(r.NormFloat64())
		}
	}
	y := c.Forward(x5, false)
	for b := 0; b < 2; b++ {
		for o := 0; o < 3; o++ {
			if d := maxAbsDiff(y.Data[(b*5+o)*36:(b*5+o+1)*36], before.Data[(b*3+o)*36:(b*3+o+1)*36]); d != 0 {
				t.Fatalf("existing channel %d changed by %g", o, d)
			}
		}
		if d := maxAbsDiff(y.Data[(b*5+3)*36:(b*5+4)*36], y.Data[(b*5+1)*36:(b*5+2)*36]); d != 0 {
			t.Fatalf("copied channel differs from its original by %g", d)
		}
		if d := maxAbsDiff(y.Data[(b*5+4)*36:(b*5+5)*36], x5.Data[(b*5+4)*36:(b*5+5)*36]); d != 0 {
			t.Fatalf("Dirac channel is not the identity (difference %g)", d)
		}
	}
	c.FollowRemove([]int{0, 4})
	c.SetIn([]int{3, 6, 6})
	// Left: channels 1, 2 and the copy of 1.
	x3 := tensor.New(2, 3, 6, 6)
	for b := 0; b < 2; b++ {
		copy(x3.Data[b*3*36:], x.Data[(b*3+1)*36:(b*3+3)*36])
		copy(x3.Data[(b*3+2)*36:], x.Data[(b*3+1)*36:(b*3+2)*36])
	}
	y = c.Forward(x3, false)
	for b := 0; b < 2; b++ {
		for k, o := range []int{1, 2, 1} {
			if d := maxAbsDiff(y.Data[(b*3+k)*36:(b*3+k+1)*36], before.Data[(b*3+o)*36:(b*3+o+1)*36]); d != 0 {
				t.Fatalf("after FollowRemove, channel %d differs from original %d by %g", k, o, d)
			}
		}
	}
}

func TestConv2DRolePanics(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	dw := mustConv(t, []int{4, 5, 5}, 4, 3, 1, 1, 4, false, r)
	plain := mustConv(t, []int{4, 5, 5}, 6, 3, 1, 1, 1, false, r)
	grouped := mustConv(t, []int{4, 5, 5}, 6, 3, 1, 1, 2, false, r)
	for name, f := range map[string]func(){
		"depthwise Units":         func() { dw.Units() },
		"depthwise AppendInputs":  func() { dw.AppendInputs(1, nil) },
		"grouped AppendUnits":     func() { grouped.AppendUnits(nil, nil) },
		"grouped FollowAppend":    func() { grouped.FollowAppend([]int{0}) },
		"ungrouped FollowAppend":  func() { plain.FollowAppend([]int{0}) },
		"ungrouped FollowRemove":  func() { plain.FollowRemove([]int{0}) },
		"Patches before Forward":  func() { plain.Patches(nil, 0) },
		"Backward before Forward": func() { plain.Backward(tensor.New(1, 6, 5, 5)) },
		"wrong input shape":       func() { plain.Forward(tensor.New(1, 3, 5, 5), false) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func TestConv2DPatches(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	for _, pw := range []bool{false, true} {
		k, pad := 3, 1
		if pw {
			k, pad = 1, 0
		}
		c := mustConv(t, []int{3, 7, 6}, 4, k, 1, pad, 1, true, r)
		x := uniformTensor(r, 3, 3, 7, 6)
		y := c.Forward(x, false)
		oh, ow := c.OutHW()
		var buf []float32
		for n := 0; n < 3; n++ {
			buf = c.Patches(buf, n)
			if len(buf) != c.FanIn()*oh*ow {
				t.Fatalf("patches have %d values, want %d", len(buf), c.FanIn()*oh*ow)
			}
			// θ_o · p(n,h,w) + b_o is the output.
			for o := 0; o < 4; o++ {
				for q := 0; q < oh*ow; q++ {
					s := float64(c.B.Data[o])
					for i := 0; i < c.FanIn(); i++ {
						s += float64(c.W.Data[o*c.FanIn()+i]) * float64(buf[i*oh*ow+q])
					}
					if got := float64(y.Data[(n*4+o)*oh*ow+q]); math.Abs(got-s) > 1e-5 {
						t.Fatalf("pointwise=%v example %d filter %d position %d: θ·p+b = %v, output %v", pw, n, o, q, s, got)
					}
				}
			}
		}
	}
}

// Keeping the forward patches must not change any result: outputs,
// gradients and Patches agree bitwise with patches rebuilt in Backward.
func TestConv2DPatchCache(t *testing.T) {
	defer func(n int) { patchCacheBytes = n }(patchCacheBytes)
	for _, s := range []int{1, 2} {
		var ref [][]float32
		for _, bound := range []int{64 << 20, 0} {
			patchCacheBytes = bound
			r := rand.New(rand.NewPCG(35, 36))
			c := mustConv(t, []int{4, 9, 9}, 6, 3, s, 1, 2, true, r)
			x := uniformTensor(r, 5, 4, 9, 9)
			dy := uniformTensor(r, append([]int{5}, c.OutShape()...)...)
			var got [][]float32
			for range 2 { // the second step reuses the buffers
				got = append(got, c.Forward(x, true).Clone().Data)
				got = append(got, c.Backward(dy).Clone().Data)
			}
			got = append(got, c.W.Grad, c.B.Grad)
			if want := bound > 0 && !tensor.FastIm2Col(3, s, c.ow); c.colsValid != want {
				t.Fatalf("stride %d, bound %d: patches kept = %v, want %v", s, bound, c.colsValid, want)
			}
			for n := range 5 {
				got = append(got, c.Patches(nil, n))
			}
			if ref == nil {
				ref = got
				continue
			}
			for k := range got {
				for i := range got[k] {
					if got[k][i] != ref[k][i] {
						t.Fatalf("stride %d: result %d differs at %d with and without the cache: %v vs %v", s, k, i, ref[k][i], got[k][i])
					}
				}
			}
		}
	}
}

func TestNewConv2DErrors(t *testing.T) {
	for _, tc := range []struct {
		in              []int
		out, k, s, p, g int
		want            string
	}{
		{[]int{3, 8}, 4, 3, 1, 1, 1, "not (C,H,W)"},
		{[]int{3, 0, 8}, 4, 3, 1, 1, 1, "positive"},
		{[]int{3, 8, 8}, 0, 3, 1, 1, 1, "filters"},
		{[]int{3, 8, 8}, 4, 0, 1, 1, 1, "kernel"},
		{[]int{3, 8, 8}, 4, 3, 0, 1, 1, "stride"},
		{[]int{3, 8, 8}, 4, 3, 1, -1, 1, "padding"},
		{[]int{3, 8, 8}, 4, 3, 1, 1, 0, "groups"},
		{[]int{3, 8, 8}, 4, 3, 1, 1, 2, "input has 3 channels, not divisible by groups 2"},
		{[]int{4, 8, 8}, 3, 3, 1, 1, 2, "3 filters not divisible by groups 2"},
		{[]int{3, 4, 4}, 4, 7, 1, 1, 1, "does not fit"},
	} {
		_, err := NewConv2D(tc.in, tc.out, tc.k, tc.s, tc.p, tc.g, false, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "conv2d: ") {
			t.Errorf("NewConv2D(%v, %d, k%d, s%d, p%d, g%d): error %v, want one containing %q", tc.in, tc.out, tc.k, tc.s, tc.p, tc.g, err, tc.want)
		}
	}
}

func TestConv2DSpecRebuilds(t *testing.T) {
	r := rand.New(rand.NewPCG(35, 36))
	for _, c := range []*Conv2D{
		mustConv(t, []int{3, 9, 9}, 4, 3, 2, 1, 1, true, r),
		mustConv(t, []int{4, 9, 9}, 4, 3, 1, 1, 4, false, r),
		mustConv(t, []int{4, 9, 9}, 6, 5, 1, 2, 2, true, r),
	} {
		l, err := buildLayer(c.Spec(), r)
		if err != nil {
			t.Fatal(err)
		}
		c2 := l.(*Conv2D)
		if fmt.Sprint(c2.Spec()) != fmt.Sprint(c.Spec()) || c2.Depthwise() != c.Depthwise() {
			t.Errorf("rebuilt spec %+v, want %+v", c2.Spec(), c.Spec())
		}
		for i, p := range c.Params() {
			q := c2.Params()[i]
			if p.Name != q.Name || p.Rows != q.Rows || p.Cols != q.Cols || p.NoDecay != q.NoDecay {
				t.Errorf("rebuilt param %+v, want %+v", q, p)
			}
		}
	}
}

func ExampleNewConv2D() {
	r := rand.New(rand.NewPCG(1, 2))
	// LeNet's second convolution: 32 channels of 12×12 to 64 filters of 5×5.
	c, err := NewConv2D([]int{32, 12, 12}, 64, 5, 1, 0, 1, true, r)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.OutShape(), c.Units(), c.FanIn())
	// A depthwise 3×3 convolution: one filter per channel.
	dw, _ := NewConv2D([]int{32, 16, 16}, 32, 3, 2, 1, 32, false, r)
	fmt.Println(dw.OutShape(), dw.Depthwise(), dw.W.Rows, dw.W.Cols)
	_, err = NewConv2D([]int{3, 32, 32}, 8, 3, 1, 1, 2, false, r)
	fmt.Println(err)
	// Output:
	// [64 8 8] 64 800
	// [32 8 8] true 32 9
	// conv2d: input has 3 channels, not divisible by groups 2
}

// BenchmarkConv2DForwardBackward times one training step of a convolution
// (forward, then backward with parameter and input gradients) on a batch.
func BenchmarkConv2DForwardBackward(b *testing.B) {
	for _, bc := range []struct {
		name                   string
		n, c, hw, out, k, s, p int
		g                      int
	}{
		{"lenet1_1x28x28_32k5", 128, 1, 28, 32, 5, 1, 0, 1},
		{"lenet2_32x12x12_64k5", 128, 32, 12, 64, 5, 1, 0, 1},
		{"depthwise_64x16x16_k3", 32, 64, 16, 64, 3, 1, 1, 64},
		// Stride 2 has no fast im2col, so Forward keeps the patches.
		{"stride2_32x16x16_64k3", 128, 32, 16, 64, 3, 2, 1, 1},
	} {
		// rebuilt: without the patch cache, Backward redoes im2col.
		for _, cache := range []bool{true, false} {
			name := bc.name
			if !cache {
				if bc.s == 1 {
					continue // nothing is cached
				}
				name += "/rebuilt"
			}
			b.Run(name, func(b *testing.B) {
				if !cache {
					defer func(n int) { patchCacheBytes = n }(patchCacheBytes)
					patchCacheBytes = 0
				}
				r := rand.New(rand.NewPCG(1, 2))
				c := mustConv(b, []int{bc.c, bc.hw, bc.hw}, bc.out, bc.k, bc.s, bc.p, bc.g, true, r)
				x := uniformTensor(r, bc.n, bc.c, bc.hw, bc.hw)
				dy := uniformTensor(r, append([]int{bc.n}, c.OutShape()...)...)
				c.Forward(x, true)
				c.Backward(dy)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					c.Forward(x, true)
					c.Backward(dy)
				}
			})
		}
	}
}
