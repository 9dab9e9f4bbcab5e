// Package dist runs independent trials — whole growth runs of a study, the
// children of an architecture search — on a pool of workers.
//
// A Trial is a self-describing job: the name of a nadir command, its
// arguments and a seed. Its ID is a hash of its canonical JSON, so the same
// job submitted twice (by a resumed sweep, by two submitters, or delivered
// twice by a queue) has one ID, and results are kept by that ID: a trial is
// done once.
//
// A worker runs a trial in-process by looking its command up in a Registry
// of Runners. A Runner writes a run directory and returns its summary JSON;
// the command-line tool registers the real grow and train runners, and this
// package registers two for tests and measurements: "noop" (writes an empty
// run) and "fail" (always fails with the error named in its arguments).
//
// An Executor runs a batch of trials and leaves every trial's run directory
// in DIR/<id>, with result.json (the Result: status, summary or error,
// attempts, worker) next to the run's own files. A trial whose result.json
// says done is not run again, which makes any batch resumable. Pool, the
// default executor, runs trials on goroutines of this process and needs
// nothing installed; package dist/jetstream runs them on NATS JetStream
// workers on any number of machines, and keeps that dependency out of the
// rest of the module.
package dist
