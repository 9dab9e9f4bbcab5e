package cost

import (
	"fmt"
	"math"

	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/option"
)

// Model prices networks and single-neuron growth.
type Model interface {
	// Name is the model's kind: "params", "macs", "energy" or "latency".
	Name() string
	// Neuron is the cost of adding one unit to growable producer layer li.
	// Every cost here is linear in the units added, so k units cost
	// k·Neuron. The unit brings its own incoming weights, one channel of
	// each per-channel follower (BatchNorm, depthwise convolution) and its
	// input column in the consumer layer (Spatial columns for a dense
	// consumer after a Flatten).
	Neuron(net *nn.Net, li int) (float64, error)
	// Total is the cost of the whole network, in the units of Neuron, so
	// that a budget on Total bounds the sum of Neuron costs of what grows.
	Total(net *nn.Net) (float64, error)
}

// Options configure the models that need them (only latency does).
type Options struct {
	// LatencyCache is the path of the latency table, usually inside the
	// run directory; empty keeps the table in memory only.
	LatencyCache string
	// Batch is the batch size latency is measured at (0: 32).
	Batch int
	// Repeats is the number of timed passes per layer whose median is
	// kept (0: 5).
	Repeats int
}

var kinds = []string{"params", "macs", "energy", "latency"}

// Kinds lists the cost models New knows, in the order they are documented.
func Kinds() []string { return append([]string(nil), kinds...) }

// New returns the cost model of the given kind.
func New(kind string, opts Options) (Model, error) {
	switch kind {
	case "params":
		return paramsModel{}, nil
	case "macs":
		return macsModel{}, nil
	case "energy":
		return energyModel{}, nil
	case "latency":
		return newLatency(opts)
	}
	return nil, option.Errorf("cost", kind, "unknown cost model (want one of %v)", kinds)
}

// chainLayers returns producer li's units and the indices of every layer
// whose size is linear in them: the producer, its followers and its
// consumer (last).
func chainLayers(net *nn.Net, li int) (units int, layers []int, ch nn.ChainInfo, err error) {
	ch, err = net.Chain(li)
	if err != nil {
		return 0, nil, ch, err
	}
	units = net.Layers[li].(nn.Producer).Units()
	layers = append(layers, li)
	layers = append(layers, ch.Followers...)
	layers = append(layers, ch.Consumer)
	return units, layers, ch, nil
}

// perUnit divides a per-layer quantity by the producer's units, failing
// when it is not a whole multiple: such a layer is not linear in the
// units and the linear neuron costs would be wrong.
func perUnit(net *nn.Net, j int, what string, total int64, units int) (int64, error) {
	if total%int64(units) != 0 {
		return 0, fmt.Errorf("layer %d (%s): %d %s are not a multiple of the %d units feeding it", j, net.Layers[j].Spec().Kind, total, what, units)
	}
	return total / int64(units), nil
}

func layerParams(l nn.Layer) int64 {
	var n int64
	for _, p := range l.Params() {
		n += int64(p.Len())
	}
	return n
}

// neuronParams is the exact parameter increase of one unit in layer li.
func neuronParams(net *nn.Net, li int) (int64, error) {
	units, layers, ch, err := chainLayers(net, li)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, j := range layers[:len(layers)-1] {
		k, err := perUnit(net, j, "parameters", layerParams(net.Layers[j]), units)
		if err != nil {
			return 0, err
		}
		n += k
	}
	// The consumer's bias does not grow; its weight gains one input column
	// (Spatial columns, or one kernel per filter for a convolution) per unit.
	cons := net.Layers[ch.Consumer].(nn.Consumer)
	return n + int64(len(cons.InputColumn(ch.Spatial, 0))), nil
}

// neuronMACs is the exact increase in multiply-accumulates per example of
// one unit in layer li: LayerMACs is linear in the channel count of the
// producer, of a depthwise follower and of the consumer's input.
func neuronMACs(net *nn.Net, li int) (int64, error) {
	units, layers, _, err := chainLayers(net, li)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, j := range layers {
		k, err := perUnit(net, j, "MACs", nn.LayerMACs(net.Layers[j]), units)
		if err != nil {
			return 0, err
		}
		n += k
	}
	return n, nil
}

type paramsModel struct{}

func (paramsModel) Name() string { return "params" }
func (paramsModel) Neuron(net *nn.Net, li int) (float64, error) {
	n, err := neuronParams(net, li)
	if err != nil {
		return 0, fmt.Errorf("params cost: %w", err)
	}
	return float64(n), nil
}
func (paramsModel) Total(net *nn.Net) (float64, error) { return float64(net.NumParams()), nil }

type macsModel struct{}

func (macsModel) Name() string { return "macs" }
func (macsModel) Neuron(net *nn.Net, li int) (float64, error) {
	n, err := neuronMACs(net, li)
	if err != nil {
		return 0, fmt.Errorf("macs cost: %w", err)
	}
	return float64(n), nil
}
func (macsModel) Total(net *nn.Net) (float64, error) { return float64(net.MACs()), nil }

// energyModel is the fast energy-aware splitting reference's proxy
// cost_ℓ = sqrt(flops_ℓ) per neuron.
type energyModel struct{}

func (energyModel) Name() string { return "energy" }
func (energyModel) Neuron(net *nn.Net, li int) (float64, error) {
	n, err := neuronMACs(net, li)
	if err != nil {
		return 0, fmt.Errorf("energy cost: %w", err)
	}
	return math.Sqrt(float64(n)), nil
}

// Total is Σ_ℓ units_ℓ·cost_ℓ over the growable layers, the quantity the
// reference multiplies by the grow rate to get its budget. The output
// layer and everything without neurons are left out.
func (m energyModel) Total(net *nn.Net) (float64, error) {
	var t float64
	for _, li := range net.Growable() {
		c, err := m.Neuron(net, li)
		if err != nil {
			return 0, err
		}
		t += float64(net.Layers[li].(nn.Producer).Units()) * c
	}
	return t, nil
}
