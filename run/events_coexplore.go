package run

import "fmt"

// The events and the summary of hardware/software co-exploration (nadir
// coexplore).

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

// CoexploreSummary is summary.json of a co-exploration run (Command
// "coexplore"): the specification and, per mode searched, its counts and
// best design.
type CoexploreSummary struct {
	Command        string  `json:"command"`
	SpecThroughput float64 `json:"spec_throughput"` // images/s the design must reach
	// SpecFraction is the share of random networks of the space that meet
	// the specification on their best design for the board pool;
	// SpecFractionFixed the share on the hardware-aware baseline's fixed
	// accelerators.
	SpecFraction      float64                  `json:"space_fraction_meeting_spec"`
	SpecFractionFixed float64                  `json:"space_fraction_meeting_spec_fixed_hw"`
	Boards            []string                 `json:"boards"`
	Modes             map[string]CoexploreMode `json:"modes"`
}

// CoexploreMode is one mode's result ("coexplore", "hw-aware",
// "accuracy-only").
type CoexploreMode struct {
	ChildrenSampled int     `json:"children_sampled"`
	ChildrenTrained int     `json:"children_trained"`
	Rejected        int     `json:"rejected"`
	CacheHits       int     `json:"cache_hits"`
	BestAccuracy    float64 `json:"best_accuracy"`
	BestThroughput  float64 `json:"best_throughput"`
	BestEnergyEff   float64 `json:"best_energy_efficiency"`
	BestLatencyMS   float64 `json:"best_latency_ms"`
	BestPowerW      float64 `json:"best_power_w"`
	SpecMet         bool    `json:"spec_met"`
	// Best is the mode's best design (nil: no child was scored).
	Best        *CoexploreDesign `json:"best,omitempty"`
	Seconds     float64          `json:"seconds"`
	FinalReward float64          `json:"final_reward"` // mean reward of the last tenth of the episodes
	// Matched is, when hardware-aware NAS ran too, this mode's fastest
	// child that meets the specification within 0.5 points of
	// hardware-aware NAS's best accuracy (nil: none).
	Matched *CoexploreDesign `json:"matched_to_hw_aware,omitempty"`
}

// CoexploreDesign is a scored child on its hardware: the network, its
// validation accuracy and the figures of its multi-FPGA pipeline.
type CoexploreDesign struct {
	Episode    int     `json:"episode"`
	Arch       CNNArch `json:"arch"`
	Accuracy   float64 `json:"accuracy"`
	Throughput float64 `json:"throughput"`        // images/s
	EnergyEff  float64 `json:"energy_efficiency"` // GOPS/W
	LatencyMS  float64 `json:"latency_ms"`
	PowerW     float64 `json:"power_w"`
	SpecMet    bool    `json:"spec_met"`
	// Stages are the pipeline's stages in layer order.
	Stages []FPGAStage `json:"stages,omitempty"`
}

// CNNArch is a searched network: its chain of conv layers.
type CNNArch struct {
	Layers []ConvLayer `json:"layers"`
}

// ConvLayer is one conv layer of a CNNArch.
type ConvLayer struct {
	Kernel  int `json:"k"`
	Filters int `json:"f"`
	Stride  int `json:"s"`
}

// String writes the layers as [[kernel,filters,stride],...].
func (a CNNArch) String() string {
	b := []byte{'['}
	for i, l := range a.Layers {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "[%d,%d,%d]", l.Kernel, l.Filters, l.Stride)
	}
	return string(append(b, ']'))
}

// FPGAStage is one stage of a pipeline: layers First..Last-1 on one board
// with one accelerator tiling.
type FPGAStage struct {
	Board  FPGABoard  `json:"board"`
	First  int        `json:"first"`
	Last   int        `json:"last"`
	Tiling FPGATiling `json:"tiling"`
	Usage  FPGAUsage  `json:"usage"`
	Cycles float64    `json:"cycles"` // per image
	PowerW float64    `json:"power_w"`
}

// FPGABoard is a board of the pool as the run used it.
type FPGABoard struct {
	Name      string  `json:"name"`
	Part      string  `json:"part"`
	DSP       int     `json:"dsp"`
	BRAM18K   int     `json:"bram18k"`
	PortBits  int     `json:"port_bits"`
	ClockMHz  float64 `json:"clock_mhz"`
	StaticW   float64 `json:"static_w"`
	CheckBRAM bool    `json:"check_bram"`
}

// FPGATiling is an accelerator's loop tiling ⟨Tm,Tn,Tr,Tc,Tk⟩ and its
// memory port widths in words (weights, inputs, outputs); the JSON keys
// are the field names.
type FPGATiling struct {
	Tm, Tn, Tr, Tc, Tk int
	Wp, Ip, Op         int
}

// FPGAUsage is the resources an accelerator uses.
type FPGAUsage struct {
	DSP      int `json:"dsp"`
	BRAM18K  int `json:"bram18k"`
	PortBits int `json:"port_bits"`
}

func (t FPGATiling) String() string {
	return fmt.Sprintf("<Tm=%d Tn=%d Tr=%d Tc=%d Tk=%d | W=%d I=%d O=%d>", t.Tm, t.Tn, t.Tr, t.Tc, t.Tk, t.Wp, t.Ip, t.Op)
}
