package nn

import (
	"math/rand/v2"

	"github.com/nadir-ml/nadir/tensor"
)

// Layer is one step of a sequential network. Shapes are per batch: the first
// dimension is the batch size N, then the per-example shape (C,H,W for
// images, D for vectors).
//
// Forward caches what Backward needs. Backward takes dL/d(output), adds the
// parameter gradients into Param.Grad and returns dL/d(input). Returned
// tensors are buffers owned by the layer and valid until its next call, which
// keeps a steady-state training step free of allocation.
type Layer interface {
	Spec() LayerSpec
	// OutShape is the per-example output shape for the layer's input shape.
	OutShape() []int
	// SetIn records a new per-example input shape after surgery upstream
	// changed the channel count (parameters are resized by the surgery itself).
	SetIn(in []int)
	Forward(x *tensor.Tensor, train bool) *tensor.Tensor
	Backward(dy *tensor.Tensor) *tensor.Tensor
	Params() []*Param
}

// LayerSpec is the serialisable description of a layer; with the layer's
// parameters it rebuilds the layer exactly (see Build).
type LayerSpec struct {
	Kind   string  `json:"kind"`
	In     []int   `json:"in"`                 // per-example input shape
	Out    int     `json:"out,omitempty"`      // dense units / conv filters
	Kernel int     `json:"kernel,omitempty"`   // conv / pool size
	Stride int     `json:"stride,omitempty"`   // conv / pool stride
	Pad    int     `json:"pad,omitempty"`      // conv padding
	Groups int     `json:"groups,omitempty"`   // conv groups; == channels for depthwise
	Bias   bool    `json:"bias,omitempty"`     // dense / conv bias
	Act    string  `json:"act,omitempty"`      // activation name
	Beta   float64 `json:"beta,omitempty"`     // softplus sharpness, leaky slope
	Rate   float64 `json:"rate,omitempty"`     // dropout rate
	Eps    float64 `json:"eps,omitempty"`      // batchnorm epsilon
	Moment float64 `json:"momentum,omitempty"` // batchnorm running-stat momentum
	Origin string  `json:"origin,omitempty"`   // dense / conv provenance, e.g. "inserted by firefly in round 2"
}

// Producer is a layer whose output units are neurons that growth can split,
// add or remove (dense units, conv filters). Row i of its weight parameter is
// unit i's incoming weight vector θ_i.
type Producer interface {
	Layer
	Units() int
	// FanIn is the length of one unit's incoming weight vector (without bias).
	FanIn() int
	// Weight is the parameter whose rows are the units' incoming weights.
	Weight() *Param
	// BiasParam is nil when the layer has no bias.
	BiasParam() *Param
	// AppendUnits adds units with the given incoming weights (nil: zeros) and biases.
	AppendUnits(in [][]float32, bias []float32)
	RemoveUnits(idx []int)
}

// Follower is a per-channel layer between a producer and its consumer
// (BatchNorm, depthwise conv, activation, pooling, dropout, flatten): its
// channel count follows the producer's units.
type Follower interface {
	Layer
	// FollowAppend adds one channel per entry of like, copying the channel's
	// state from channel like[i], or fresh defaults when like[i] < 0.
	FollowAppend(like []int)
	FollowRemove(idx []int)
}

// Consumer is a layer whose input columns belong to the previous producer's
// units (dense columns, conv input channels). spatial is the number of
// columns per input unit contributed by a Flatten (H*W), 1 otherwise; conv
// layers ignore it.
type Consumer interface {
	Layer
	// InputColumn returns a copy of input unit j's weights, Rows×group values.
	InputColumn(spatial, j int) []float32
	// AppendInputs adds input units with the given weights (layout as
	// InputColumn; nil: zeros).
	AppendInputs(spatial int, cols [][]float32)
	ScaleInput(spatial, j int, s float32)
	RemoveInputs(spatial int, idx []int)
}

// Randomised is implemented by layers that draw random numbers in training
// (dropout); the network hands them its generator.
type Randomised interface {
	SetRand(r *rand.Rand)
}
