package run

// The events of growth (nadir grow and its baselines).

func init() {
	Register[Round]()
	Register[Prune]()
	Register[Eigen]()
	Register[Split]()
	Register[GrowStep]()
}

// Round ("round") is one row of the growth table, logged when the round's
// training ends; round 0 is the seed network. summary.json's "rounds" is
// the list of them.
type Round struct {
	Round        int     `json:"round"`
	Widths       []int   `json:"widths"` // units of each growable layer
	Params       int     `json:"params"`
	MACs         int64   `json:"macs"`
	Cost         float64 `json:"cost"` // under the run's selection cost model
	TrainLoss    float64 `json:"train_loss"`
	TestLoss     float64 `json:"test_loss"`
	TestAccuracy float64 `json:"test_accuracy"`
	// Splits counts the splits applied in the round's growth step (splits
	// the budget rejected are not counted); Added the units they added.
	Splits       int     `json:"splits"`
	Added        int     `json:"added"`
	GrowSeconds  float64 `json:"grow_seconds"`
	TrainSeconds float64 `json:"train_seconds"`
	// EpochSeconds is the mean training epoch time of the round, so the
	// growth step's cost can be read as a fraction of an epoch.
	EpochSeconds float64 `json:"epoch_seconds"`
}

func (Round) Kind() string { return "round" }

// Prune ("prune") is the pruning baseline's growth step: every growable
// layer cut to Widths.
type Prune struct {
	Round  int   `json:"round"`
	Widths []int `json:"widths"`
}

func (Prune) Kind() string { return "prune" }

// Eigen ("eigen") holds the extreme eigenvalues of one neuron's splitting
// matrix in one round. Layer is the layer's index in the network.
type Eigen struct {
	Round     int     `json:"round"`
	Layer     int     `json:"layer"`
	Neuron    int     `json:"neuron"`
	LambdaMin float64 `json:"lambda_min"`
	LambdaMax float64 `json:"lambda_max"`
}

func (Eigen) Kind() string { return "eigen" }

// Split ("split") is one neuron split (or one new neuron, for the
// baselines) with the loss change it was predicted to make and the one
// measured on the statistics batches.
type Split struct {
	Round     int     `json:"round"`
	Layer     int     `json:"layer"`
	Neuron    int     `json:"neuron"`
	Scheme    string  `json:"scheme"`
	LambdaMin float64 `json:"lambda_min"`
	LambdaMax float64 `json:"lambda_max"`
	Eps       float64 `json:"eps"`
	Added     int     `json:"added"`
	CostDelta float64 `json:"cost_delta"`
	Measured  float64 `json:"measured"`
	// Predicted is nil for baselines, which make no prediction.
	Predicted *float64 `json:"predicted,omitempty"`
	// Joint marks edits that act together (Firefly's candidates were
	// trained jointly): Measured is not per edit and is zero; the round's
	// last edit carries MeasuredAll, the loss change of all of them.
	Joint       bool     `json:"joint,omitempty"`
	MeasuredAll *float64 `json:"measured_all,omitempty"`
}

func (Split) Kind() string { return "split" }

// GrowStep ("grow") is one round's growth step as a whole: Candidates
// proposed, Selected by the selection rule, Splits applied (the selected
// ones the budget's exact check let through, as in Round.Splits).
type GrowStep struct {
	Round        int     `json:"round"`
	Candidates   int     `json:"candidates"`
	Selected     int     `json:"selected"`
	Splits       int     `json:"splits"`
	Added        int     `json:"added"`
	StatsSeconds float64 `json:"stats_seconds"`
	Seconds      float64 `json:"seconds"`
}

func (GrowStep) Kind() string { return "grow" }
