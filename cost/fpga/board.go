package fpga

import (
	"fmt"
	"sort"
	"strings"
)

// Board is one FPGA of the pool: the resources an accelerator may use and
// the clock it runs at.
type Board struct {
	Name string `json:"name"` // catalogue key, e.g. "zcu102"
	Part string `json:"part"` // Xilinx device, e.g. "XCZU9EG"
	// DSP slices and 18 Kb block RAMs of the device (a 36 Kb block counts
	// as two), from the device family's product tables.
	DSP     int `json:"dsp"`
	BRAM18K int `json:"bram18k"`
	// PortBits is the width of the memory ports available to the
	// accelerator per cycle (the sum of its AXI high-performance ports).
	PortBits int `json:"port_bits"`
	// ClockMHz is the accelerator clock (the reference model uses 100).
	ClockMHz float64 `json:"clock_mhz"`
	// StaticW is the board's power with the accelerator idle (device
	// static power plus the processing system), in watts.
	StaticW float64 `json:"static_w"`
	// CheckBRAM also rejects designs that exceed the block RAMs. The
	// reference model checks only DSPs and ports; the catalogue boards
	// check both.
	CheckBRAM bool `json:"check_bram"`
}

// Power constants of the energy model (METHODS §5.3), in one place. They
// are plausible per-resource dynamic powers for 16-bit designs on 28 nm
// and 16 nm Xilinx parts at the boards' clocks, not measurements; the
// co-exploration compares designs under one fixed model, so only their
// ratios matter. The boards' static powers live in the catalogue.
const (
	// DynamicWPerDSP is the dynamic power of one busy DSP slice.
	DynamicWPerDSP = 0.0020
	// DynamicWPerBRAM is the dynamic power of one active 18 Kb block RAM.
	DynamicWPerBRAM = 0.0012
	// LinkGbps is the inter-FPGA link that carries feature maps between
	// pipeline stages (one 10 Gb/s serial lane); it adds to latency only.
	LinkGbps = 10.0
)

// Catalogue is the boards nadir knows, keyed by name. Resources are the
// devices' public data-sheet figures (Zynq-7000, Zynq UltraScale+ and
// Virtex UltraScale+ product tables); port widths are the boards' AXI HP
// ports to DDR (four 64-bit ports on Zynq-7000, four 128-bit on Zynq
// UltraScale+, a 1024-bit DDR4 datapath on the VU9P card); static powers
// are our estimates.
var Catalogue = map[string]Board{
	// ZedBoard / PYNQ-Z1: 220 DSP48E1, 140 BRAM36.
	"zedboard": {Name: "zedboard", Part: "XC7Z020", DSP: 220, BRAM18K: 280, PortBits: 256, ClockMHz: 100, StaticW: 1.5, CheckBRAM: true},
	// ZC706: 900 DSP48E1, 545 BRAM36.
	"zc706": {Name: "zc706", Part: "XC7Z045", DSP: 900, BRAM18K: 1090, PortBits: 256, ClockMHz: 100, StaticW: 3.0, CheckBRAM: true},
	// Ultra96: 360 DSP48E2, 216 BRAM36.
	"ultra96": {Name: "ultra96", Part: "XCZU3EG", DSP: 360, BRAM18K: 432, PortBits: 512, ClockMHz: 100, StaticW: 2.0, CheckBRAM: true},
	// ZCU102: 2520 DSP48E2, 912 BRAM36 (the reference model's board).
	"zcu102": {Name: "zcu102", Part: "XCZU9EG", DSP: 2520, BRAM18K: 1824, PortBits: 512, ClockMHz: 100, StaticW: 4.0, CheckBRAM: true},
	// VCU118: 6840 DSP48E2, 2160 BRAM36 (URAM not modelled).
	"vcu118": {Name: "vcu118", Part: "XCVU9P", DSP: 6840, BRAM18K: 4320, PortBits: 1024, ClockMHz: 100, StaticW: 8.0, CheckBRAM: true},
}

// BoardNames lists the catalogue's keys, sorted.
func BoardNames() []string {
	var out []string
	for n := range Catalogue {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// LookupBoard finds a board by catalogue name or part number
// (case-insensitive).
func LookupBoard(name string) (Board, error) {
	key := strings.ToLower(strings.TrimSpace(name))
	if b, ok := Catalogue[key]; ok {
		return b, nil
	}
	for _, b := range Catalogue {
		if strings.ToLower(b.Part) == key {
			return b, nil
		}
	}
	return Board{}, fmt.Errorf("unknown board %q (known: %s)", name, strings.Join(BoardNames(), ", "))
}

// ParsePool parses a comma-separated list of boards ("zedboard,zcu102");
// a board may appear more than once.
func ParsePool(s string) ([]Board, error) {
	var out []Board
	for _, f := range strings.Split(s, ",") {
		if strings.TrimSpace(f) == "" {
			continue
		}
		b, err := LookupBoard(f)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty board pool %q", s)
	}
	if len(out) > maxPool {
		return nil, fmt.Errorf("board pool %q: at most %d boards", s, maxPool)
	}
	return out, nil
}

// Check reports why a usage does not fit the board (nil when it fits).
func (b Board) Check(u Usage) error {
	switch {
	case u.DSP > b.DSP:
		return fmt.Errorf("%s: %d DSPs exceed %d", b.Name, u.DSP, b.DSP)
	case u.PortBits > b.PortBits:
		return fmt.Errorf("%s: %d port bits exceed %d", b.Name, u.PortBits, b.PortBits)
	case b.CheckBRAM && u.BRAM18K > b.BRAM18K:
		return fmt.Errorf("%s: %d BRAM18K exceed %d", b.Name, u.BRAM18K, b.BRAM18K)
	}
	return nil
}

// PowerW is the board's power running a design of usage u.
func (b Board) PowerW(u Usage) float64 {
	return b.StaticW + DynamicWPerDSP*float64(u.DSP) + DynamicWPerBRAM*float64(u.BRAM18K)
}
