// Package linalg provides the numerical kernels of splitting steepest
// descent: the extreme eigenpairs of per-neuron splitting matrices, a
// stochastic Rayleigh-quotient solver for when those matrices are only seen
// through mini-batch products, and the budgeted (knapsack) selection of
// which neurons to split. Everything is float64.
//
// # Splitting matrices and why Lanczos
//
// A neuron with input patches p (length D, bias included) has the splitting
// matrix S = Σ_s coeff_s · p_s p_sᵀ, coeff = g·σ″(z)·b² (METHODS.md §1.2),
// summed over the samples (and spatial positions) of the data. S is
// symmetric and usually indefinite. Splitting helps when λ_min(S) < 0, along
// v_min; signed splitting (§3.2) also needs λ_max and v_max. Only the two
// ends of the spectrum matter.
//
// The reference code forms every S and runs a dense eigendecomposition:
// O(D²) memory and O(D³) time per neuron, about 0.85 s for D = 785 (an
// MNIST MLP) with DenseExtremes. Lanczos needs only the product S v, which
// for the rank-one form is Σ_s coeff_s (p_sᵀ v) p_s: O(samples·D) per
// product and no D×D storage (RankOneSum). Both ends converge together from
// one Krylov space, typically in a few dozen products, so at D = 785 with
// 200 samples Lanczos takes a few milliseconds (BenchmarkLanczos versus
// BenchmarkDense). When there are fewer samples than dimensions, S has rank
// below D and the Krylov space becomes invariant after at most rank+1
// products; Lanczos detects this and stops with exact extremes.
//
// Lanczos keeps the whole basis and reorthogonalises fully, trading O(k·D)
// memory for robustness: no ghost eigenvalues, and repeated or clustered
// spectra (a multiple of the identity plus a low-rank update) are handled
// exactly. Convergence is judged on the residual ‖S v − λ v‖ relative to
// ‖S‖ for both ends. DenseExtremes (gonum mat.EigenSym) is the reference
// the tests compare against and the fallback for small D. ExtremesBatch
// solves one matrix per neuron in parallel with results that do not depend
// on the number of threads.
//
// # Rayleigh-quotient descent
//
// The energy-aware method (§2.2) never builds S: one backward pass with a
// zero probe gives a mini-batch estimate of S v for the current v. Rayleigh
// keeps one unit vector per neuron and follows the gradient of the Rayleigh
// quotient with RMSprop and momentum, renormalising after every step, and
// averages λ and v over a window (the last epoch). RMSprop makes the step
// independent of the gradient's scale, which differs by orders of magnitude
// between layers.
//
// # Selection
//
// SolveKnapsackLP solves the LP relaxation of "most negative total score
// under per-group cost budgets and per-layer caps" (§2.2) with gonum's
// simplex after exact reductions; SelectKnapsack rounds it as the reference
// does (keep β ≥ 0.99, top up greedily); SelectGreedy is the fast
// score-per-cost heuristic, exact for a single budget row. Spearman measures
// whether two eigenvalue estimates rank neurons alike.
//
// # Conventions
//
// Randomness comes only from the *rand.Rand passed in (or, for
// ExtremesBatch, a PCG stream derived from its seed and the matrix index).
// Eigenvectors are unit vectors whose largest-magnitude entry is positive,
// so different solvers return comparable vectors. Errors report bad input
// (shape, NaN, invalid options or budgets); panics mark programmer errors
// (nil random source, mismatched slice lengths inside kernels).
package linalg
