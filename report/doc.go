// Package report turns run directories into figures, tables and a
// self-contained HTML page.
//
// A run directory, made by `nadir train` or `nadir grow` (or `nadir
// coexplore`, below), holds
// config.json (every flag, resolved), summary.json (final metrics and, for a
// grow run, the table of rounds) and log.jsonl (one event per line: epoch
// metrics, the eigenvalues of each candidate neuron's splitting matrix, each
// split with its predicted and measured loss change, each growth step).
// Load reads the three into a Run, typed; nothing else is needed, so a
// report can be made on another machine, long after the run.
//
// The figures are built with gonum/plot, each a Figure that carries its file
// name and a caption saying how to read it:
//
//   - AccuracyVsMACs: test accuracy against multiply–accumulates per
//     example, a point per round, a line per run — the trade-off growth
//     methods are compared on;
//   - Widths: the width of each growable layer over the rounds — where a
//     method chose to spend its budget;
//   - LambdaHistogram: the distribution of λ_min and λ_max of the splitting
//     matrices — how many neurons a split can still improve;
//   - PredictedVsMeasured: the second-order prediction of each split's loss
//     change against the measured one — whether the local model behind the
//     selection holds (for ReLU networks the prediction uses the second
//     derivative of a softplus surrogate, so agreement is expected for
//     smooth activations only);
//   - TrainingCurves: loss and accuracy per epoch of a train run;
//   - Rewards and ParetoFronts, for a co-exploration run (nadir
//     coexplore): the controller's mean reward per episode, a line per
//     mode, and validation accuracy against throughput of every trained
//     child with its mode's Pareto front and the throughput specification.
//
// SplitCalibration sums, per layer, the splits' predicted and measured loss
// changes and counts those that lowered the loss; the HTML page shows it
// as a table under the rounds. It is where a ranking that misleads shows:
// a layer whose measured / predicted ratio is near zero or negative gets
// splits that its prediction oversells.
//
// A co-exploration run's summary.json and events are package run's
// CoexploreSummary and Episode; Designs writes its table of best designs,
// one row per mode and one per pipeline stage with board, layers and
// tiling. Co-exploration runs are reported alone, not compared.
//
// Like gonum/plot's constructors, the figure constructors check their input
// and return an error for nothing to plot (wrapping ErrNoData) or for a NaN
// or infinite value, naming the run and the record at fault.
//
// WriteHTML writes report.html, with the images embedded as data URIs so
// that the one file can be mailed or archived, and the PNGs next to it;
// Markdown writes the table that compares runs in closing notes. The
// package reads runs only, through package run (which owns the format):
// it knows nothing of how they were grown or searched.
package report
