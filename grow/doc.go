// Package grow is nadir's descent engine: steepest descent over
// architectures,
//
//	f_{t+1} = argmin_{f ∈ N(f_t, ε)} L(f)  subject to  cost(f) − cost(f_t) ≤ budget_t,
//
// run as rounds of {train, propose candidates, score, select, apply}.
//
// A Method (S2D, fast energy-aware splitting and signed splitting live in
// grow/split, Firefly descent in grow/firefly) proposes Candidates: function-preserving edits with a
// predicted loss change (ε²/2)·Score and the number of units they add. The
// Engine owns everything else: the statistics batches of each round, the
// selection under a budget — the S2D fraction rule (SelectRatio) or the LP
// knapsack of the energy-aware method (SelectKnapsack) with per-layer
// width caps and a final budget that ends growth —, the surgery (applied
// from the last layer backwards so that displacements of a layer whose
// inputs were split are halved and duplicated consistently), the event log
// (every split with its eigenvalues, scheme, ε, cost delta, predicted and
// measured loss change), per-round checkpoints and resumption at any phase.
//
// Baselines a user needs to judge growth run on the same engine:
// random-split and new-neuron (in grow/split), scratch (the final
// architecture of a grown run trained from scratch for the same epochs)
// and prune (a twice-as-wide network trained, magnitude-pruned to the grown
// network's widths, fine-tuned; PruneTo).
package grow
