// Package sweep plans and summarises growth studies: methods × seeds ×
// budgets × datasets, each point a dist.Trial of `nadir grow` (or of
// `nadir train` for a baseline such as a uniform-width network trained from
// scratch).
//
// A Spec lists the axes; Points expands them into a grid in a fixed order
// (data, budget, method, seed), so a study and its trial IDs are the same
// on every run and a resumed study reruns nothing that finished. The
// caller turns each Point into a trial (only it knows the commands' flags)
// and runs the trials on any dist.Executor.
//
// Aggregate groups the finished trials by data, method and budget into
// Rows — mean and sample standard deviation of test accuracy, mean
// parameters and MACs — which Markdown prints as a table and Plot draws as
// accuracy against MACs or parameters with error bars (± one standard
// deviation on both axes), a line per method through its budgets.
package sweep
