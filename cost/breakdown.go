package cost

import (
	"fmt"

	"github.com/nadir-ml/nadir/nn"
)

// LayerCost is one layer's share of the network's size and compute, and
// for a growable layer the price of one more unit.
type LayerCost struct {
	Index int
	Kind  string
	// Units is the dense width or the number of conv filters (0 for
	// layers without them).
	Units  int
	Params int
	MACs   int64 // per example
	// NeuronParams and NeuronMACs are the params and macs models' Neuron
	// costs; 0 for layers that cannot grow.
	NeuronParams, NeuronMACs float64
}

// Breakdown lists every layer's costs in order.
func Breakdown(net *nn.Net) ([]LayerCost, error) {
	grow := map[int]bool{}
	for _, li := range net.Growable() {
		grow[li] = true
	}
	out := make([]LayerCost, len(net.Layers))
	for i, l := range net.Layers {
		s := l.Spec()
		c := LayerCost{Index: i, Kind: s.Kind, Params: int(layerParams(l)), MACs: nn.LayerMACs(l)}
		if s.Kind == "dense" || s.Kind == "conv2d" {
			c.Units = s.Out
		}
		if grow[i] {
			p, err := neuronParams(net, i)
			if err != nil {
				return nil, fmt.Errorf("cost breakdown: %w", err)
			}
			m, err := neuronMACs(net, i)
			if err != nil {
				return nil, fmt.Errorf("cost breakdown: %w", err)
			}
			c.NeuronParams, c.NeuronMACs = float64(p), float64(m)
		}
		out[i] = c
	}
	return out, nil
}
