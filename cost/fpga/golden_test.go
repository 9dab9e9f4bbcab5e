package fpga

import (
	"encoding/json"
	"os"
	"strconv"
	"testing"
)

// The golden file holds 120 random (layer, tiling, board) cases run through
// hotNAS's PM_FPGA_Template.py (the Python reference model) by a small
// driver script; the cycles are Python's repr of its float result.
type goldenCase struct {
	Layer  struct{ B, M, N, R, C, K, S, P int } `json:"layer"`
	Tiling struct {
		Tm, Tn, Tr, Tc, Tk int
		Wp, Ip, Op         int
	} `json:"tiling"`
	Bits  int `json:"bits"`
	Board struct {
		DSP      int `json:"dsp"`
		PortBits int `json:"port_bits"`
		BRAM18K  int `json:"bram18k"`
	} `json:"board"`
	Feasible   bool   `json:"feasible"`
	Cycles     string `json:"cycles"`
	Bottleneck string `json:"bottleneck"`
	DSP        int    `json:"dsp"`
	BRAM       int    `json:"bram"`
	PortBits   int    `json:"port_bits"`
}

func TestMatchesHotNAS(t *testing.T) {
	b, err := os.ReadFile("testdata/hotnas_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) < 50 {
		t.Fatalf("only %d golden cases", len(g.Cases))
	}
	feasible := 0
	for i, c := range g.Cases {
		l := Layer(c.Layer)
		tl := Tiling(c.Tiling)
		tm, err := Time(l, tl)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		want, err := strconv.ParseFloat(c.Cycles, 64)
		if err != nil {
			t.Fatal(err)
		}
		if tm.Cycles != want {
			t.Errorf("case %d %+v %v: cycles %v, hotNAS %v", i, l, tl, tm.Cycles, want)
		}
		if string(tm.Bottleneck) != c.Bottleneck {
			t.Errorf("case %d: bottleneck %q, hotNAS %q", i, tm.Bottleneck, c.Bottleneck)
		}
		u, err := tl.Usage(c.Bits)
		if err != nil {
			t.Fatal(err)
		}
		// The reference checks DSPs and ports only.
		board := Board{Name: "golden", DSP: c.Board.DSP, PortBits: c.Board.PortBits, BRAM18K: c.Board.BRAM18K}
		if ok := board.Check(u) == nil; ok != c.Feasible {
			t.Errorf("case %d: feasible %v, hotNAS %v (usage %+v, board %+v)", i, ok, c.Feasible, u, c.Board)
		}
		if !c.Feasible {
			continue // hotNAS reports no usage for rejected designs
		}
		feasible++
		if u.DSP != c.DSP || u.BRAM18K != c.BRAM || u.PortBits != c.PortBits {
			t.Errorf("case %d: usage %+v, hotNAS dsp %d bram %d port %d", i, u, c.DSP, c.BRAM, c.PortBits)
		}
	}
	if feasible < 50 {
		t.Errorf("only %d feasible golden cases compare resources", feasible)
	}
}
