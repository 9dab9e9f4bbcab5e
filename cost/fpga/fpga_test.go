package fpga

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func approx(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

// Two layers and one tiling computed by hand from the formulas.
var (
	handA = Layer{B: 1, M: 4, N: 2, R: 4, C: 4, K: 3, S: 1, P: 1}
	handB = Layer{B: 1, M: 2, N: 4, R: 2, C: 2, K: 1, S: 1, P: 0}
	handT = Tiling{Tm: 2, Tn: 2, Tr: 4, Tc: 4, Tk: 3, Wp: 1, Ip: 1, Op: 1}
)

func TestTimeByHand(t *testing.T) {
	// A: tW = 2·2·9 = 36, tI = 2·4·4 = 32, tO = 2·4·4 = 32,
	// tC = 9·4·4 = 144; L2 = max(1·144, 32); cycles = ⌈4/2⌉·144 = 288.
	a, err := Time(handA, handT)
	if err != nil {
		t.Fatal(err)
	}
	if a.TW != 36 || a.TI != 32 || a.TO != 32 || a.TC != 144 || a.Cycles != 288 || a.Bottleneck != Compute {
		t.Errorf("layer A: %+v", a)
	}
	// B: tW = 4, tI = 8, tO = 8, tC = 4; L2 = max(2·8, 8) = 16.
	b, _ := Time(handB, handT)
	if b.Cycles != 16 || b.Bottleneck != LoadInput {
		t.Errorf("layer B: %+v", b)
	}
	// Stride 2 halves the computed and stored positions (rounding up).
	s2 := Layer{B: 2, M: 4, N: 2, R: 5, C: 5, K: 3, S: 2, P: 1}
	c, _ := Time(s2, Tiling{Tm: 4, Tn: 2, Tr: 5, Tc: 5, Tk: 3, Wp: 8, Ip: 8, Op: 8})
	// tC = 9·⌈5/2⌉² = 81; tO = 4·9/8; cycles = 2·81.
	if c.TC != 81 || c.TO != 4.5 || c.Cycles != 162 {
		t.Errorf("stride 2: %+v", c)
	}
}

func TestUsageAndInfeasibility(t *testing.T) {
	u, err := handT.Usage(16)
	if err != nil {
		t.Fatal(err)
	}
	// DSP 2·2; BRAM 2·2·⌈16·16/18000⌉ + 2·2·1 + 2·2·⌈4·9·16/18000⌉ = 12.
	if u.DSP != 4 || u.BRAM18K != 12 || u.PortBits != 48 {
		t.Errorf("usage %+v", u)
	}
	u32, _ := handT.Usage(32)
	if u32.DSP != 20 || u32.BRAM18K != 4+4+8 || u32.PortBits != 96 {
		t.Errorf("32-bit usage %+v", u32)
	}
	if _, err := handT.Usage(8); err == nil {
		t.Error("8-bit data accepted")
	}
	b := Board{Name: "tiny", DSP: 4, BRAM18K: 12, PortBits: 48, ClockMHz: 100, CheckBRAM: true}
	if err := b.Check(u); err != nil {
		t.Errorf("exact fit rejected: %v", err)
	}
	for name, bad := range map[string]Usage{
		"dsp":  {DSP: 5, BRAM18K: 12, PortBits: 48},
		"bram": {DSP: 4, BRAM18K: 13, PortBits: 48},
		"port": {DSP: 4, BRAM18K: 12, PortBits: 64},
	} {
		if b.Check(bad) == nil {
			t.Errorf("%s overflow accepted", name)
		}
	}
	b.CheckBRAM = false
	if b.Check(Usage{DSP: 4, BRAM18K: 1000, PortBits: 48}) != nil {
		t.Error("BRAM checked with CheckBRAM off")
	}
	if _, err := Time(Layer{B: 1, M: 1, N: 1, R: 1, C: 1, K: 5, S: 1}, handT); err == nil {
		t.Error("kernel 5 on a Tk=3 template accepted")
	}
	if _, err := Time(Layer{B: 1, M: 0, N: 1, R: 1, C: 1, K: 1, S: 1}, handT); err == nil {
		t.Error("empty layer accepted")
	}
	// Ports narrower than three 16-bit words, or no DSP: nothing fits.
	for _, nb := range []Board{{Name: "narrow", DSP: 100, BRAM18K: 100, PortBits: 32, ClockMHz: 100}, {Name: "nodsp", DSP: 0, BRAM18K: 100, PortBits: 512, ClockMHz: 100}} {
		if _, _, _, err := BestTiling([]Layer{handA}, nb, 16); !errors.Is(err, ErrInfeasible) {
			t.Errorf("%s: err %v, want ErrInfeasible", nb.Name, err)
		}
		if _, err := Explore([]Layer{handA}, []Board{nb}, 16); !errors.Is(err, ErrInfeasible) {
			t.Errorf("%s: Explore err %v", nb.Name, err)
		}
	}
}

func TestPipelineByHand(t *testing.T) {
	board := Board{Name: "b", DSP: 100, BRAM18K: 100, PortBits: 64, ClockMHz: 100, StaticW: 1}
	layers := []Layer{handA, handB}
	u, _ := handT.Usage(16)
	p := board.PowerW(u)
	// One board: one stage of 288 + 16 cycles.
	d, err := EvaluateFixed(layers, []Board{board}, []Tiling{handT}, 16)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Stages) != 1 || d.Stages[0].Cycles != 304 || !approx(d.Throughput, 1e8/304) || !approx(d.Latency, 304e-8) || d.PipelineEff != 1 {
		t.Errorf("one board: %+v", d)
	}
	ops := 2.0 * (4*2*16*9 + 2*4*4*1)
	if d.OpsPerImage != ops || !approx(d.EnergyEff, ops*d.Throughput/p/1e9) {
		t.Errorf("ops %v energy %v", d.OpsPerImage, d.EnergyEff)
	}
	// Two boards: A alone (288) then B (16); the 4×4×4 map crosses the link.
	d, err = EvaluateFixed(layers, []Board{board, board}, []Tiling{handT, handT}, 16)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Stages) != 2 || d.Stages[0].Last != 1 || !approx(d.Throughput, 1e8/288) {
		t.Fatalf("two boards: %+v", d)
	}
	wantLat := 304e-8 + 64*16/(LinkGbps*1e9)
	if !approx(d.Latency, wantLat) || !approx(d.PipelineEff, 304.0/(2*288)) || !approx(d.PowerW, 2*p) {
		t.Errorf("two boards: latency %v want %v, pipeline eff %v, power %v", d.Latency, wantLat, d.PipelineEff, d.PowerW)
	}
	// A template with a smaller kernel cannot take layer A.
	small := handT
	small.Tk = 1
	d, err = EvaluateFixed(layers, []Board{board, board}, []Tiling{small, handT}, 16)
	if err != nil || d.Stages[0].Board != board || d.Stages[0].Tiling != handT {
		t.Errorf("kernel-1 board: %+v, %v", d, err)
	}
}

// bruteTiling searches every tile size and every power-of-two port split.
func bruteTiling(layers []Layer, b Board, bits int) float64 {
	var mM, mN, mR, tk int
	for _, l := range layers {
		mM, mN, mR, tk = max(mM, l.M), max(mN, l.N), max(mR, l.R), max(tk, l.K)
	}
	best := math.Inf(1)
	for tm := 1; tm <= mM; tm++ {
		for tn := 1; tn <= mN; tn++ {
			for tr := 1; tr <= mR; tr++ {
				for w := 1; w <= 64; w *= 2 {
					for i := 1; i <= 64; i *= 2 {
						for o := 1; o <= 64; o *= 2 {
							t := Tiling{tm, tn, tr, tr, tk, w, i, o}
							u, _ := t.Usage(bits)
							if b.Check(u) != nil {
								continue
							}
							var cy float64
							for _, l := range layers {
								x, _ := Time(l, t)
								cy += x.Cycles
							}
							best = min(best, cy)
						}
					}
				}
			}
		}
	}
	return best
}

func randLayers(r *rand.Rand, n int) []Layer {
	var out []Layer
	ch, size := 1+r.IntN(3), 6+r.IntN(10)
	for range n {
		k := []int{1, 3, 5}[r.IntN(3)]
		s := 1 + r.IntN(2)
		m := 1 + r.IntN(12)
		size = (size+2*(k/2)-k)/s + 1
		out = append(out, Layer{B: 1, M: m, N: ch, R: size, C: size, K: k, S: s, P: k / 2})
		ch = m
	}
	return out
}

func TestBestTilingIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 12 {
		layers := randLayers(r, 1+r.IntN(2))
		b := Board{Name: "small", DSP: 4 + r.IntN(60), BRAM18K: 60 + r.IntN(400), PortBits: []int{64, 128, 256}[r.IntN(3)], ClockMHz: 100, CheckBRAM: true}
		_, _, cy, err := BestTiling(layers, b, 16)
		want := bruteTiling(layers, b, 16)
		if math.IsInf(want, 1) {
			if err == nil {
				t.Errorf("trial %d: found %v where brute force finds nothing", trial, cy)
			}
			continue
		}
		if err != nil || cy != want {
			t.Errorf("trial %d %+v on %+v: %v cycles (%v), brute force %v", trial, layers, b, cy, err, want)
		}
	}
}

// brutePartition tries every contiguous split and every assignment of
// distinct boards, keeping the best (throughput, then least power).
func brutePartition(layers []Layer, pool []Board) (thr, power float64) {
	var rec func(start int, used int, worst, pw float64)
	rec = func(start int, used int, worst, pw float64) {
		if start == len(layers) {
			if worst > thr || (worst == thr && pw < power) {
				thr, power = worst, pw
			}
			return
		}
		for end := start + 1; end <= len(layers); end++ {
			for b := range pool {
				if used&(1<<b) != 0 {
					continue
				}
				_, u, cy, err := BestTiling(layers[start:end], pool[b], 16)
				if err != nil {
					continue
				}
				rec(end, used|1<<b, min(worst, pool[b].ClockMHz*1e6/cy), pw+pool[b].PowerW(u))
			}
		}
	}
	power = math.Inf(1)
	rec(0, 0, math.Inf(1), 0)
	return
}

func TestExploreIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	zed, zcu := Catalogue["zedboard"], Catalogue["zcu102"]
	slow := zed
	slow.Name, slow.ClockMHz, slow.DSP = "slow", 50, 40
	pools := [][]Board{{zed, zcu}, {zed, zed, slow}, {slow}}
	for trial := range 6 {
		layers := randLayers(r, 2+r.IntN(3))
		for i := range layers {
			layers[i].M *= 4
			if i > 0 {
				layers[i].N = layers[i-1].M
			}
		}
		pool := pools[trial%len(pools)]
		d, err := Explore(layers, pool, 16)
		thr, pw := brutePartition(layers, pool)
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		if !approx(d.Throughput, thr) || !approx(d.PowerW, pw) {
			t.Errorf("trial %d: throughput %v power %v, brute force %v %v", trial, d.Throughput, d.PowerW, thr, pw)
		}
	}
}

// The fast exploration must take milliseconds per child: the paper's
// six-layer CIFAR network on two boards.
func TestExploreIsFast(t *testing.T) {
	spec := [][3]int{{3, 36, 1}, {5, 36, 1}, {1, 64, 1}, {3, 48, 2}, {7, 24, 1}, {1, 64, 1}}
	var layers []Layer
	ch, size := 3, 32
	for _, s := range spec {
		size = (size+2*(s[0]/2)-s[0])/s[2] + 1
		layers = append(layers, Layer{B: 1, M: s[1], N: ch, R: size, C: size, K: s[0], S: s[2], P: s[0] / 2})
		ch = s[1]
	}
	pool := []Board{Catalogue["zedboard"], Catalogue["zcu102"]}
	start := time.Now()
	d, err := Explore(layers, pool, 16)
	el := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("paper net on zedboard+zcu102: %.0f img/s, %d stages, %.2f GOPS/W in %v", d.Throughput, len(d.Stages), d.EnergyEff, el)
	if el > 2*time.Second {
		t.Errorf("Explore took %v", el)
	}
}
