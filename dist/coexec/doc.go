// Package coexec runs the children of a co-exploration search (package
// coexplore) on a dist executor, so that they can be trained by NATS
// JetStream workers on other machines as well as by the local pool.
//
// The two packages stay independent: coexplore knows only its own small
// Executor interface and dist knows only commands with arguments. Here a
// coexplore.Trial travels as a dist.Trial of the command "coexplore-child"
// whose single argument is the child's JSON; the Runner a worker registers
// under that name trains it with coexplore.RunTrial and returns the
// coexplore.Result as the trial's summary. Training is deterministic in
// the trial's content and float64 values survive JSON exactly, so a search
// gives the same children, rewards and summary on any executor.
package coexec
