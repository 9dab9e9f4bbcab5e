// Package firefly is Firefly neural architecture descent (METHODS.md §4)
// as methods of the grow engine: "firefly" (split existing neurons and add
// new ones) and "firefly-split" (split only), with optional depth
// candidates.
//
// One growth step builds the candidate network of the current network:
// every neuron of every growable layer gets a trainable split direction δ
// (the neuron becomes the pair ½σ((θ+δ)ᵀx) + ½σ((θ−δ)ᵀx)), and K new
// neurons per layer get trainable incoming and outgoing weights. The
// candidate network is an ordinary nn.Net built with the surgery
// primitives — each split pair is a unit and its twin whose consumer
// columns are tied halves, new units are appended — so its gradients are
// the network's own backward pass, gathered onto the candidate parameters
// (tests check them against finite differences). All candidates train
// jointly with Adam for a few mini-batches (BatchNorm in evaluation
// mode), then each candidate k is scored by its gate derivative
// g_k = ∂L/∂s_k at s = 1, where s_k scales δ (split) or the new neuron's
// outgoing weights, averaged over the engine's statistics batches. The
// engine keeps the most negative g_k under its ratio or knapsack budget:
// by the gate linearisation L(s) ≈ L(1) + Σ_k (s_k − 1)·g_k, keeping k
// changes the loss by ≈ g_k.
//
// Surgery keeps every trained quantity: a kept split moves the neuron to
// θ+εδ and appends θ−εδ with the outgoing weights halved, a kept new
// neuron brings its trained incoming weights and its trained outgoing
// weights into its consumer (the classifier included), and weights between
// kept new neurons of consecutive layers are kept too. ε (the engine's
// --eps) scales every applied perturbation; 1, the default for these
// methods, applies the candidates as trained, 0 leaves the function
// unchanged. The result depends only on the set of kept candidates, not
// on the order the engine applies them in.
//
// Depth (Options.Deeper): after the activation of each growable layer
// with ReLU, a 3×3 convolution or a dense layer initialised to the
// identity, followed by ReLU — the identity on a non-negative input, so the
// insertion preserves the function (no BatchNorm, which in evaluation
// mode would rescale its channel). Its trained weight perturbation Δ is
// gated the same way. Depth candidates carry their full cost under the
// engine's cost model, so knapsack selection compares them with width
// candidates per unit cost; under the ratio rule a layer counts as one
// edit. At most MaxNewLayers layers are proposed per round. Inserted
// layers are ordinary producers, growable in later rounds.
package firefly
