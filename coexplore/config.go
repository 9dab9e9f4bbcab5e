package coexplore

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nadir-ml/nadir/cost/fpga"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
	"github.com/nadir-ml/nadir/train"
)

// The three searches of the comparison.
const (
	ModeCoexplore    = "coexplore"     // network and hardware together, fast exploration prunes
	ModeHWAware      = "hw-aware"      // network only, on one fixed hardware design, every child trained
	ModeAccuracyOnly = "accuracy-only" // network only for accuracy, hardware chosen for the winner
)

// AllModes is the order "all" runs them in.
var AllModes = []string{ModeCoexplore, ModeHWAware, ModeAccuracyOnly}

// Command is config.json's "command" of a search, by which nadir resume
// recognises it.
const Command = "coexplore"

// Config is a search's config.json: every setting, resolved.
type Config struct {
	// Command is set by Create (older runs lack it).
	Command   string   `json:"command,omitempty"`
	Modes     []string `json:"modes"`
	SpaceName string   `json:"space_name"`
	Space     Space    `json:"space"`
	Boards    []string `json:"boards"` // the pool, catalogue names
	Bits      int      `json:"bits"`
	// SpecThroughput is the hardware specification: the design must run
	// at least this many images per second. Zero asks for the value of
	// SpecQuantile over random architectures of the space, each on its
	// best design for the full pool, so that only part of the space
	// meets it.
	SpecThroughput float64 `json:"spec_throughput"`
	SpecQuantile   float64 `json:"spec_quantile"`

	Episodes  int     `json:"episodes"`
	Children  int     `json:"children_per_episode"`
	Seed      uint64  `json:"seed"`
	Alpha     float64 `json:"alpha"`      // reward weight of accuracy
	AccLow    float64 `json:"acc_low"`    // accuracy mapped to reward −1
	AccHigh   float64 `json:"acc_high"`   // accuracy mapped to reward +1
	HWRetries int     `json:"hw_retries"` // hardware re-samples per child in the fast exploration
	Hidden    int     `json:"hidden"`
	CtrlLR    float64 `json:"controller_lr"`
	Decay     int     `json:"controller_decay_steps"`
	EMA       float64 `json:"baseline_decay"`
	Workers   int     `json:"workers"`

	// Children's training.
	Data     string       `json:"data"`
	MaxTrain int          `json:"max_train"`
	ValFrac  float64      `json:"val_frac"`
	Epochs   int          `json:"epochs"`
	Act      string       `json:"act"`
	Train    train.Config `json:"train"`

	// Resolved from the data at the start.
	InShape []int `json:"in_shape,omitempty"`
	Classes int   `json:"classes,omitempty"`
}

// DefaultConfig is a small search that finishes in minutes on two cores.
func DefaultConfig() Config {
	return Config{
		Modes: []string{ModeCoexplore}, SpaceName: "default", Space: Spaces["default"],
		Boards: []string{"zedboard", "ultra96"}, Bits: 16, SpecQuantile: 0.7,
		Episodes: 50, Children: 1, Seed: 1, Alpha: 0.5, AccLow: 0.8, AccHigh: 1.0, HWRetries: 10,
		Hidden: 35, CtrlLR: 0.01, Decay: 50, EMA: 0.8, Workers: 1,
		Data: "mnist", MaxTrain: 6000, ValFrac: 1.0 / 3, Epochs: 1, Act: "relu",
		Train: train.Config{Batch: 32, LR: 0.02, Schedule: "cosine", Optimizer: "sgd"},
	}
}

// ParseModes parses "coexplore,hw-aware" or "all".
func ParseModes(s string) ([]string, error) {
	if strings.TrimSpace(s) == "all" {
		return append([]string(nil), AllModes...), nil
	}
	var out []string
	seen := map[string]bool{}
	for _, m := range strings.Split(s, ",") {
		m = strings.TrimSpace(m)
		if m == "" {
			continue
		}
		if m != ModeCoexplore && m != ModeHWAware && m != ModeAccuracyOnly {
			return nil, fmt.Errorf("--mode %q: want coexplore, hw-aware, accuracy-only or all", m)
		}
		if !seen[m] {
			out = append(out, m)
			seen[m] = true
		}
	}
	if len(out) == 0 {
		return nil, errors.New("--mode: no mode given")
	}
	return out, nil
}

// Validate reports bad settings in one line.
func (c *Config) Validate() error {
	if _, err := ParseModes(strings.Join(c.Modes, ",")); err != nil {
		return err
	}
	if err := c.Space.Validate(); err != nil {
		return err
	}
	if _, err := c.pool(); err != nil {
		return fmt.Errorf("--boards: %v", err)
	}
	switch {
	case c.Bits != 16 && c.Bits != 32:
		return fmt.Errorf("--bits %d: want 16 or 32", c.Bits)
	case c.SpecThroughput < 0 || c.SpecThroughput != c.SpecThroughput:
		return fmt.Errorf("--spec-throughput %v: must be >= 0 (0: from --spec-quantile)", c.SpecThroughput)
	case c.SpecThroughput == 0 && !(c.SpecQuantile >= 0 && c.SpecQuantile < 1):
		return fmt.Errorf("--spec-quantile %v: must be in [0,1)", c.SpecQuantile)
	case c.Episodes < 1:
		return fmt.Errorf("--episodes %d: must be >= 1", c.Episodes)
	case c.Children < 1:
		return fmt.Errorf("--children %d: must be >= 1", c.Children)
	case !(c.Alpha >= 0 && c.Alpha <= 1):
		return fmt.Errorf("--alpha %v: must be in [0,1]", c.Alpha)
	case !(c.AccHigh > c.AccLow):
		return fmt.Errorf("--acc-range %v,%v: high must exceed low", c.AccLow, c.AccHigh)
	case c.HWRetries < 0:
		return fmt.Errorf("--hw-retries %d: must be >= 0", c.HWRetries)
	case c.Hidden < 1:
		return fmt.Errorf("--hidden %d: must be >= 1", c.Hidden)
	case !(c.CtrlLR > 0):
		return fmt.Errorf("--controller-lr %v: must be positive", c.CtrlLR)
	case !(c.EMA >= 0 && c.EMA < 1):
		return fmt.Errorf("--baseline-decay %v: must be in [0,1)", c.EMA)
	case c.Workers < 1:
		return fmt.Errorf("--workers %d: must be >= 1", c.Workers)
	case c.MaxTrain < 0:
		return fmt.Errorf("--max-train %d: must be >= 0", c.MaxTrain)
	case !(c.ValFrac > 0 && c.ValFrac < 1):
		return fmt.Errorf("--val %v: must be in (0,1): children are scored on a held-out split", c.ValFrac)
	case c.Epochs < 1:
		return fmt.Errorf("--epochs %d: must be >= 1", c.Epochs)
	case c.Train.Batch < 1:
		return fmt.Errorf("--batch %d: must be positive", c.Train.Batch)
	case !(c.Train.LR > 0):
		return fmt.Errorf("--lr %v: must be positive", c.Train.LR)
	}
	if _, err := nn.ParseActivation(c.Act); err != nil {
		return fmt.Errorf("--act: %v", err)
	}
	if _, err := optim.New(c.Train.Optimizer, 0); err != nil {
		return fmt.Errorf("--optimizer: %v", err)
	}
	if _, err := optim.NewSchedule(c.Train.Schedule, 1); err != nil {
		return fmt.Errorf("--schedule: %v", err)
	}
	return nil
}

func (c *Config) pool() ([]fpga.Board, error) {
	return fpga.ParsePool(strings.Join(c.Boards, ","))
}
