package run

// The events of hardware/software co-exploration (nadir coexplore).

func init() {
	Register[Episode]()
}

// Episode ("episode") is one child of one controller episode: the sampled
// architecture, whether the fast exploration rejected it before training,
// and, for trained children, validation accuracy and the hardware figures
// of its best design.
type Episode struct {
	Mode     string  `json:"mode"`
	Episode  int     `json:"episode"`
	Child    int     `json:"child"`
	Arch     string  `json:"arch"`
	ArchHash string  `json:"arch_hash"`
	Reward   float64 `json:"reward"`
	Baseline float64 `json:"baseline"`
	Trained  bool    `json:"trained"`
	Cached   bool    `json:"cached"`
	Rejected bool    `json:"rejected"`
	HWTries  int     `json:"hw_tries"`
	// DSPPercent is the share of each board's DSPs the controller chose
	// (co-exploration only).
	DSPPercent []int `json:"dsp_percent,omitempty"`

	ValAccuracy      *float64 `json:"val_accuracy,omitempty"`
	Throughput       *float64 `json:"throughput,omitempty"`
	EnergyEfficiency *float64 `json:"energy_efficiency,omitempty"`
	SpecMet          *bool    `json:"spec_met,omitempty"`
	Error            string   `json:"error,omitempty"`
}

func (Episode) Kind() string { return "episode" }
