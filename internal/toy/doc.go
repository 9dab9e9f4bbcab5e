// Package toy holds the small, exact experiments behind splitting steepest
// descent (S2D, METHODS.md §1) and signed splitting (S3D, §3), run on a
// two-layer float64 regression network
//
//	f(x) = Σ_i a_i σ(w_iᵀx + b_i) + c,   L = ½·mean_n (f(x_n) − y_n)²,
//
// small enough that every quantity of the theory can be computed and
// checked directly.
//
// The network is its own (Net, with GD and Adam over one flat float64
// vector) rather than an nn.Net trained by optim, for precision: the
// experiments compare predicted loss changes (ε²/2)·λ of order 10⁻⁸ with
// measured ones, and polish minima to a gradient norm of 10⁻⁹ by Newton
// steps on the dense Hessian, both below what nn's float32 kernels
// resolve (about 10⁻⁷ relative). Everything else is shared: the
// activations are nn's (their σ′ and σ″ included), the split schemes are
// package split's, the spectra linalg's. The package is internal because
// its API is that of `nadir experiment`, not a library's. Neuron i's splitting matrix is
//
//	S_i = mean_n[ (f(x_n) − y_n)·a_i·σ″(z_in)·p_n p_nᵀ ],  p = [x; 1],
//
// (g = ∂ℓ/∂σ_i = (f − y)·a_i times the Hessian σ″·p pᵀ of the neuron's
// output in its own weights); replacing the neuron by off-springs
// θ + ε δ_j with outgoing weights w_j a_i changes the loss by
// (ε²/2)·Σ_j w_j δ_jᵀ S_i δ_j + O(ε³), which the tests check against
// finite differences of real splits. The schemes themselves (S2D's
// (½, ½) along ±v_min, the signed three-copy schemes) come from package
// split; the spectra from linalg.DenseExtremes.
//
// # Toy: S2D on a one-dimensional regression
//
// RunToy runs a version of the S2D paper's toy: y = sin(3x) + x/2 on 1000 points
// of [−3, 3], an RBF network (σ(z) = exp(−z²/2)) grown from one neuron by
// one neuron every 800 full-batch gradient-descent steps (learning rate
// 0.1) up to 8, by five methods with the same seed network and the same
// 6400 steps: split (S2D), random-split, new-neuron, gradient (the
// one-neuron net trained throughout) and signed (S3D, c = 3). With these
// defaults split ends below random-split and new-neuron for each of the
// seeds 1–10 (0.002–0.005, against 0.006–0.24 for random-split and
// 0.22–0.27 for new-neuron). What the ranking needs, found by a sweep
// over optimisers, learning rates, step counts, targets and ε:
//
//   - Plain gradient descent. With Adam a fresh neuron escapes its
//     zero-output saddle at once (Adam normalises the tiny gradients), and
//     new-neuron wins most seeds.
//   - A split step ε = 0.5, not 0.1. The off-springs separate along v_min
//     at a rate proportional to |λ_min|, which is small here; at ε = 0.1
//     they are still together when the next stage starts and split,
//     random-split and gradient end within a few per cent of each other.
//     At ε = 0.5 the loss right after a split is beyond the second-order
//     regime (it may jump up) but falls within tens of steps.
//     LineSearch (the best of ε, ε/2, …, ε/16 by the loss right after the
//     split) keeps every split a descent step; it picks small steps for
//     RBF, where split then wins no seed, and helps tanh (all 10 seeds,
//     against 8 of 10 at the fixed ε = 0.5).
//   - One neuron per growth, so which neuron is split matters too.
//
// The RBF one-neuron net is often splitting-stable (λ_min ≥ 0: it fits
// the trend x/2 with a wide bump); the split method then still splits the
// least stable neuron, as the reference code does (METHODS.md §1.4).
//
// # Stuck: where S2D stalls and signed splitting does not
//
// RunStuck needs a local minimum at which every λ_min ≥ 0, so that S2D
// selects nothing. It first searches: softplus students (width 2, input
// dimension 2) trained on random teacher-student regressions (teacher
// width 4) by Adam and then damped-Newton polishing. Such minima turned
// out to be rare: of 96 students (input dimension 1–3, teacher width 2–8,
// student width 1–4) that converged to a gradient norm below 10⁻⁹, none
// had every λ_min ≥ 0 (relative tolerance 10⁻⁶); only students drifting
// along endless valleys came close. A plausible reason: near a neuron's
// kink the stationarity conditions (r orthogonal to σ(z), σ'(z)·p and 1)
// nearly cancel the σ″-weighted quadratic moments of the residual r along
// the neuron's own weights, so λ_min sits close to 0 and the achievable
// margin is small (the construction below reaches λ_min of 10⁻⁵ to
// 3·10⁻³ of the largest |λ|). RunStuck therefore falls back to a
// construction: it keeps a trained student N* and replaces the targets by
// y = N*(x) − r with the residual r orthogonal to every tangent direction
// of N* on the data (N* is then exactly stationary) and chosen by
// concave maximisation of min_i λ_min(S_i(r)). When that is ≥ 0 the point
// is a genuine local minimum, because at a stationary point the Hessian is
// the Gauss–Newton term plus blockdiag(S_i). The result records which way
// the state was found and how many students were tried. In every run
// made (seeds 1–5) each neuron then had λ_max > 0, and the signed scheme
// (clone with weight (c+1)/2, two copies at ±ε v_max with weight
// −(c−1)/4 each) lowered the loss by about (ε²/2)·(c−1)/2·λ_max; training
// on, the grown network kept descending (0.005 → 0.0014–0.0031) while the
// unsplit one, trained as long, did not move.
package toy
