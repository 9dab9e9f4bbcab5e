// Package run owns the run directory, the one format every nadir producer
// writes (train, grow and its baselines; coexplore with a config and
// checkpoint of its own, its events and summary.json typed here as Episode
// and CoexploreSummary) and every reader reads (resume, report, eval):
//
//	config.json   Config: every flag, resolved; "format" is the layout version
//	log.jsonl     one event per line, append-only
//	ckpt/         last.ckpt, prev.ckpt, named copies (round-3.ckpt)
//	summary.json  Summary, written when the run finishes
//	lock          held (flock) by the one process writing the directory
//
// Events are typed: one Go struct per kind (Epoch, Round, Split, ...), its
// JSON fields being the line's fields, after a header of "event" (the
// kind), "v" (the kind's version) and "time". A new kind is a struct in a
// file of its own with a Kind method and Register[T]() in init; ReadLog
// then decodes its lines into T, and Events[T] picks them out. Lines of
// kinds a program does not know are kept as Unknown and skipped by readers.
//
// Durability: every file but the log is written by WriteFile (temporary
// file, fsync, rename), so a crash leaves the old file or the new one. A
// checkpoint is checksummed (CRC-32C and length) and records the log's
// length; the latest is ckpt/last.ckpt and the one before it is kept as
// ckpt/prev.ckpt, so Resume falls back to it, with a warning, when the
// latest is damaged, and then cuts the log back to what the checkpoint
// saw, so a resumed run logs each event once. Write failures are
// *WriteError (a run-time failure, exit 1 in the CLI); InjectFault makes
// them happen in tests.
//
// Producers whose config.json has a schema of their own (nadir npi train)
// use CreateFor, ResumeFor and ReadConfigAs; Command tells readers which
// producer made a directory.
//
// Versions: the golden run directories under testdata/runs (one train and
// one grow run per format: train-v0 and grow-v0 were written before this
// package, train and grow at Format 1; npi, an NPI training run) are read
// by the tests of this package, of report and of cmd/nadir (eval, resume,
// npi verify and eval), so a change that stops old runs from being read
// fails a test. To change the format: a kind
// whose fields change incompatibly gets a Version method returning the next
// number and its decoder learns the older lines; a change to the layout
// bumps Format; then add golden runs of the new format next to the old
// ones, made with
//
//	nadir train --model mlp:4 --epochs 2 --max-train 300 --batch 50 --ckpt-steps 0 --quiet --out testdata/runs/train-vN
//	nadir grow --method fast --model mlp:4 --rounds 1 --epochs 1 --max-train 300 --batch 50 --ckpt-steps 0 --quiet --out testdata/runs/grow-vN
//
// (and the lock file removed). A line or a config.json newer than the
// program is an error naming it, not a silent misreading.
package run
