package run

import "encoding/json"

// Format is the version of the run-directory layout written in
// config.json's "format". Version 0 (no field) is the layout before the
// field existed: its config, summary and log read as version 1, and its
// checkpoints (NADIRCK1) are read too.
const Format = 1

// Config is config.json: every flag of the run, resolved. A later command
// (resume, report, eval) reads only the run directory, so everything needed
// to rebuild the run is here.
type Config struct {
	Format   int     `json:"format,omitempty"`
	Command  string  `json:"command"` // "train" or "grow"
	Data     string  `json:"data"`
	Label    string  `json:"label,omitempty"`
	MaxTrain int     `json:"max_train"`
	ValFrac  float64 `json:"val_frac"`
	Model    string  `json:"model"`
	Act      string  `json:"act"`
	Epochs   int     `json:"epochs"`
	Threads  int     `json:"threads"`
	// MaxMemory caps the memory training may need, in bytes (0: what the
	// system has available).
	MaxMemory int64       `json:"max_memory,omitempty"`
	Train     TrainConfig `json:"train"`
	// Grow holds the growth engine's own resolved configuration, owned by
	// package grow (a producer with a section of its own adds a raw field
	// like this one, so that readers need not import it).
	Grow json.RawMessage `json:"grow,omitempty"`
}

// TrainConfig is what a training phase needs beyond the network.
type TrainConfig struct {
	Batch       int     `json:"batch"`
	LR          float64 `json:"lr"`
	Schedule    string  `json:"schedule"`
	Optimizer   string  `json:"optimizer"`
	WeightDecay float64 `json:"weight_decay"`
	Seed        uint64  `json:"seed"`
	Augment     int     `json:"augment"`    // max random shift in pixels (0: none)
	CkptSteps   int     `json:"ckpt_steps"` // checkpoint every N steps inside an epoch (0: epoch ends only)
	Patience    int     `json:"patience"`   // early stopping on validation loss (0: off)
	EvalBatch   int     `json:"eval_batch"`
}

// Summary is summary.json of a finished train or grow run; the fields of
// the other command are empty.
type Summary struct {
	Command      string  `json:"command"`          // "train" or "grow"
	Method       string  `json:"method,omitempty"` // grow runs: the growth method
	TestAccuracy float64 `json:"test_accuracy"`
	TestLoss     float64 `json:"test_loss"`
	Params       int     `json:"params"`
	MACs         int64   `json:"macs"`
	Seconds      float64 `json:"seconds"`
	// Widths are the final widths of the growable layers (grow runs).
	Widths []int `json:"widths,omitempty"`
	// Rounds is the growth table, round 0 being the seed network (grow runs).
	Rounds []Round `json:"rounds,omitempty"`
	// Epochs are the run's epoch events (train runs).
	Epochs []Epoch `json:"epochs,omitempty"`
	// Confusion is the test confusion matrix, [true][predicted] (train runs).
	Confusion [][]int `json:"confusion,omitempty"`
}
