package fpga

import (
	"fmt"
	"math"
)

// Layer is one convolution as the accelerator sees it: batch B, M output
// and N input channels, an R×C output map, a K×K kernel, stride S and
// padding P. A dense layer is the 1×1 convolution with R = C = 1.
type Layer struct {
	B, M, N, R, C, K, S, P int
}

// Validate reports a layer with a non-positive size.
func (l Layer) Validate() error {
	if l.B < 1 || l.M < 1 || l.N < 1 || l.R < 1 || l.C < 1 || l.K < 1 || l.S < 1 || l.P < 0 {
		return fmt.Errorf("fpga: layer %+v: sizes must be positive", l)
	}
	return nil
}

// MACs is the layer's multiply-accumulates.
func (l Layer) MACs() int64 {
	return int64(l.B) * int64(l.M) * int64(l.N) * int64(l.R) * int64(l.C) * int64(l.K*l.K)
}

// Tiling is one accelerator design: the loop tiles over output channels
// (Tm), input channels (Tn), output rows (Tr) and columns (Tc), the largest
// kernel the weight buffers hold (Tk), and the words moved per cycle on
// the weight, input and output ports (Wp, Ip, Op).
type Tiling struct {
	Tm, Tn, Tr, Tc, Tk int
	Wp, Ip, Op         int
}

func (t Tiling) String() string {
	return fmt.Sprintf("<Tm=%d Tn=%d Tr=%d Tc=%d Tk=%d | W=%d I=%d O=%d>", t.Tm, t.Tn, t.Tr, t.Tc, t.Tk, t.Wp, t.Ip, t.Op)
}

// Validate reports a tiling with a non-positive tile or port.
func (t Tiling) Validate() error {
	if t.Tm < 1 || t.Tn < 1 || t.Tr < 1 || t.Tc < 1 || t.Tk < 1 || t.Wp < 1 || t.Ip < 1 || t.Op < 1 {
		return fmt.Errorf("fpga: tiling %v: tiles and ports must be positive", t)
	}
	return nil
}

// Bottleneck names what bounds a layer's inner loop.
type Bottleneck string

const (
	StoreOutput Bottleneck = "storing OFM"
	LoadInput   Bottleneck = "loading IFM"
	LoadWeight  Bottleneck = "loading Weight"
	Compute     Bottleneck = "computing"
)

// Timing is the cycle count of one layer on one tiling and its parts.
type Timing struct {
	// Cycles for the whole layer (all B images). Port transfers may
	// take a fractional number of cycles per tile, so this is a float.
	Cycles float64
	// Per-tile times: weight, input, output transfers and compute.
	TW, TI, TO, TC float64
	Bottleneck     Bottleneck
}

func ceilDiv(a, b int) float64 { return math.Ceil(float64(a) / float64(b)) }

// Time is the tiling model of METHODS §5.3: the input and weight loads of
// one tile overlap its computation (double buffering), the N/Tn input
// tiles of one output tile run back to back while the previous output tile
// is stored, and the outer loops run over rows, columns and output-channel
// tiles:
//
//	t_W = Tm·Tn·K²/Wp;  t_I = min(Tn,N)·min(Tr,R)·min(Tc,C)/Ip
//	t_O = min(Tm,M)·⌈min(Tr,R)/S⌉·⌈min(Tc,C)/S⌉/Op
//	t_C = K²·⌈min(Tr,R+2P)/S⌉·⌈min(Tc,C+2P)/S⌉
//	cycles = B·⌈R/Tr⌉·⌈C/Tc⌉·⌈M/Tm⌉·max(⌈N/Tn⌉·max(t_I,t_W,t_C), t_O)
//
// The kernel must fit the template (K ≤ Tk); Time does not check
// resources (see Usage and Board.Check).
func Time(l Layer, t Tiling) (Timing, error) {
	if err := l.Validate(); err != nil {
		return Timing{}, err
	}
	if err := t.Validate(); err != nil {
		return Timing{}, err
	}
	if l.K > t.Tk {
		return Timing{}, fmt.Errorf("fpga: kernel %d larger than the template's %d", l.K, t.Tk)
	}
	var tm Timing
	k2 := l.K * l.K
	tr, tc := min(t.Tr, l.R), min(t.Tc, l.C)
	tm.TW = float64(t.Tm*t.Tn*k2) / float64(t.Wp)
	tm.TI = float64(min(t.Tn, l.N)*tr*tc) / float64(t.Ip)
	tm.TO = float64(min(t.Tm, l.M)) * ceilDiv(tr, l.S) * ceilDiv(tc, l.S) / float64(t.Op)
	tm.TC = float64(k2) * ceilDiv(min(t.Tr, l.R+2*l.P), l.S) * ceilDiv(min(t.Tc, l.C+2*l.P), l.S)
	l1 := max(tm.TI, tm.TW, tm.TC)
	l2 := max(ceilDiv(l.N, t.Tn)*l1, tm.TO)
	outer := float64(l.B) * ceilDiv(l.R, t.Tr) * ceilDiv(l.C, t.Tc) * ceilDiv(l.M, t.Tm)
	tm.Cycles = outer * l2
	switch {
	case l2 == tm.TO:
		tm.Bottleneck = StoreOutput
	case l1 == tm.TI:
		tm.Bottleneck = LoadInput
	case l1 == tm.TW:
		tm.Bottleneck = LoadWeight
	default:
		tm.Bottleneck = Compute
	}
	return tm, nil
}

// BRAMBits is the capacity the model assumes for one 18 Kb block RAM
// (the reference model's round 18000, not 18432).
const BRAMBits = 18000

// Usage is the resources one tiling occupies.
type Usage struct {
	DSP      int `json:"dsp"`
	BRAM18K  int `json:"bram18k"`
	PortBits int `json:"port_bits"`
}

// Usage of a tiling at the given data width (16: fixed point, one DSP per
// multiplier; 32: floating point, five DSPs per multiplier). Input and
// output tiles are double-buffered Tn and Tm banks of Tr·Tc words; the
// weights take one bank per (m, n) pair: four K² windows in 16-bit mode,
// two double-buffered banks in 32-bit mode.
func (t Tiling) Usage(bits int) (Usage, error) {
	if err := t.Validate(); err != nil {
		return Usage{}, err
	}
	ceil := func(b int) int { return int(math.Ceil(float64(b) / BRAMBits)) }
	u := Usage{PortBits: bits * (t.Wp + t.Ip + t.Op)}
	plane := ceil(t.Tr * t.Tc * bits)
	u.BRAM18K = 2*t.Tn*plane + 2*t.Tm*plane
	switch bits {
	case 16:
		u.DSP = t.Tm * t.Tn
		u.BRAM18K += t.Tm * t.Tn * ceil(4*t.Tk*t.Tk*bits)
	case 32:
		u.DSP = 5 * t.Tm * t.Tn
		u.BRAM18K += 2 * t.Tm * t.Tn * ceil(t.Tk*t.Tk*bits)
	default:
		return Usage{}, fmt.Errorf("fpga: data width %d: want 16 (fixed point) or 32 (float)", bits)
	}
	return u, nil
}
