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
// An Engine needs only what it cannot guess: a run Session, a Trainer with
// the seed network, the data, a Method and a Config. Config.Validate fills
// the fields whose zero value means the default (DefaultConfig) and
// rejects the rest with *option.Error naming the field ("grow.rounds");
// Prepare (called by Run if need be) also takes the method's selection
// rule when Select is empty and builds the cost model and the budget from
// their names. Options with a fixed set of values are typed, each with one
// list (Selections, Phases, split.Solvers). Methods are registered by
// name (RegisterMethod; grow/split registers its five in init) and made
// by NewMethod, so a new method is a package that registers itself.
//
// Baselines a user needs to judge growth run on the same engine:
// random-split and new-neuron (in grow/split), scratch (the final
// architecture of a grown run trained from scratch for the same epochs),
// prune (a twice-as-wide network trained, magnitude-pruned to the grown
// network's widths, fine-tuned; PruneTo) and network slimming (the wide
// network trained with an L1 penalty on its BatchNorm scales, SparseBN,
// then pruned globally by smallest |γ| down to a cost, SlimTo).
// PlanBaseline matches scratch and prune to a grown run directory: the
// architecture and the epochs.
//
// Config also holds the knobs of how growth proceeds: ε absolute or as a
// fraction of the split neuron's weight norm (EpsRel), optimiser state
// reset after a growth step (ResetOptim), a learning-rate schedule per
// round or over the whole run (LRSpan), uneven outgoing shares between a
// split's copies (OutJitter), a cap on splits per lineage per round
// (LineageCap), how a split shares the outgoing weight (SplitParam:
// all of w_j on the outgoing weights, or √w_j on every parameter of each
// copy's path, which keeps the function and each parameter's
// gradient-to-value ratio), shrink-and-perturb after each growth step
// (Shrink, Perturb; ShrinkPerturb) and a fresh initialisation of the grown
// architecture once growth has ended (Reinit), so that growth only chooses
// the widths; with Reinit the epochs before the last growth step may pass
// over a part of the training set each (GrowthFraction), so that growth
// costs less of a fixed number of epochs. A budget that ends growth early
// turns the remaining rounds into fine-tuning, so runs of one configuration
// train equally long.
// With GrowAuto (--grow-ratio auto) a budget also sets each round's size:
// step r of R may grow the cost C to C·(B/C)^(1/(R−r+1)), the same factor
// every round, so that the last step ends just under the budget B instead
// of wherever a fixed ratio's R rounds happen to stop. The round's size is
// then in the budget's units, but the knapsack still orders the units by
// the selection's cost model (Cost): under a MAC budget, --cost energy
// ranks by gain per √MACs as the reference does, --cost macs by gain per MAC.
//
// Selection prices a unit at the widths before the round, but a unit's cost
// grows with its neighbours' widths; the engine replays a selection on a
// copy of the architecture in the order the splits are applied and shrinks
// the round's cost until nothing would be dropped at the exact prices
// (otherwise the picks dropped are always the first layers'). Four knobs
// change what is chosen: RankAtStep ranks splits by their predicted loss
// change at the step they are applied with (with EpsRel, ‖θ‖²·λ_min instead
// of λ_min); RankMeasured replaces the second-order prediction by the loss
// change each candidate makes when it is applied at its step, measured on
// the statistics batches and undone (SplitLosses.Probe; the expansion can
// fail at a finite step, and ReLU's second derivative is a surrogate's);
// RankHeldout scores each split direction by its curvature on statistics
// batches that did not choose it (λ_min of a sampled matrix is biased
// low); and LayerFloor makes every layer take a share of uniform growth first
// (Limits.Floor).
package grow
