package fpga

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// maxPool bounds the board pool: the partition search keeps one state per
// subset of boards.
const maxPool = 8

// Stage is one pipeline stage: layers [First, Last) on one board with one
// accelerator design.
type Stage struct {
	Board  Board   `json:"board"`
	First  int     `json:"first"`
	Last   int     `json:"last"`
	Tiling Tiling  `json:"tiling"`
	Usage  Usage   `json:"usage"`
	Cycles float64 `json:"cycles"` // per image: the sum over the stage's layers
	PowerW float64 `json:"power_w"`
}

// Seconds is the stage's time per image.
func (s Stage) Seconds() float64 { return s.Cycles / (s.Board.ClockMHz * 1e6) }

// Design is a network mapped onto a multi-FPGA pipeline.
type Design struct {
	Stages []Stage `json:"stages"`
	// Throughput in images per second: the slowest stage's rate.
	Throughput float64 `json:"throughput"`
	// Latency of one image through every stage, including the transfers
	// of feature maps between boards, in seconds.
	Latency float64 `json:"latency"`
	// PowerW sums the used boards' power; unused boards are off.
	PowerW float64 `json:"power_w"`
	// OpsPerImage counts a multiply-accumulate as two operations.
	OpsPerImage float64 `json:"ops_per_image"`
	// EnergyEff is GOPS per watt: OpsPerImage·Throughput/PowerW/1e9.
	EnergyEff float64 `json:"energy_efficiency"`
	// PipelineEff is Σ stage time / (stages · slowest stage time).
	PipelineEff float64 `json:"pipeline_efficiency"`
}

// ErrInfeasible is returned when no design fits the boards.
var ErrInfeasible = errors.New("fpga: no feasible design on these boards")

// segment evaluates layers [i, j) on one board: the cycles per image, the
// design and whether one fits.
type segmentFunc func(i, j, b int) (Tiling, Usage, float64, bool)

// Explore finds the design of highest throughput for the layer chain on a
// subset of the pool (ties: least power): every contiguous partition into
// at most len(pool) stages, every assignment of distinct boards to stages,
// and per stage the best tiling of BestTiling. It is exact: the answer's
// throughput is the largest rate τ for which some partition has every
// stage at least as fast as τ; τ is found by bisection over the finitely
// many stage rates, and for a given τ a dynamic programme over (layers
// covered, boards used) finds the least-power partition.
func Explore(layers []Layer, pool []Board, bits int) (Design, error) {
	if err := checkInputs(layers, pool, bits); err != nil {
		return Design{}, err
	}
	type key struct{ i, j, b int }
	type seg struct {
		t  Tiling
		u  Usage
		cy float64
		ok bool
	}
	memo := map[key]seg{}
	// Identical boards share their searches.
	canon := make([]int, len(pool))
	for b := range pool {
		canon[b] = b
		for a := 0; a < b; a++ {
			if pool[a] == pool[b] {
				canon[b] = canon[a]
				break
			}
		}
	}
	f := func(i, j, b int) (Tiling, Usage, float64, bool) {
		k := key{i, j, canon[b]}
		s, ok := memo[k]
		if !ok {
			t, u, cy, err := BestTiling(layers[i:j], pool[b], bits)
			s = seg{t, u, cy, err == nil}
			memo[k] = s
		}
		return s.t, s.u, s.cy, s.ok
	}
	return partition(layers, pool, bits, f)
}

// EvaluateFixed maps the chain onto the pool when every board's
// accelerator is fixed (tilings[b] on pool[b]): only the partition is
// searched, exactly as in Explore. A board whose template kernel is
// smaller than a layer's cannot run it.
func EvaluateFixed(layers []Layer, pool []Board, tilings []Tiling, bits int) (Design, error) {
	if err := checkInputs(layers, pool, bits); err != nil {
		return Design{}, err
	}
	if len(tilings) != len(pool) {
		return Design{}, fmt.Errorf("fpga: %d tilings for %d boards", len(tilings), len(pool))
	}
	f := func(i, j, b int) (Tiling, Usage, float64, bool) {
		t := tilings[b]
		u, err := t.Usage(bits)
		if err != nil || pool[b].Check(u) != nil {
			return t, u, 0, false
		}
		var cy float64
		for _, l := range layers[i:j] {
			tm, err := Time(l, t)
			if err != nil {
				return t, u, 0, false
			}
			cy += tm.Cycles
		}
		return t, u, cy, true
	}
	return partition(layers, pool, bits, f)
}

func checkInputs(layers []Layer, pool []Board, bits int) error {
	if len(layers) == 0 {
		return errors.New("fpga: no layers")
	}
	if len(pool) == 0 || len(pool) > maxPool {
		return fmt.Errorf("fpga: pool of %d boards (want 1..%d)", len(pool), maxPool)
	}
	for _, l := range layers {
		if err := l.Validate(); err != nil {
			return err
		}
	}
	if bits != 16 && bits != 32 {
		return fmt.Errorf("fpga: data width %d: want 16 or 32", bits)
	}
	return nil
}

func partition(layers []Layer, pool []Board, bits int, f segmentFunc) (Design, error) {
	L, P := len(layers), len(pool)
	type opt struct {
		t     Tiling
		u     Usage
		cy    float64
		rate  float64
		power float64
		ok    bool
	}
	opts := make([][][]opt, L)
	var rates []float64
	for i := 0; i < L; i++ {
		opts[i] = make([][]opt, L+1)
		for j := i + 1; j <= L; j++ {
			opts[i][j] = make([]opt, P)
			for b := 0; b < P; b++ {
				t, u, cy, ok := f(i, j, b)
				if !ok || cy <= 0 {
					continue
				}
				r := pool[b].ClockMHz * 1e6 / cy
				opts[i][j][b] = opt{t, u, cy, r, pool[b].PowerW(u), true}
				rates = append(rates, r)
			}
		}
	}
	if len(rates) == 0 {
		return Design{}, ErrInfeasible
	}
	sort.Float64s(rates)
	nm := 1 << P
	inf := math.Inf(1)
	dp := make([]float64, (L+1)*nm)
	type back struct{ i, b int }
	from := make([]back, (L+1)*nm)
	// solve fills dp for threshold tau; it returns the best end state.
	solve := func(tau float64) int {
		for k := range dp {
			dp[k] = inf
		}
		dp[0] = 0
		for j := 1; j <= L; j++ {
			for i := 0; i < j; i++ {
				for m := 0; m < nm; m++ {
					base := dp[i*nm+m]
					if math.IsInf(base, 1) {
						continue
					}
					for b := 0; b < P; b++ {
						if m&(1<<b) != 0 {
							continue
						}
						o := opts[i][j][b]
						if !o.ok || o.rate < tau {
							continue
						}
						mm := m | 1<<b
						if v := base + o.power; v < dp[j*nm+mm] {
							dp[j*nm+mm] = v
							from[j*nm+mm] = back{i, b}
						}
					}
				}
			}
		}
		best := -1
		for m := 1; m < nm; m++ {
			if !math.IsInf(dp[L*nm+m], 1) && (best < 0 || dp[L*nm+m] < dp[L*nm+best]) {
				best = m
			}
		}
		return best
	}
	// Feasibility is monotone in tau: bisect for the largest feasible rate.
	lo, hi := -1, len(rates)-1 // rates[lo] feasible (lo = -1: none yet)
	if solve(rates[0]) < 0 {
		return Design{}, ErrInfeasible
	}
	lo = 0
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if solve(rates[mid]) >= 0 {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	m := solve(rates[lo])
	var stages []Stage
	for j := L; j > 0; {
		bk := from[j*nm+m]
		o := opts[bk.i][j][bk.b]
		stages = append(stages, Stage{Board: pool[bk.b], First: bk.i, Last: j, Tiling: o.t, Usage: o.u, Cycles: o.cy, PowerW: o.power})
		m &^= 1 << bk.b
		j = bk.i
	}
	for a, b := 0, len(stages)-1; a < b; a, b = a+1, b-1 {
		stages[a], stages[b] = stages[b], stages[a]
	}
	return summarise(layers, stages, bits), nil
}

// Summarise computes a pipeline's figures from its stages; the stages must
// cover the layers contiguously from the first.
func Summarise(layers []Layer, stages []Stage, bits int) (Design, error) {
	at := 0
	for _, s := range stages {
		if s.First != at || s.Last <= s.First || s.Last > len(layers) {
			return Design{}, fmt.Errorf("fpga: stages do not cover layers [0,%d) contiguously", len(layers))
		}
		at = s.Last
	}
	if at != len(layers) {
		return Design{}, fmt.Errorf("fpga: stages cover %d of %d layers", at, len(layers))
	}
	return summarise(layers, stages, bits), nil
}

func summarise(layers []Layer, stages []Stage, bits int) Design {
	d := Design{Stages: stages}
	var slowest, total float64
	for k, s := range stages {
		sec := s.Seconds()
		total += sec
		slowest = max(slowest, sec)
		d.PowerW += s.PowerW
		if k > 0 {
			// The previous stage's output map crosses the link.
			l := layers[s.First-1]
			words := float64(l.B * l.M * l.R * l.C)
			d.Latency += words * float64(bits) / (LinkGbps * 1e9)
		}
	}
	d.Latency += total
	for _, l := range layers {
		d.OpsPerImage += 2 * float64(l.MACs()) / float64(l.B)
	}
	if slowest > 0 {
		d.Throughput = 1 / slowest
		d.PipelineEff = total / (float64(len(stages)) * slowest)
	}
	if d.PowerW > 0 {
		d.EnergyEff = d.OpsPerImage * d.Throughput / d.PowerW / 1e9
	}
	return d
}

// BestTiling finds the tiling that runs layers (one pipeline stage, one
// accelerator reused layer after layer) in the fewest cycles on board b,
// among designs that fit it; ties go to fewer DSPs, then fewer BRAMs.
//
// The search is exhaustive over this space: row and column tiles are
// equal (feature maps are square), port widths are powers of two, the
// template kernel is the stage's largest. Within it nothing is lost by
// enumerating only: channel tiles Tm at the smallest value that gives
// each layer its number of tiles (⌈M/k⌉ for some k; a smaller tile with
// the same counts is never slower and uses fewer resources), likewise Tn
// and the row tile, and port widths that are maximal (doubling any port
// would not fit; wider ports never cost cycles). A lower bound from the
// compute time prunes tilings before their ports are tried.
func BestTiling(layers []Layer, b Board, bits int) (Tiling, Usage, float64, error) {
	if len(layers) == 0 {
		return Tiling{}, Usage{}, 0, errors.New("fpga: no layers")
	}
	var ms, ns, rs []int
	tk := 1
	for _, l := range layers {
		if err := l.Validate(); err != nil {
			return Tiling{}, Usage{}, 0, err
		}
		ms = append(ms, l.M)
		ns = append(ns, l.N)
		rs = append(rs, max(l.R, l.C))
		tk = max(tk, l.K)
	}
	dspPer := 1
	if bits == 32 {
		dspPer = 5
	}
	tms, tns, trs := tileCandidates(ms), tileCandidates(ns), tileCandidates(rs)
	// Large tiles first: they find fast designs early, and the compute
	// bound then prunes most of the rest.
	slices.Reverse(tms)
	slices.Reverse(tns)
	slices.Reverse(trs)
	ports := portCandidates(b.PortBits, bits)
	if len(ports) == 0 {
		return Tiling{}, Usage{}, 0, ErrInfeasible
	}
	var (
		best   Tiling
		bestU  Usage
		bestCy = math.Inf(1)
		found  bool
	)
	for _, tm := range tms {
		for _, tn := range tns {
			if tm*tn*dspPer > b.DSP {
				continue
			}
			for _, tr := range trs {
				t := Tiling{Tm: tm, Tn: tn, Tr: tr, Tc: tr, Tk: tk, Wp: 1, Ip: 1, Op: 1}
				var lb float64
				for _, l := range layers {
					lb += computeBound(l, t)
				}
				if lb > bestCy {
					continue
				}
				u0, err := t.Usage(bits)
				if err != nil {
					return Tiling{}, Usage{}, 0, err
				}
				if b.CheckBRAM && u0.BRAM18K > b.BRAM18K {
					continue
				}
				for _, p := range ports {
					t.Wp, t.Ip, t.Op = p[0], p[1], p[2]
					u := u0
					u.PortBits = bits * (p[0] + p[1] + p[2])
					if b.Check(u) != nil {
						continue
					}
					var cy float64
					for _, l := range layers {
						tm, _ := Time(l, t)
						cy += tm.Cycles
						if cy > bestCy {
							break
						}
					}
					if cy < bestCy || (cy == bestCy && (u.DSP < bestU.DSP || (u.DSP == bestU.DSP && u.BRAM18K < bestU.BRAM18K))) {
						best, bestU, bestCy, found = t, u, cy, true
					}
				}
			}
		}
	}
	if !found {
		return Tiling{}, Usage{}, 0, ErrInfeasible
	}
	return best, bestU, bestCy, nil
}

// computeBound is the layer's cycles with infinitely wide ports.
func computeBound(l Layer, t Tiling) float64 {
	tc := float64(l.K*l.K) * ceilDiv(min(t.Tr, l.R+2*l.P), l.S) * ceilDiv(min(t.Tc, l.C+2*l.P), l.S)
	return float64(l.B) * ceilDiv(l.R, t.Tr) * ceilDiv(l.C, t.Tc) * ceilDiv(l.M, t.Tm) * ceilDiv(l.N, t.Tn) * tc
}

// tileCandidates is the union over v of {⌈v/k⌉ : k = 1..v}, ascending.
func tileCandidates(vs []int) []int {
	set := map[int]bool{}
	for _, v := range vs {
		for k := 1; k <= v; k++ {
			set[(v+k-1)/k] = true
		}
	}
	out := make([]int, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Ints(out)
	return out
}

// portCandidates lists the maximal (Wp, Ip, Op) powers of two with
// bits·(Wp+Ip+Op) ≤ portBits: doubling any one would not fit.
func portCandidates(portBits, bits int) [][3]int {
	words := portBits / bits
	var out [][3]int
	for w := 1; w <= words; w *= 2 {
		for i := 1; w+i <= words; i *= 2 {
			for o := 1; w+i+o <= words; o *= 2 {
				if w*2+i+o > words && w+i*2+o > words && w+i+o*2 > words {
					out = append(out, [3]int{w, i, o})
				}
			}
		}
	}
	return out
}
