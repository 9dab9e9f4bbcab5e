// Package split implements splitting steepest descent: S2D (Liu, Wu,
// Wang, NeurIPS 2019), its fast energy-aware variant (Wang et al. 2019)
// and signed splitting S3D (Wu et al. 2020), as methods of the growth
// engine in package grow.
//
// A neuron θ with activation σ(θᵀp) is replaced by off-springs θ + εδ_j
// with outgoing weights w_j (Σ w_j = 1). The loss changes to second order
// by (ε²/2) Σ_j w_j δ_jᵀ S δ_j, where the splitting matrix
//
//	S = E[ g · σ″(z) · b² · p pᵀ ]
//
// couples the loss gradient g at the neuron's output, the activation's
// curvature at its pre-activation z, the BatchNorm scale b and the input
// p (an im2col patch for convolutions, positions summed). S2D splits along
// the eigenvector of the smallest eigenvalue (gain λ_min); signed splits
// with negative weights also use λ_max, escaping S2D's splitting-stable
// points.
//
// Collect gathers the per-row inputs and coefficients once; S is never
// formed unless the dense reference solver asks for it, since S v is
// O(rows·K) matrix-free. Solve finds both ends of each spectrum with
// Lanczos (default), a dense decomposition or the stochastic Rayleigh
// quotient method. In a growth step s2d and fast, which use λ_min only,
// trade exactness for time unless Options.Exact: Lanczos stops on λ_min
// alone (λ_max is then an estimate) with a looser tolerance for a clearly
// negative λ_min and a cap on products, and Collect computes coefficients
// and small layers' matrices in float32 orders (CollectOptions); what that
// does to λ_min and the chosen neurons is measured in bench/PROFILE.md. Apply performs a scheme through nn's neuron surgery;
// a balanced scheme (Options.Balanced) then rescales each off-spring's
// whole path by √w_j instead of its outgoing weights by w_j — the same
// function through positively homogeneous layers, with every parameter at
// its parent's gradient-to-value ratio.
package split
