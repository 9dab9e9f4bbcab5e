// Package nn provides layers with explicit Forward/Backward passes and a
// sequential network, Net, whose hidden widths change during training.
//
// Layers: Dense, Conv2D (stride, padding, groups including depthwise),
// BatchNorm (train/eval, running statistics), MaxPool2D, AvgPool2D,
// GlobalAvgPool, Flatten, Dropout, Act (ReLU, LeakyReLU, Softplus(β), Tanh,
// Sigmoid, Swish, Identity — each with σ, σ′, σ″ and the σ″ that splitting
// uses), losses SoftmaxCE and MSE, and an LSTM with backpropagation through
// time. Every backward pass is tested against finite differences.
//
// Neuron surgery. A producer layer (dense, ungrouped conv) owns neurons:
// row i of its weight is neuron i's incoming vector θ_i. Growth edits a
// producer through Net.AddUnits, Net.ScaleOutgoing and Net.RemoveUnits, and
// the network keeps everything downstream consistent: BatchNorm entries and
// depthwise channels follow their neuron (copied from a "like" unit or
// fresh), a Flatten between a conv and a dense layer maps one channel to
// H·W dense columns, and the consumer gains, scales or loses the unit's
// input columns. Parameters carry their optimiser state (Param.Slots), so
// state follows surgery: new units start from zero, removed units drop
// theirs. Net.InsertLayers with IdentityDense adds depth. Tests check that
// every primitive on every layer pair leaves the function unchanged when
// the new units contribute nothing.
//
// Training speed. Net.Forward runs a per-channel BatchNorm and the ReLU
// after it as one pass that writes both outputs, and pools large planes
// in that pass while they are in cache; BatchNorm keeps no x̂ and streams
// through the batch image by image. Convolutions on maps of at most 16
// positions multiply several images per GEMM, a 3×3 convolution on a 1×1
// map uses its centre taps only, and a one-channel one forms its weight
// gradient transposed. Every such path leaves each layer's outputs,
// gradients and state as the layers run one by one would, bitwise where
// the arithmetic is the same, and is bitwise independent of the thread
// count; tests compare them and check them by finite differences.
//
// Statistics hooks. After a Forward/Backward pair, Net.Output(i) and
// Net.Grad(i) expose each layer's output and the loss gradient there;
// with Dense.Input, Conv2D.Patches and BatchNorm.Scale they give the
// splitting methods p, z, b and g for every neuron.
//
// ParseModel builds networks from the model grammar ("mlp:128",
// "cnn:c8,p,c16,p,f32"); MarshalBinary / UnmarshalNet store architecture,
// weights, optimiser slots and BatchNorm statistics with a checksum.
// ModelFootprint sizes a model from the grammar without building it, so
// that callers refuse one too large for the machine before it allocates.
package nn
