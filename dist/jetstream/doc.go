// Package jetstream runs dist trials on NATS JetStream workers: the one
// package of the module that imports NATS.
//
// Layout on the server (all created on first use by Open):
//
//   - stream NADIR_TRIALS, subject nadir.trials, work-queue retention: one
//     message per submitted trial (its canonical JSON; header Nadir-Trial
//     holds the ID, and the ID is also the message ID, so a re-submission
//     within the stream's duplicate window is dropped);
//   - durable pull consumer nadir-workers shared by all workers: a message
//     not acknowledged within AckWait is redelivered;
//   - key-value bucket nadir-results: the Result of each trial under its ID,
//     written with Create, so the first result stored wins and a trial
//     delivered twice has one result;
//   - object store nadir-runs: each finished trial's run directory (a tar
//     of config, event log, checkpoints, summary) under its ID.
//
// A Worker pulls one trial at a time, skips it if a result is already
// stored, runs it with heartbeats (InProgress every AckWait/3, so a long
// trial is not redelivered while it runs), uploads the run directory, stores
// the result and only then acknowledges. A failure is negatively
// acknowledged and retried; on delivery MaxDeliver (carried by the message)
// it is stored as a failed result carrying the error (the dead-letter
// record) and the message is terminated. If a worker dies holding a trial,
// the trial is redelivered to another after AckWait; a trial delivered more
// than MaxDeliver times (every holder died) is dead-lettered by the worker
// that receives it next, without running it. Delivery is therefore at least
// once, and results exactly once.
//
// Executor is the submitting side (a dist.Executor): it publishes the
// trials that have no result yet, watches the results bucket, and unpacks
// each finished trial's run directory locally. Embedded starts a server
// in-process with a store directory and no listening port, for the
// single-machine path through the same code.
package jetstream
