package export

import (
	"math/rand/v2"
	"testing"

	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/tensor"
)

// testNet is a network every export test runs through.
type testNet struct {
	name string
	net  *nn.Net
}

// testNets covers every layer kind and activation of nn: the MNIST model
// families, a depthwise-separable net, a hand-built net with strided,
// padded, grouped and biased convolutions, average pooling, dropout and a
// 1-D BatchNorm, and a network changed by growth surgery (units added, a
// layer inserted). BatchNorm statistics are randomised so that eval mode is
// not the identity.
func testNets(t testing.TB) []testNet {
	t.Helper()
	r := rand.New(rand.NewPCG(7, 1))
	parse := func(model string, in []int, act string) *nn.Net {
		a, err := nn.ParseActivation(act)
		if err != nil {
			t.Fatal(err)
		}
		n, err := nn.ParseModel(model, in, 10, a, r)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	img := []int{1, 28, 28}
	nets := []testNet{
		{"mlp", parse("mlp:32,16", []int{784}, "relu")},
		{"cnn", parse("cnn:c8,p,c16,p,f32", img, "relu")},
		{"depthwise", parse("cnn:c8,d16,d16s2,g", img, "relu")},
		{"cnn-k5-s2", parse("cnn:c6k5s2,c8,g", []int{3, 12, 12}, "leakyrelu:0.2")},
	}
	for _, act := range []string{"leakyrelu", "softplus", "softplus:3", "softplus:0.5", "tanh", "sigmoid", "swish", "identity"} {
		nets = append(nets, testNet{"mlp-" + act, parse("mlp:12,8", []int{20}, act)})
	}
	nets = append(nets, testNet{"cnn-swish", parse("cnn:c4,d8,p,f16", []int{2, 9, 9}, "swish")})
	nets = append(nets, testNet{"hand-built", handBuilt(t, r)})
	nets = append(nets, testNet{"grown", grown(t, parse("cnn:c4,p,c8,p,f16", []int{1, 14, 14}, "relu"), r)})
	nets = append(nets, testNet{"grown-mlp", grown(t, parse("mlp:8,8", []int{30}, "relu"), r)})
	for _, n := range nets {
		randomiseBN(n.net, r)
	}
	return nets
}

func handBuilt(t testing.TB, r *rand.Rand) *nn.Net {
	in := []int{4, 11, 11}
	var ls []nn.Layer
	add := func(l nn.Layer, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		in = l.OutShape()
	}
	add(nn.NewConv2D(in, 6, 3, 2, 1, 2, true, r)) // grouped (2), strided, padded, biased
	add(nn.NewBatchNorm(in))
	add(nn.NewAct(nn.Activation{Kind: nn.Tanh}, in), nil)
	add(nn.NewConv2D(in, 6, 3, 1, 0, 6, true, r)) // depthwise with bias, no padding
	add(nn.NewAvgPool2D(in, 2, 1))
	add(nn.NewMaxPool2D(in, 2, 1))
	add(nn.NewDropout(0.3, in), nil)
	add(nn.NewFlatten(in), nil)
	add(nn.NewDense(in[0], 10, false, r))
	add(nn.NewBatchNorm(in))
	add(nn.NewAct(nn.Activation{Kind: nn.Sigmoid}, in), nil)
	add(nn.NewDense(in[0], 5, true, r))
	n, err := nn.NewNet([]int{4, 11, 11}, ls...)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// grown applies growth surgery: units added to every growable layer (with
// random incoming and outgoing weights) and an identity dense layer inserted
// before the head.
func grown(t testing.TB, n *nn.Net, r *rand.Rand) *nn.Net {
	for _, li := range n.Growable() {
		fan := n.Layers[li].(nn.Producer).FanIn()
		col, err := n.OutgoingColumn(li, 0)
		if err != nil {
			t.Fatal(err)
		}
		var units []nn.NewUnit
		for range 3 {
			u := nn.NewUnit{In: make([]float32, fan), Like: 0, Out: make([]float32, len(col)), Bias: float32(r.NormFloat64() * 0.1)}
			for i := range u.In {
				u.In[i] = float32(r.NormFloat64() * 0.2)
			}
			for i := range u.Out {
				u.Out[i] = float32(r.NormFloat64() * 0.2)
			}
			units = append(units, u)
		}
		if err := n.AddUnits(li, units); err != nil {
			t.Fatal(err)
		}
	}
	last := len(n.Layers) - 1
	w := n.Layers[last].(*nn.Dense).W.Cols
	a, _ := nn.ParseActivation("relu")
	if err := n.InsertLayers(last, nn.IdentityDense(w), nn.NewAct(a, []int{w})); err != nil {
		t.Fatal(err)
	}
	return n
}

func randomiseBN(n *nn.Net, r *rand.Rand) {
	for _, l := range n.Layers {
		if b, ok := l.(*nn.BatchNorm); ok {
			for c := range b.RunMean {
				b.RunMean[c] = float32(r.NormFloat64() * 0.3)
				b.RunVar[c] = float32(0.5 + r.Float64())
				b.Gamma.Data[c] = float32(0.5 + r.Float64())
				b.Beta.Data[c] = float32(r.NormFloat64() * 0.2)
			}
		}
	}
}

// testInput is a fixed batch of inputs for n.
func testInput(n *nn.Net, batch int) *tensor.Tensor {
	r := rand.New(rand.NewPCG(3, 3))
	x := tensor.New(append([]int{batch}, n.In...)...)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	return x
}

// forward is n's eval-mode output on x, copied.
func forward(n *nn.Net, x *tensor.Tensor) []float32 {
	y := n.Forward(x, false)
	return append([]float32(nil), y.Data[:y.Len()]...)
}

func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return 1e300
	}
	m := 0.0
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		if d < 0 {
			d = -d
		}
		if d > m || d != d {
			m = d
		}
	}
	return m
}
