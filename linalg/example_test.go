package linalg_test

import (
	"fmt"
	"log"
	"math"
	"math/rand/v2"

	"github.com/nadir-ml/nadir/linalg"
)

func ExampleLanczos() {
	// diag(3, −1, 2, 0.5) as a matrix-free operator: the extremes are −1
	// along e1 and 3 along e0.
	a := linalg.Dense{N: 4, Data: []float64{
		3, 0, 0, 0,
		0, -1, 0, 0,
		0, 0, 2, 0,
		0, 0, 0, 0.5,
	}}
	e, err := linalg.Lanczos(a, linalg.LanczosOptions{}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("λmin = %.6f, v = %v\n", e.Min, round(e.VMin))
	fmt.Printf("λmax = %.6f, v = %v\n", e.Max, round(e.VMax))
	// Output:
	// λmin = -1.000000, v = [0 1 0 0]
	// λmax = 3.000000, v = [1 0 0 0]
}

// round rounds to 6 decimals, turning −0 into 0 for printing.
func round(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Round(x*1e6)/1e6 + 0
	}
	return out
}

func ExampleRankOneSum() {
	// A splitting matrix S = Σ coeff·p pᵀ from three samples in dimension 4,
	// never formed: each product costs O(samples·D).
	s := linalg.RankOneSum{
		N:     4,
		Coeff: []float64{-2, 1, 0.5},
		P: []float64{
			1, 0, 0, 0,
			0, 1, 1, 0,
			1, 0, 0, 1,
		},
	}
	e, err := linalg.Lanczos(s, linalg.LanczosOptions{}, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		log.Fatal(err)
	}
	dense, err := linalg.DenseExtremes(s.Matrix(), 4)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Lanczos: λmin = %.6f, λmax = %.6f\n", e.Min, e.Max)
	fmt.Printf("dense:   λmin = %.6f, λmax = %.6f\n", dense.Min, dense.Max)
	// Output:
	// Lanczos: λmin = -1.618034, λmax = 2.000000
	// dense:   λmin = -1.618034, λmax = 2.000000
}

func ExampleRayleigh() {
	// Two neurons; the caller feeds S_i v_i (here exact) at every step.
	mats := []linalg.Dense{
		{N: 2, Data: []float64{2, 1, 1, 2}},  // eigenvalues 1, 3
		{N: 2, Data: []float64{0, 0, 0, -4}}, // eigenvalues −4, 0
	}
	ray := linalg.NewRayleigh(len(mats), 2, false, linalg.RayleighOptions{}, rand.New(rand.NewPCG(5, 6)))
	sv := make([]float64, 2)
	for step := 0; step < 1000; step++ {
		if step == 800 {
			ray.StartWindow() // average over the last 200 steps
		}
		for i, s := range mats {
			s.MulVec(sv, ray.V(i))
			ray.Step(i, sv)
		}
	}
	for i := range mats {
		lambda, _ := ray.Estimate(i)
		fmt.Printf("neuron %d: λmin ≈ %.3f\n", i, lambda)
	}
	// Output:
	// neuron 0: λmin ≈ 1.000
	// neuron 1: λmin ≈ -4.000
}

func ExampleSelectKnapsack() {
	// Four candidate splits in two layers sharing one budget of 4 units;
	// layer 1 neurons cost 3 units each, layer 0 neurons 1 unit and at most
	// one of them may split.
	p := linalg.KnapsackProblem{
		Items: []linalg.Item{
			{Score: -2, Cost: 1, Layer: 0},
			{Score: -1.5, Cost: 1, Layer: 0},
			{Score: -2, Cost: 3, Layer: 1},
			{Score: 0.3, Cost: 3, Layer: 1}, // splitting-stable: never chosen
		},
		GroupBudget: []float64{4},
		LayerCap:    []int{1, 2},
	}
	beta, err := linalg.SolveKnapsackLP(p)
	if err != nil {
		log.Fatal(err)
	}
	sel, err := linalg.SelectKnapsack(p, 0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("β:", beta)
	fmt.Println("split:", sel)
	// Output:
	// β: [1 0 1 0]
	// split: [0 2]
}

func ExampleSpearman() {
	exact := []float64{-3, -1, 0.5, -2}
	estimate := []float64{-2.9, -1.2, 0.4, -1.1}
	fmt.Printf("%.2f\n", linalg.Spearman(exact, estimate))
	// Output:
	// 0.80
}
