package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nadir-ml/nadir/tensor"
)

func TestDenseGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, bias := range []bool{true, false} {
		d, err := NewDense(7, 5, bias, r)
		if err != nil {
			t.Fatal(err)
		}
		checkGrad(t, fmt.Sprintf("dense bias=%v", bias), d, []int{4, 7}, true, r)
	}
	if _, err := NewDense(0, 3, true, r); err == nil {
		t.Fatal("zero-width dense accepted")
	}
}

func TestActivationGrads(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, name := range []string{"relu", "leakyrelu:0.1", "softplus", "softplus:3", "tanh", "sigmoid", "swish", "identity"} {
		a, err := ParseActivation(name)
		if err != nil {
			t.Fatal(err)
		}
		checkGrad(t, name, NewAct(a, []int{3, 4}), []int{2, 3, 4}, true, r)
	}
}

// σ' and σ” against central differences of σ (and σ') in float64.
func TestActivationDerivatives(t *testing.T) {
	const h = 1e-5
	for _, name := range []string{"softplus", "softplus:3", "tanh", "sigmoid", "swish", "leakyrelu:0.2", "relu", "identity"} {
		a, _ := ParseActivation(name)
		for _, z := range []float64{-3.1, -0.7, -0.2, 0.3, 1.1, 2.9} {
			d1 := (a.F(z+h) - a.F(z-h)) / (2 * h)
			d2 := (a.D1(z+h) - a.D1(z-h)) / (2 * h)
			if math.Abs(d1-a.D1(z)) > 1e-6 || math.Abs(d2-a.D2(z)) > 1e-5 {
				t.Errorf("%s at %v: D1 %v (fd %v), D2 %v (fd %v)", name, z, a.D1(z), d1, a.D2(z), d2)
			}
		}
	}
	// The splitting surrogate for ReLU is softplus-β=3's σ″.
	relu, _ := ParseActivation("relu")
	sp, _ := ParseActivation("softplus:3")
	for _, z := range []float64{-1, 0, 0.5} {
		if math.Abs(relu.SplitD2(z)-sp.D2(z)) > 1e-14 {
			t.Errorf("relu surrogate at %v: %v vs %v", z, relu.SplitD2(z), sp.D2(z))
		}
	}
	id, _ := ParseActivation("identity")
	if id.SplitD2(0.3) != 1 {
		t.Error("identity splits with σ″ ≡ 1 (the reference code's heuristic)")
	}
	for _, bad := range []string{"gelu", "softplus:-1", "tanh:2", "relu:x"} {
		if _, err := ParseActivation(bad); err == nil {
			t.Errorf("activation %q accepted", bad)
		}
	}
}

func TestFlattenDropoutGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	checkGrad(t, "flatten", NewFlatten([]int{2, 3, 3}), []int{2, 2, 3, 3}, true, r)
	checkGrad(t, "dropout eval", NewDropout(0.5, []int{6}), []int{3, 6}, false, r)
	// In training, dropout's backward applies the forward's mask.
	d := NewDropout(0.5, []int{1000})
	d.SetRand(rand.New(rand.NewPCG(4, 4)))
	x := tensor.New(1, 1000)
	for i := range x.Data {
		x.Data[i] = 1
	}
	y := d.Forward(x, true)
	dy := tensor.New(1, 1000)
	for i := range dy.Data {
		dy.Data[i] = 3
	}
	dx := d.Backward(dy)
	zeros := 0
	for i, v := range y.Data {
		if v == 0 {
			zeros++
			if dx.Data[i] != 0 {
				t.Fatal("gradient through a dropped unit")
			}
		} else if v != 2 || dx.Data[i] != 6 {
			t.Fatalf("kept unit scaled wrongly: y %v dx %v", v, dx.Data[i])
		}
	}
	if zeros < 400 || zeros > 600 {
		t.Fatalf("%d of 1000 dropped at rate 0.5", zeros)
	}
}

// Losses against float64 central differences.
func TestLossGrads(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	logits := randTensor(r, 4, 5)
	y := []int{0, 3, 4, 1}
	var ce SoftmaxCE
	ce.Forward(logits, y)
	g := ce.Backward().Clone()
	target := randTensor(r, 4, 5)
	var mse MSE
	mse.Forward(logits, target)
	gm := mse.Backward().Clone()
	const h = 1e-2
	for i := range logits.Data {
		v := logits.Data[i]
		logits.Data[i] = v + h
		lp, mp := ce.Forward(logits, y), mse.Forward(logits, target)
		logits.Data[i] = v - h
		lm, mm := ce.Forward(logits, y), mse.Forward(logits, target)
		logits.Data[i] = v
		if fd := (lp - lm) / (2 * h); math.Abs(fd-float64(g.Data[i])) > 1e-4 {
			t.Errorf("softmax-ce grad %d: %v vs fd %v", i, g.Data[i], fd)
		}
		if fd := (mp - mm) / (2 * h); math.Abs(fd-float64(gm.Data[i])) > 1e-4 {
			t.Errorf("mse grad %d: %v vs fd %v", i, gm.Data[i], fd)
		}
	}
}

// Whole networks: the composed backward matches finite differences too.
func TestNetGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	act, _ := ParseActivation("tanh")
	// Strided convolution instead of max pooling: a finite difference
	// across a pooling argmax switch is not a derivative.
	net, err := ParseModel("cnn:c3s2,d4,f5", []int{1, 6, 6}, 3, act, r)
	if err != nil {
		t.Fatal(err)
	}
	x := randTensor(r, 2, 1, 6, 6)
	y := []int{0, 2}
	var ce SoftmaxCE
	loss := func() float64 { return ce.Forward(net.Forward(x, false), y) }
	loss()
	net.ZeroGrad()
	net.Backward(ce.Backward())
	const h = 1e-2
	for _, p := range net.Params() {
		for k := 0; k < min(len(p.Data), 6); k++ {
			i := r.IntN(len(p.Data))
			v := p.Data[i]
			p.Data[i] = v + h
			lp := loss()
			p.Data[i] = v - h
			lm := loss()
			p.Data[i] = v
			fd := (lp - lm) / (2 * h)
			if a := float64(p.Grad[i]); math.Abs(a-fd) > 2e-2*math.Max(math.Abs(a)+math.Abs(fd), 1e-3) {
				t.Errorf("%s[%d]: backward %v, finite difference %v", p.Name, i, a, fd)
			}
		}
	}
}

func ExampleParseModel() {
	act, _ := ParseActivation("relu")
	net, _ := ParseModel("cnn:c8,p,c16,p,f32", []int{1, 28, 28}, 10, act, rand.New(rand.NewPCG(1, 1)))
	var kinds []string
	for _, l := range net.Layers {
		kinds = append(kinds, l.Spec().Kind)
	}
	fmt.Println(strings.Join(kinds, " "))
	fmt.Println(net.NumParams(), net.MACs(), net.Growable())
	// Output:
	// conv2d batchnorm act maxpool conv2d batchnorm act maxpool flatten dense act dense
	// 26722 307648 [0 4 9]
}

// Skipping the first layer's input gradient changes no parameter gradient.
func TestSkipInputGrad(t *testing.T) {
	for _, model := range []string{"mlp:5", "cnn:c3,f4", "cnn:c2,d3,g", "cnn:d3,g"} {
		grads := func(inputGrad bool) [][]float32 {
			r := rand.New(rand.NewPCG(7, 7))
			act, _ := ParseActivation("tanh")
			net, err := ParseModel(model, []int{2, 5, 5}, 3, act, r)
			if err != nil {
				t.Fatal(err)
			}
			net.InputGrad = inputGrad
			var ce SoftmaxCE
			ce.Forward(net.Forward(randTensor(r, 4, 2, 5, 5), true), []int{0, 1, 2, 0})
			dx := net.Backward(ce.Backward())
			if (dx != nil) != inputGrad {
				t.Fatalf("%s: input gradient returned = %v", model, dx != nil)
			}
			var out [][]float32
			for _, p := range net.Params() {
				out = append(out, append([]float32(nil), p.Grad...))
			}
			return out
		}
		a, b := grads(true), grads(false)
		for i := range a {
			for j := range a[i] {
				if a[i][j] != b[i][j] {
					t.Fatalf("%s: param %d grad %d differs: %v vs %v", model, i, j, a[i][j], b[i][j])
				}
			}
		}
	}
}
