package export_test

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/nadir-ml/nadir/export"
	"github.com/nadir-ml/nadir/nn"
)

// A network goes to ONNX with one or a few standard ops per layer and
// reads back into the same network.
func ExampleONNX() {
	act, _ := nn.ParseActivation("softplus:2")
	net, _ := nn.ParseModel("cnn:c4,p,f8", []int{1, 8, 8}, 3, act, rand.New(rand.NewPCG(1, 1)))
	m, err := export.ONNX(net, export.ONNXOptions{FoldBN: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("opset", m.Opsets[0].Version, "IR", m.IRVersion, "structure ok:", export.CheckGraph(m) == nil)
	var ops []string
	for _, n := range m.Graph.Nodes {
		ops = append(ops, n.OpType)
	}
	fmt.Println(strings.Join(ops, " "))
	back, _, err := export.ReadONNX(m.Marshal())
	fmt.Println(len(back.Layers), "layers read back, error:", err)
	// Output:
	// opset 13 IR 7 structure ok: true
	// Conv Mul Softplus Div MaxPool Flatten Gemm Mul Softplus Div Gemm Softmax
	// 7 layers read back, error: <nil>
}

// Safetensors tensors carry PyTorch state_dict names and shapes.
func ExampleNetSafetensors() {
	act, _ := nn.ParseActivation("relu")
	net, _ := nn.ParseModel("cnn:c2,g", []int{1, 4, 4}, 2, act, rand.New(rand.NewPCG(1, 1)))
	file, _, err := export.NetSafetensors(net, export.Info{})
	if err != nil {
		fmt.Println(err)
		return
	}
	ts, _, err := export.ReadSafetensors(file)
	for _, t := range ts {
		fmt.Println(t.Name, t.DType, t.Shape)
	}
	fmt.Println(err)
	// Output:
	// layers.0.weight F32 [2 1 3 3]
	// layers.1.weight F32 [2]
	// layers.1.bias F32 [2]
	// layers.1.running_mean F32 [2]
	// layers.1.running_var F32 [2]
	// layers.1.num_batches_tracked I64 []
	// layers.4.weight F32 [2 2]
	// layers.4.bias F32 [2]
	// <nil>
}
