package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nadir-ml/nadir/tensor"
)

func mustBN(t testing.TB, in []int) *BatchNorm {
	t.Helper()
	b, err := NewBatchNorm(in)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// randomiseBN gives b non-trivial γ, β and running statistics.
func randomiseBN(b *BatchNorm, r *rand.Rand) {
	for c := range b.RunMean {
		b.Gamma.Data[c] = float32(0.5 + r.Float64())
		b.Beta.Data[c] = float32(r.NormFloat64())
		b.RunMean[c] = float32(r.NormFloat64())
		b.RunVar[c] = float32(0.5 + r.Float64())
	}
}

func TestBatchNormGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for _, tc := range []struct {
		in []int
		n  int
	}{
		{[]int{5}, 8},
		{[]int{3}, 3}, // with 2 examples the output is ±γ+β: dx ≈ 0
		{[]int{3, 3, 4}, 2},
		{[]int{2, 5, 5}, 3},
		{[]int{4, 1, 1}, 6},
	} {
		for _, train := range []bool{true, false} {
			b := mustBN(t, tc.in)
			randomiseBN(b, r)
			checkGrad(t, fmt.Sprintf("batchnorm %v batch %d train=%v", tc.in, tc.n, train), b,
				append([]int{tc.n}, tc.in...), train, r)
		}
	}
}

// bnReference computes the training-mode output and the updated running
// statistics in float64 from the definitions.
func bnReference(x *tensor.Tensor, b *BatchNorm) (y []float64, mean, variance []float64) {
	n, c := x.Shape[0], x.Shape[1]
	hw := x.Len() / (n * c)
	m := float64(n * hw)
	y = make([]float64, x.Len())
	for ch := 0; ch < c; ch++ {
		var s, ss float64
		for i := 0; i < n; i++ {
			for j := 0; j < hw; j++ {
				s += float64(x.Data[(i*c+ch)*hw+j])
			}
		}
		mu := s / m
		for i := 0; i < n; i++ {
			for j := 0; j < hw; j++ {
				d := float64(x.Data[(i*c+ch)*hw+j]) - mu
				ss += d * d
			}
		}
		v := ss / m
		for i := 0; i < n; i++ {
			for j := 0; j < hw; j++ {
				k := (i*c+ch)*hw + j
				y[k] = float64(b.Gamma.Data[ch])*(float64(x.Data[k])-mu)/math.Sqrt(v+1e-5) + float64(b.Beta.Data[ch])
			}
		}
		mean = append(mean, 0.9*float64(b.RunMean[ch])+0.1*mu)
		variance = append(variance, 0.9*float64(b.RunVar[ch])+0.1*ss/(m-1))
	}
	return y, mean, variance
}

func TestBatchNormStatistics(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	for _, in := range [][]int{{6}, {3, 5, 7}} {
		b := mustBN(t, in)
		randomiseBN(b, r)
		x := uniformTensor(r, append([]int{9}, in...)...)
		for i := range x.Data {
			x.Data[i] = 3*x.Data[i] + 2 // mean and scale far from 0 and 1
		}
		wantY, wantMean, wantVar := bnReference(x, b)
		y := b.Forward(x, true)
		for i, v := range wantY {
			if math.Abs(float64(y.Data[i])-v) > 1e-5*math.Max(1, math.Abs(v)) {
				t.Fatalf("%v train: y[%d] = %v, want %v", in, i, y.Data[i], v)
			}
		}
		for c := range wantMean {
			if math.Abs(float64(b.RunMean[c])-wantMean[c]) > 1e-6 || math.Abs(float64(b.RunVar[c])-wantVar[c]) > 1e-5 {
				t.Fatalf("%v: running stats (%v, %v), want (%v, %v) (unbiased variance, momentum 0.1)",
					in, b.RunMean[c], b.RunVar[c], wantMean[c], wantVar[c])
			}
		}
		// Evaluation uses the running statistics.
		y = b.Forward(x, false)
		scale := b.Scale()
		c, hw := in[0], tensor.Numel(in[1:])
		for i := range y.Data {
			ch := i / hw % c
			want := float64(scale[ch])*(float64(x.Data[i])-float64(b.RunMean[ch])) + float64(b.Beta.Data[ch])
			if math.Abs(float64(y.Data[i])-want) > 1e-5*math.Max(1, math.Abs(want)) {
				t.Fatalf("%v eval: y[%d] = %v, want %v", in, i, y.Data[i], want)
			}
		}
		for ch, s := range scale {
			if want := float64(b.Gamma.Data[ch]) / math.Sqrt(float64(b.RunVar[ch])+1e-5); math.Abs(float64(s)-want) > 1e-6 {
				t.Fatalf("Scale()[%d] = %v, want %v", ch, s, want)
			}
		}
	}
}

func TestBatchNormFollow(t *testing.T) {
	r := rand.New(rand.NewPCG(45, 46))
	b := mustBN(t, []int{3, 4, 4})
	randomiseBN(b, r)
	x := uniformTensor(r, 2, 3, 4, 4)
	before := b.Forward(x, false).Clone()
	b.FollowAppend([]int{2, -1})
	b.SetIn([]int{5, 4, 4})
	if b.Gamma.Rows != 5 || b.Beta.Rows != 5 || len(b.RunMean) != 5 || len(b.RunVar) != 5 || b.OutShape()[0] != 5 {
		t.Fatalf("after FollowAppend: gamma %d, beta %d, stats %d/%d", b.Gamma.Rows, b.Beta.Rows, len(b.RunMean), len(b.RunVar))
	}
	if b.Gamma.Data[4] != 1 || b.Beta.Data[4] != 0 || b.RunMean[4] != 0 || b.RunVar[4] != 1 {
		t.Fatalf("fresh channel: γ %v β %v mean %v var %v", b.Gamma.Data[4], b.Beta.Data[4], b.RunMean[4], b.RunVar[4])
	}
	x5 := addChannel(addChannel(x, 2), 0)
	y := b.Forward(x5, false)
	for n := 0; n < 2; n++ {
		for k, o := range []int{0, 1, 2, 2} {
			if d := maxAbsDiff(y.Data[(n*5+k)*16:(n*5+k+1)*16], before.Data[(n*3+o)*16:(n*3+o+1)*16]); d != 0 {
				t.Fatalf("channel %d differs from original %d by %g", k, o, d)
			}
		}
		// Fresh channel in eval mode: x/sqrt(1+eps).
		for j := 0; j < 16; j++ {
			want := float64(x5.Data[(n*5+4)*16+j]) / math.Sqrt(1+1e-5)
			if got := float64(y.Data[(n*5+4)*16+j]); math.Abs(got-want) > 1e-6 {
				t.Fatalf("fresh channel output %v, want %v", got, want)
			}
		}
	}
	b.FollowRemove([]int{0, 3})
	b.SetIn([]int{3, 4, 4})
	x3 := tensor.New(2, 3, 4, 4)
	for n := 0; n < 2; n++ {
		copy(x3.Data[n*48:], x5.Data[(n*5+1)*16:(n*5+3)*16])
		copy(x3.Data[n*48+32:], x5.Data[(n*5+4)*16:(n*5+5)*16])
	}
	y = b.Forward(x3, false)
	for n := 0; n < 2; n++ {
		if d := maxAbsDiff(y.Data[n*48:n*48+32], before.Data[(n*3+1)*16:(n*3+3)*16]); d != 0 {
			t.Fatalf("after FollowRemove the kept channels changed by %g", d)
		}
	}
	if len(*b.Buffers()[0]) != 3 || len(*b.Buffers()[1]) != 3 {
		t.Fatal("Buffers do not follow surgery")
	}
}

func TestBatchNormDeterministic(t *testing.T) {
	defer tensor.SetThreads(tensor.Threads())
	var ref []float32
	for _, threads := range []int{1, 2, 5} {
		tensor.SetThreads(threads)
		r := rand.New(rand.NewPCG(47, 48))
		b := mustBN(t, []int{7, 5, 5})
		x := uniformTensor(r, 4, 7, 5, 5)
		y := b.Forward(x, true).Clone()
		dx := b.Backward(uniformTensor(r, 4, 7, 5, 5))
		got := append(append(append(y.Data, dx.Data...), b.Gamma.Grad...), b.RunVar...)
		if ref == nil {
			ref = got
			continue
		}
		for i := range got {
			if got[i] != ref[i] {
				t.Fatalf("%d threads: result %d = %v, want %v", threads, i, got[i], ref[i])
			}
		}
	}
}

func TestNewBatchNormErrors(t *testing.T) {
	for _, in := range [][]int{nil, {3, 4}, {0}, {3, 0, 4}, {2, 3, 4, 5}} {
		_, err := NewBatchNorm(in)
		if err == nil || !strings.HasPrefix(err.Error(), "batchnorm: ") {
			t.Errorf("NewBatchNorm(%v): error %v", in, err)
		}
	}
}

func TestBatchNormSpecRebuilds(t *testing.T) {
	b := mustBN(t, []int{4, 3, 3})
	b.Eps, b.Momentum = 1e-3, 0.01
	l, err := buildLayer(b.Spec(), nil)
	if err != nil {
		t.Fatal(err)
	}
	b2 := l.(*BatchNorm)
	if b2.Eps != 1e-3 || b2.Momentum != 0.01 || fmt.Sprint(b2.OutShape()) != "[4 3 3]" {
		t.Fatalf("rebuilt %+v", b2.Spec())
	}
}

func ExampleBatchNorm() {
	b, _ := NewBatchNorm([]int{2}) // two features
	x := tensor.FromData([]float32{
		1, 10,
		3, 30,
	}, 2, 2)
	y := b.Forward(x, true)
	fmt.Printf("%.3f\n", y.Data)
	fmt.Printf("mean %.1f var %.1f\n", b.RunMean, b.RunVar)
	// Output:
	// [-1.000 -1.000 1.000 1.000]
	// mean [0.2 2.0] var [1.1 20.9]
}

func BenchmarkBatchNormForwardBackward(b *testing.B) {
	for _, in := range [][]int{{32, 24, 24}, {128}} {
		b.Run(fmt.Sprint(in), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			bn := mustBN(b, in)
			x := uniformTensor(r, append([]int{128}, in...)...)
			dy := uniformTensor(r, append([]int{128}, in...)...)
			bn.Forward(x, true)
			bn.Backward(dy)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				bn.Forward(x, true)
				bn.Backward(dy)
			}
		})
	}
}
