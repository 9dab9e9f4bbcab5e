// Package coexplore searches a CNN and the multi-FPGA pipeline that runs it
// at the same time: hardware/software co-exploration (Jiang et al., TCAD
// 2020; METHODS §5).
//
// A REINFORCE controller (an LSTM with one embedding table and one softmax
// head per decision) first decides the network — depth, then kernel,
// filters and stride of every layer — and then the hardware: how much of
// each board of the pool the accelerators may use. The fast exploration
// prices the pair with the analytic model of package cost/fpga (best
// partition and tilings, milliseconds) and, when the design misses the
// throughput specification, re-samples only the hardware decisions a few
// times; a child that still misses it gets reward −1 and is never trained.
// That is where co-exploration saves its time: hardware-aware NAS, which
// searches networks for one fixed accelerator design, trains every child
// it samples. Survivors go to the slow exploration: they are trained with
// package train on a subset of the data and scored on a held-out
// validation split, and the reward α·Â + (1−α)·Ĥ combines the normalised
// accuracy with the normalised hardware efficiency (throughput margin over
// the specification and energy efficiency, METHODS §5.5).
//
// Children are trained through an Executor: a Trial is a self-describing,
// serialisable job whose ID is a hash of its content, so identical
// architectures are trained once (a per-search cache by ID). Local trains
// them on goroutines; package dist/coexec runs them on dist's executors
// (NATS JetStream workers), which this package does not import.
//
// The same Search runs the baselines with the same episodes, seeds and
// data: hardware-aware NAS on fixed accelerators designed for the space's
// reference network, and accuracy-only NAS, whose winner gets its best
// hardware afterwards. A search is a run directory — config.json,
// log.jsonl with one event per child, ckpt/last.json (controller with its
// optimiser state, cache, scored children and the baseline, written
// atomically after every episode) and summary.json (package run's
// CoexploreSummary) — and a killed search continues from its last episode
// exactly as if it had not stopped. Its plots and table of best designs
// are made by package report from the run directory alone.
package coexplore
