package cost_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/nadir-ml/nadir/cost"
	"github.com/nadir-ml/nadir/nn"
)

// One neuron of a 4→8→3 perceptron costs its 4 incoming weights and bias
// plus its column of 3 weights in the output layer.
func ExampleModel() {
	r := rand.New(rand.NewPCG(1, 2))
	net, err := nn.ParseModel("mlp:8", []int{4}, 3, nn.Activation{Kind: nn.ReLU}, r)
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := cost.New("params", cost.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	c, _ := m.Neuron(net, 0)
	total, _ := m.Total(net)
	fmt.Println("one neuron:", c)
	fmt.Println("network:", total)
	net.AddUnits(0, []nn.NewUnit{{Like: -1}})
	fmt.Println("after growing one:", net.NumParams())
	// Output:
	// one neuron: 8
	// network: 67
	// after growing one: 75
}

// The conv's neuron is a 3x3 filter, a BatchNorm γ and β, and 4x4
// flattened columns in each of the dense layer's 16 rows.
func ExampleBreakdown() {
	r := rand.New(rand.NewPCG(1, 2))
	net, _ := nn.ParseModel("cnn:c8,p,f16", []int{1, 8, 8}, 10, nn.Activation{Kind: nn.ReLU}, r)
	rows, err := cost.Breakdown(net)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range rows {
		fmt.Printf("%d %-9s units %2d params %4d MACs %4d  neuron: %3g params %3g MACs\n",
			c.Index, c.Kind, c.Units, c.Params, c.MACs, c.NeuronParams, c.NeuronMACs)
	}
	// Output:
	// 0 conv2d    units  8 params   72 MACs 4608  neuron: 267 params 832 MACs
	// 1 batchnorm units  0 params   16 MACs    0  neuron:   0 params   0 MACs
	// 2 act       units  0 params    0 MACs    0  neuron:   0 params   0 MACs
	// 3 maxpool   units  0 params    0 MACs    0  neuron:   0 params   0 MACs
	// 4 flatten   units  0 params    0 MACs    0  neuron:   0 params   0 MACs
	// 5 dense     units 16 params 2064 MACs 2048  neuron: 139 params 138 MACs
	// 6 act       units  0 params    0 MACs    0  neuron:   0 params   0 MACs
	// 7 dense     units 10 params  170 MACs  160  neuron:   0 params   0 MACs
}

func ExampleParseBudget() {
	b, err := cost.ParseBudget("macs=2e6")
	fmt.Println(b.Kind, b.Value, err)
	_, err = cost.ParseBudget("flops=2e6")
	fmt.Println(err)
	// Output:
	// macs 2e+06 <nil>
	// budget "flops=2e6": unknown cost kind "flops" (want one of [params macs energy latency])
}
