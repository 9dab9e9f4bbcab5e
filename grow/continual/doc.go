// Package continual is task-incremental continual learning (METHODS.md
// §4.5): a sequence of tasks, each with its own output head, learned one
// after the other, and a comparison of Firefly growth with the usual
// baselines on the same data and seed.
//
// Firefly keeps one growing MLP trunk. Task t uses the first n_t[ℓ]
// neurons of every hidden layer ℓ (its mask, a prefix because neurons are
// only appended) and its own head. When task t begins, everything the
// earlier tasks use is frozen element by element (restored after every
// optimiser step, so it stays bit-identical); the task first trains its
// head on the frozen features, then, while its training accuracy is below
// the target, runs Firefly growth steps whose candidates are new neurons
// and trainable copies of old neurons (grow/firefly with NoSplit and
// Copies), each followed by training. An earlier task's network is
// rebuilt from its prefix and head, so its outputs never change:
// forgetting is exactly 0, and the network grows only where a task needs
// capacity.
//
// Baselines: finetune (one shared trunk of fixed width, trained on every
// task in turn: it forgets), ewc (the same plus the elastic weight
// consolidation penalty λ/2·Σ F_i(θ_i − θ*_i)² with the diagonal Fisher
// information accumulated over tasks) and independent (a fresh network
// per task: no forgetting, T times the parameters).
//
// Results: the task × task accuracy matrix (row t: after learning task t),
// average final accuracy, forgetting (mean over earlier tasks of the best
// accuracy minus the final one) and parameters, with a heat-map and a
// parameters-per-task plot.
package continual
