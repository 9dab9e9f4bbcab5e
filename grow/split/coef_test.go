package split

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nadir-ml/nadir/nn"
)

// coefficients' written-out ReLU surrogate gives SplitD2's coefficients
// bitwise, and zero gradients give signed zeros.
func TestCoefficientsMatchSplitD2(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, name := range []string{"relu", "leakyrelu:0.2", "softplus:2", "tanh"} {
		a, err := nn.ParseActivation(name)
		if err != nil {
			t.Fatal(err)
		}
		g, z := make([]float32, 50), make([]float32, 50)
		for q := range g {
			g[q], z[q] = float32(r.NormFloat64()), float32(3*r.NormFloat64())
		}
		g[3], g[7] = 0, float32(math.Copysign(0, -1))
		dst := make([]float32, 3*len(g))
		coefficients(dst, 3, g, z, 1.7, a)
		for q := range g {
			want := float32(float64(g[q]) * a.SplitD2(float64(z[q])) * 1.7)
			if g[q] == 0 {
				want = g[q] * 0
			}
			if math.Float32bits(dst[3*q]) != math.Float32bits(want) {
				t.Fatalf("%s row %d: %v, want %v", name, q, dst[3*q], want)
			}
		}
	}
}
