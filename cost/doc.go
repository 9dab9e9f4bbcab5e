// Package cost prices networks and their growth.
//
// Growth adds units (dense neurons, conv filters) to producer layers. One
// unit does not only bring its own incoming weights: it also adds a channel
// to every per-channel layer after it (BatchNorm, a depthwise convolution)
// and an input column to the consuming layer (Spatial columns when a dense
// layer reads a flattened feature map). A Model's Neuron prices exactly
// that bundle, and Total prices the whole network in the same units, so a
// budget on Total can be spent neuron by neuron. All four models are
// linear in the number of units added: k units of layer ℓ cost
// k·Neuron(ℓ).
//
// The models:
//
//   - params: trainable scalars (weights, biases, BatchNorm γ and β; not
//     BatchNorm's running statistics, which are not trained). Neuron is the
//     exact change in Net.NumParams.
//   - macs: multiply-accumulates per example (nn.LayerMACs). Neuron is the
//     exact change in Net.MACs: the producer's MACs per unit, the
//     depthwise follower's MACs per channel and the consumer's MACs per
//     input unit.
//   - energy: the proxy of fast energy-aware splitting (Wang et al.'s
//     reference code, METHODS §2.2): cost_ℓ = sqrt(MACs of one neuron of
//     ℓ), and Total = Σ over growable layers of units_ℓ·cost_ℓ, the
//     quantity the reference scales by its grow rate to set a round's
//     budget. It is not a physical energy: the square root compresses the
//     range between cheap and expensive layers, so the knapsack does not
//     starve the costly early, high-resolution layers, yet still prefers
//     cheap ones. Layers that cannot grow (the output layer, pooling) are
//     left out of Total, so a budget on it compares only growable widths.
//   - latency: the forward time of each layer, measured on this machine in
//     evaluation mode at the layer's current shapes, in milliseconds per
//     batch of Options.Batch examples (median of Options.Repeats timed
//     passes after a warm-up). A unit is charged the time of its producer,
//     followers and consumer divided by the producer's units, which
//     assumes time grows linearly with channels. Total is the sum of all
//     layers' times. Each distinct layer shape is timed once: the times
//     are kept in a JSON table at Options.LatencyCache (normally in the
//     run directory), rewritten atomically as it grows, so re-running or
//     resuming in that directory reuses them. Measurements depend on the
//     machine and its load; the table is only valid where it was made.
//
// Budgets (Budget, ParseBudget) name a model and a cap on the final
// network's Total in that model's units: "params=50000" means growth stops
// before the network exceeds fifty thousand parameters. The growth engine
// spends the remainder Value − Total on the Neuron costs of the units it
// adds.
package cost
