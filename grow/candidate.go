package grow

import (
	"context"
	"math/rand/v2"

	"github.com/nadir-ml/nadir/cost"
	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/train"
)

// Candidate is one function-preserving edit of the network: it leaves the
// function unchanged at ε = 0, and its Score predicts the loss change as
// (ε²/2)·Score (negative is useful).
type Candidate struct {
	Layer, Unit int
	Kind        string // "s2d", "signed-max", "signed-min", "random-split", "new-neuron"
	Score       float64
	// Unscored candidates (baselines) carry no prediction; Score only
	// orders them (a random priority).
	Unscored             bool
	Added                int     // units the edit adds to Layer
	Cost                 float64 // cost-model units of those units
	LambdaMin, LambdaMax float64
	// Apply performs the edit with step eps.
	Apply func(net *nn.Net, eps float64) error
	// Predict, when set, is the method's own predicted loss change of the
	// edit at step eps (logged instead of (ε²/2)·Score); a method that sets
	// Cost > 0 prices the edit itself (e.g. a whole inserted layer).
	Predict func(eps float64) float64
}

// Env is what a method sees when it proposes candidates.
type Env struct {
	Net *nn.Net
	// Stats is the training data in the round's statistics order; the
	// statistics use Steps of it.
	Stats *data.Batcher
	Steps []int
	// Heldout, when set (Config.RankHeldout), are further steps of Stats,
	// disjoint from Steps, for methods that score on held-out statistics.
	Heldout []int
	Cost    cost.Model
	Seed    uint64
	Round   int
	Rand    *rand.Rand
	// Layers are the growable layers (those with a consumer).
	Layers []int
	// Train is the full training set and Batch the training batch size,
	// for methods that train their candidates (firefly); Hooks receive
	// their progress.
	Train *data.Dataset
	Batch int
	Hooks []train.Hook
}

// Method proposes scored candidate edits; the engine owns the loop, the
// selection under the budget, the surgery log and the checkpoints.
type Method interface {
	Name() string
	// DefaultSelect is "ratio" (the S2D fraction rule) or "knapsack"
	// (budgeted LP selection).
	DefaultSelect() string
	Propose(ctx context.Context, env *Env) ([]Candidate, error)
}

// Evidence is what a method reports about its statistics step, for the
// log and the report (per-neuron eigenvalues, seconds).
type Evidence interface {
	// LastStats returns per-neuron records of the last Propose.
	LastStats() []NeuronStat
}

// NeuronStat is one neuron's splitting spectrum.
type NeuronStat struct {
	Layer     int     `json:"layer"`
	Neuron    int     `json:"neuron"`
	LambdaMin float64 `json:"lambda_min"`
	LambdaMax float64 `json:"lambda_max"`
}
