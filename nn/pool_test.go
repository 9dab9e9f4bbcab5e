package nn

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nadir-ml/nadir/tensor"
)

func TestPoolGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	for _, tc := range []struct {
		in        []int
		k, stride int
	}{
		{[]int{3, 7, 7}, 2, 2}, // odd size: the last row and column are dropped
		{[]int{2, 8, 8}, 3, 2}, // overlapping windows
		{[]int{2, 5, 6}, 2, 1},
		{[]int{1, 1, 1}, 1, 1},
		{[]int{2, 9, 4}, 4, 3},
	} {
		mp, err := NewMaxPool2D(tc.in, tc.k, tc.stride)
		if err != nil {
			t.Fatal(err)
		}
		checkGrad(t, fmt.Sprintf("maxpool %v k%d s%d", tc.in, tc.k, tc.stride), mp, append([]int{3}, tc.in...), true, r)
		ap, err := NewAvgPool2D(tc.in, tc.k, tc.stride)
		if err != nil {
			t.Fatal(err)
		}
		checkGrad(t, fmt.Sprintf("avgpool %v k%d s%d", tc.in, tc.k, tc.stride), ap, append([]int{3}, tc.in...), true, r)
		g, err := NewGlobalAvgPool(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		checkGrad(t, fmt.Sprintf("gap %v", tc.in), g, append([]int{2}, tc.in...), true, r)
	}
}

func TestPoolForward(t *testing.T) {
	x := tensor.FromData([]float32{
		1, 3, 2, 0, 9,
		4, 2, 1, 1, 9,
		0, 0, 5, 6, 9,
		1, 2, 7, 8, 9,
		9, 9, 9, 9, 9,
	}, 1, 1, 5, 5)
	mp, _ := NewMaxPool2D([]int{1, 5, 5}, 2, 0) // stride defaults to the window
	ap, _ := NewAvgPool2D([]int{1, 5, 5}, 2, 2)
	g, _ := NewGlobalAvgPool([]int{1, 5, 5})
	for _, c := range []struct {
		l    Layer
		want string
	}{
		{mp, "[1 1 2 2] [4 2 2 8]"},
		{ap, "[1 1 2 2] [2.5 1 0.75 6.5]"},
		{g, "[1 1] [4.96]"},
	} {
		y := c.l.Forward(x, false)
		if got := fmt.Sprint(y.Shape, y.Data); got != c.want {
			t.Errorf("%s: got %s, want %s", c.l.Spec().Kind, got, c.want)
		}
		if got := fmt.Sprint(c.l.OutShape()); got != fmt.Sprint(y.Shape[1:]) {
			t.Errorf("%s: OutShape %s, output %v", c.l.Spec().Kind, got, y.Shape)
		}
	}
}

// Pools follow surgery by tracking the channel count; SetIn with the same
// shape afterwards changes nothing, and the layer runs on the new width.
func TestPoolFollow(t *testing.T) {
	r := rand.New(rand.NewPCG(53, 54))
	mp, _ := NewMaxPool2D([]int{3, 6, 6}, 2, 2)
	ap, _ := NewAvgPool2D([]int{3, 6, 6}, 3, 3)
	g, _ := NewGlobalAvgPool([]int{3, 6, 6})
	for _, l := range []Follower{mp, ap, g} {
		x := uniformTensor(r, 2, 3, 6, 6)
		before := l.Forward(x, true).Clone()
		l.FollowAppend([]int{1, -1})
		after := l.OutShape()
		l.SetIn([]int{5, 6, 6})
		if fmt.Sprint(after) != fmt.Sprint(l.OutShape()) || l.OutShape()[0] != 5 || l.Spec().In[0] != 5 {
			t.Fatalf("%s: OutShape %v after FollowAppend, %v after SetIn", l.Spec().Kind, after, l.OutShape())
		}
		y := l.Forward(addChannel(addChannel(x, 1), 0), true)
		per := before.Len() / 6
		for n := 0; n < 2; n++ {
			for k, o := range []int{0, 1, 2, 1} {
				if d := maxAbsDiff(y.Data[(n*5+k)*per:(n*5+k+1)*per], before.Data[(n*3+o)*per:(n*3+o+1)*per]); d != 0 {
					t.Fatalf("%s: channel %d differs from original %d by %g", l.Spec().Kind, k, o, d)
				}
			}
		}
		l.FollowRemove([]int{0, 1, 4})
		l.SetIn([]int{2, 6, 6})
		if l.OutShape()[0] != 2 {
			t.Fatalf("%s: %d channels after FollowRemove", l.Spec().Kind, l.OutShape()[0])
		}
		l.Backward(l.Forward(uniformTensor(r, 1, 2, 6, 6), true))
	}
}

func TestPoolErrors(t *testing.T) {
	for _, c := range []struct {
		make func() error
		want string
	}{
		{func() error { _, err := NewMaxPool2D([]int{3, 6}, 2, 2); return err }, "maxpool: input shape"},
		{func() error { _, err := NewMaxPool2D([]int{3, 6, 6}, 0, 2); return err }, "maxpool: window size 0"},
		{func() error { _, err := NewAvgPool2D([]int{3, 6, 6}, 2, -1); return err }, "avgpool: negative stride"},
		{func() error { _, err := NewAvgPool2D([]int{3, 2, 6}, 3, 1); return err }, "avgpool: window 3 larger than the 2x6 input"},
		{func() error { _, err := NewGlobalAvgPool([]int{3, 0, 6}); return err }, "gap: input shape"},
	} {
		if err := c.make(); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("error %v, want prefix %q", err, c.want)
		}
	}
	if _, err := buildLayer(LayerSpec{Kind: "maxpool", In: []int{1, 1, 1}, Kernel: 2}, nil); err == nil {
		t.Error("buildLayer accepted a window larger than the input")
	}
}

func TestPoolSpecRebuilds(t *testing.T) {
	mp, _ := NewMaxPool2D([]int{3, 7, 7}, 3, 2)
	ap, _ := NewAvgPool2D([]int{3, 7, 7}, 2, 0)
	g, _ := NewGlobalAvgPool([]int{3, 7, 7})
	for _, l := range []Layer{mp, ap, g} {
		l2, err := buildLayer(l.Spec(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(l2.Spec()) != fmt.Sprint(l.Spec()) || fmt.Sprint(l2.OutShape()) != fmt.Sprint(l.OutShape()) {
			t.Errorf("rebuilt %+v, want %+v", l2.Spec(), l.Spec())
		}
	}
}

func BenchmarkPool(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	x := uniformTensor(r, 128, 32, 24, 24)
	mp, _ := NewMaxPool2D([]int{32, 24, 24}, 2, 2)
	b.Run("maxpool_128x32x24x24", func(b *testing.B) {
		mp.Backward(mp.Forward(x, true)) // size the buffers
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			mp.Backward(mp.Forward(x, true))
		}
	})
}

// Shapes that do not fit reach the user as errors from the network, not as
// panics from SetIn.
func TestShapeMismatchThroughNet(t *testing.T) {
	r := rand.New(rand.NewPCG(55, 56))
	c := mustConv(t, []int{3, 8, 8}, 4, 3, 1, 0, 1, false, r)
	mp, _ := NewMaxPool2D([]int{2, 8, 8}, 4, 4)
	g, _ := NewGlobalAvgPool([]int{2, 8, 8})
	for _, tc := range []struct {
		in []int
		l  Layer
	}{
		{[]int{12}, c},       // a convolution after a vector
		{[]int{3, 2, 2}, c},  // image smaller than the kernel
		{[]int{2, 3, 3}, mp}, // map smaller than the window
		{[]int{5}, g},
	} {
		if _, err := NewNet(tc.in, tc.l); err == nil {
			t.Errorf("%s on input %v accepted", tc.l.Spec().Kind, tc.in)
		}
	}
}
