package run

// The events of training (nadir train, and the training phases of every
// other producer). A new kind goes in a file of its own like this one: a
// struct with JSON tags, a Kind method, and Register in init.

func init() {
	Register[Epoch]()
	Register[Final]()
	Register[Init]()
}

// Epoch ("epoch") holds the metrics at the end of one training epoch.
// Validation fields are zero when the run holds out no validation split.
type Epoch struct {
	Epoch         int     `json:"epoch"` // 1-based, counted over the whole run
	TrainLoss     float64 `json:"train_loss"`
	TrainAccuracy float64 `json:"train_accuracy"`
	ValLoss       float64 `json:"val_loss"`
	ValAccuracy   float64 `json:"val_accuracy"`
	TestLoss      float64 `json:"test_loss"`
	TestAccuracy  float64 `json:"test_accuracy"`
	LR            float64 `json:"lr"`
	Seconds       float64 `json:"seconds"`                // wall time: the one field a resumed run may change
	EvalSeconds   float64 `json:"eval_seconds,omitempty"` // wall time of the epoch's evaluation, part of Seconds
	Params        int     `json:"params"`
	Stopped       bool    `json:"stopped"` // early stopping ended the phase here
}

func (Epoch) Kind() string { return "epoch" }

// Final ("summary") is the last event of a finished training run: the
// test metrics that summary.json also holds.
type Final struct {
	TestAccuracy float64 `json:"test_accuracy"`
	TestLoss     float64 `json:"test_loss"`
}

func (Final) Kind() string { return "summary" }

// Init ("init") records the file whose weights a run started from
// (`--init`), with its SHA-256, so the run can be traced to it.
type Init struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
}

func (Init) Kind() string { return "init" }
