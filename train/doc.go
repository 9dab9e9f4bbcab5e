// Package train runs the parametric descent: a training loop with hooks
// (progress bars live in hooks, not in the loop), evaluation (loss,
// accuracy, confusion matrix), early stopping on a validation split, a
// divergence guard, and runs that survive being killed.
//
// A run is a directory (Session, on package run, which owns the format):
// config.json with every resolved flag, log.jsonl (an append-only log of
// typed events), ckpt/ and summary.json. Checkpoints hold the architecture
// with the weights and optimiser state, the optimiser's scalars and the
// position in the run; package run adds the event log's length, writes
// them atomically with a checksum and keeps the previous one, to which
// OpenSession falls back when the latest is damaged. Randomness is derived from the seed and the position — epoch
// e's shuffle from PCG(seed, e), step s's augmentation and dropout from
// PCG(seed', e<<32|s) — so restoring the position restores every random
// stream, and a resumed run reproduces an uninterrupted one bit for bit.
// A NaN or infinite loss stops training with a DivergedError naming the
// epoch and step; the last good checkpoint is kept.
package train
