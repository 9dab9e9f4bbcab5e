package split

import (
	"math/rand/v2"
	"testing"
)

// synthStats is a conv-like layer: many rows, small K.
func synthStats(m, k, units int) *LayerStats {
	r := rand.New(rand.NewPCG(1, 2))
	st := &LayerStats{Units: units, K: k, M: m, Batches: 10, P: make([]float32, m*k), C: make([]float32, m*units)}
	for i := range st.P {
		st.P[i] = float32(r.NormFloat64())
	}
	for i := range st.C {
		st.C[i] = float32(r.NormFloat64())
	}
	return st
}

func TestDenseMatricesMatchesPerNeuron(t *testing.T) {
	st := synthStats(3000, 13, 5)
	all := st.DenseMatrices()
	for i := 0; i < st.Units; i++ {
		one := st.DenseMatrix(i)
		for j := range one {
			if d := one[j] - all[i][j]; d > 1e-3 || d < -1e-3 {
				t.Fatalf("neuron %d entry %d: %v vs %v", i, j, one[j], all[i][j])
			}
		}
	}
}

// Forming all splitting matrices of a conv layer (the reference approach's
// dominant cost at small K): per neuron vs all at once.
func BenchmarkFormPerNeuron(b *testing.B) {
	st := synthStats(60000, 72, 16)
	for i := 0; i < b.N; i++ {
		for u := 0; u < st.Units; u++ {
			st.DenseMatrix(u)
		}
	}
}

func BenchmarkFormAllAtOnce(b *testing.B) {
	st := synthStats(60000, 72, 16)
	for i := 0; i < b.N; i++ {
		st.DenseMatrices()
	}
}
