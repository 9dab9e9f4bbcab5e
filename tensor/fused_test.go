package tensor

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The fused epilogues equal bias, ReLU and max pool applied one by one,
// exactly (the same float32 operations), on even and odd plane sizes.
func TestFusedEpilogues(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, sz := range [][3]int{{3, 4, 4}, {2, 7, 7}, {5, 28, 28}, {1, 3, 6}, {4, 1, 1}} {
		c, h, w := sz[0], sz[1], sz[2]
		x, b := randSlice(r, c*h*w), randSlice(r, c)
		want := slices.Clone(x)
		AddPlaneBias(want, b, h*w)
		for i, v := range want {
			want[i] = max(v, 0)
		}
		got := slices.Clone(x)
		BiasReLU(got, b, h*w)
		if !slices.Equal(got, want) {
			t.Errorf("%v: BiasReLU differs from bias then ReLU", sz)
		}
		if h < 2 || w < 2 {
			continue
		}
		pooled := make([]float32, c*(h/2)*(w/2))
		MaxPool2DForward(pooled, make([]int32, len(pooled)), want, c, h, w, 2, 2)
		fused := make([]float32, len(pooled))
		BiasReLUMaxPool2(fused, x, b, h, w)
		if !slices.Equal(fused, pooled) {
			t.Errorf("%v: BiasReLUMaxPool2 differs from bias, ReLU, pool", sz)
		}
	}
}

func BenchmarkBiasReLU(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	x, bias := randSlice(r, 16*28*28), randSlice(r, 16)
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		BiasReLU(x, bias, 28*28)
	}
}

func BenchmarkBiasReLUMaxPool2(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	x, bias := randSlice(r, 16*28*28), randSlice(r, 16)
	dst := make([]float32, 16*14*14)
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		BiasReLUMaxPool2(dst, x, bias, 28, 28)
	}
}

// The AVX-512 epilogues equal the portable loops exactly, on rows of
// several vector blocks and odd sizes.
func TestFusedEpiloguesAsmMatchesPortable(t *testing.T) {
	if !elemAVX512 {
		t.Skip("no AVX-512 on this machine or build")
	}
	defer func(on bool) { elemAVX512 = on }(elemAVX512)
	r := rand.New(rand.NewPCG(3, 4))
	for _, sz := range [][3]int{{2, 9, 70}, {3, 28, 28}, {2, 7, 7}, {1, 2, 33}} {
		c, h, w := sz[0], sz[1], sz[2]
		x, b := randSlice(r, c*h*w), randSlice(r, c)
		var pooled, relu [2][]float32
		for k, asm := range []bool{true, false} {
			elemAVX512 = asm
			pooled[k] = make([]float32, c*(h/2)*(w/2))
			BiasReLUMaxPool2(pooled[k], x, b, h, w)
			relu[k] = slices.Clone(x)
			BiasReLU(relu[k], b, h*w)
		}
		if !slices.Equal(pooled[0], pooled[1]) || !slices.Equal(relu[0], relu[1]) {
			t.Errorf("%v: AVX-512 epilogue differs from the portable one", sz)
		}
	}
}
