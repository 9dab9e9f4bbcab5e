package grow_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nadir-ml/nadir/cost"
	"github.com/nadir-ml/nadir/grow"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
	"github.com/nadir-ml/nadir/tensor"
)

func bnLayers(net *nn.Net) []*nn.BatchNorm {
	var out []*nn.BatchNorm
	for _, l := range net.Layers {
		if bn, ok := l.(*nn.BatchNorm); ok {
			out = append(out, bn)
		}
	}
	return out
}

// Channels whose BatchNorm scale and shift are zero output ReLU(0) = 0, so
// pruning exactly those (the smallest |γ|) leaves the function unchanged.
func TestSlimToRemovesSmallestGammaFirst(t *testing.T) {
	act, _ := nn.ParseActivation("relu")
	net, err := nn.ParseModel("cnn:c6,p,c6,g", []int{1, 6, 6}, 3, act, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	bns := bnLayers(net)
	r := rand.New(rand.NewPCG(3, 4))
	for _, bn := range bns {
		g, b := bn.Params()[0].Data, bn.Params()[1].Data
		for i := range g {
			g[i] = 0.5 + r.Float32()
			b[i] = 0.1 * r.Float32()
		}
	}
	// Three dead channels: two in the first layer, one in the second.
	for _, d := range [][2]int{{0, 1}, {0, 4}, {1, 2}} {
		bns[d[0]].Params()[0].Data[d[1]] = 0
		bns[d[0]].Params()[1].Data[d[1]] = 0
	}
	x := tensor.New(4, 1, 6, 6)
	for i := range x.Data {
		x.Data[i] = r.Float32()
	}
	want := append([]float32(nil), net.Forward(x, false).Data...)
	m, _ := cost.New("macs", cost.Options{})
	before := net.MACs()
	// A target just below the current cost minus two dead channels' worth
	// forces exactly three removals or more; ask for the cost without the
	// three dead channels by pruning until the widths drop by three.
	clone := net.Spec()
	probe, _ := nn.Build(clone, nil)
	if err := probe.RemoveUnits(probe.Growable()[1], []int{2}); err != nil {
		t.Fatal(err)
	}
	if err := probe.RemoveUnits(probe.Growable()[0], []int{1, 4}); err != nil {
		t.Fatal(err)
	}
	n, err := grow.SlimTo(net, m, float64(probe.MACs()))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || net.MACs() != probe.MACs() || net.MACs() >= before {
		t.Fatalf("removed %d channels, MACs %d → %d, want 3 and %d", n, before, net.MACs(), probe.MACs())
	}
	got := net.Forward(x, false).Data
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-5 {
			t.Fatalf("output %d changed: %v → %v (a live channel was pruned)", i, want[i], got[i])
		}
	}
	// Every layer keeps a unit: an impossible target is an error.
	if _, err := grow.SlimTo(net, m, 1); err == nil {
		t.Fatal("target below one channel per layer accepted")
	}
	for _, w := range grow.Widths(net) {
		if w < 1 {
			t.Fatalf("a layer lost all units: %v", grow.Widths(net))
		}
	}
}

func TestSlimToNeedsBatchNorm(t *testing.T) {
	act, _ := nn.ParseActivation("relu")
	net, _ := nn.ParseModel("mlp:4", []int{3}, 2, act, rand.New(rand.NewPCG(1, 2)))
	m, _ := cost.New("macs", cost.Options{})
	if _, err := grow.SlimTo(net, m, 1); err == nil {
		t.Fatal("slimming without BatchNorm accepted")
	}
}

// With zero loss gradient, one plain SGD step moves every BatchNorm scale
// lr·λ towards zero (the L1 subgradient), and only while Active.
func TestSparseBNStep(t *testing.T) {
	act, _ := nn.ParseActivation("relu")
	net, _ := nn.ParseModel("cnn:c3,g", []int{1, 4, 4}, 2, act, rand.New(rand.NewPCG(1, 2)))
	g := bnLayers(net)[0].Params()[0]
	g.Data[0], g.Data[1], g.Data[2] = 0.5, -0.25, 0
	on := true
	s := &grow.SparseBN{Optimizer: &optim.SGD{}, Net: net, Lambda: 0.1, Active: func() bool { return on }}
	net.ZeroGrad()
	s.Step(net.Params(), 0.5)
	want := []float32{0.45, -0.2, 0}
	for i, w := range want {
		if math.Abs(float64(g.Data[i]-w)) > 1e-6 {
			t.Fatalf("γ after one step %v, want %v", g.Data, want)
		}
	}
	on = false
	net.ZeroGrad()
	s.Step(net.Params(), 0.5)
	if math.Abs(float64(g.Data[0]-0.45)) > 1e-6 {
		t.Fatalf("inactive penalty still moved γ: %v", g.Data)
	}
	if s.Name() != "sgd" {
		t.Fatalf("wrapped optimiser saves as %q", s.Name())
	}
}

func TestStepRelative(t *testing.T) {
	act, _ := nn.ParseActivation("relu")
	net, _ := nn.ParseModel("mlp:2", []int{3}, 2, act, rand.New(rand.NewPCG(1, 2)))
	li := net.Growable()[0]
	p := net.Layers[li].(nn.Producer)
	copy(p.Weight().Data[3:6], []float32{2, 0, 1})
	p.BiasParam().Data[1] = 2 // ‖(2, 0, 1, 2)‖ = 3
	c := grow.Config{Eps: 0.01, EpsRel: 0.1}
	if got := c.Step(net, li, 1); math.Abs(got-0.3) > 1e-6 {
		t.Fatalf("relative step %v, want 0.3", got)
	}
	c.EpsRel = 0
	if got := c.Step(net, li, 1); got != 0.01 {
		t.Fatalf("absolute step %v, want 0.01", got)
	}
}

// momentumProbe records, at the start of every epoch, whether any
// parameter carries optimiser state.
type momentumProbe struct {
	net   *nn.Net
	state map[string]bool
}

func (m *momentumProbe) PhaseStart(name string, _ int) {
	has := false
	for _, p := range m.net.Params() {
		for _, s := range p.Slots {
			for _, v := range s {
				has = has || v != 0
			}
		}
	}
	m.state[name] = has
}
func (m *momentumProbe) StepDone(int, float64) {}
func (m *momentumProbe) PhaseEnd()             {}

// A budget that ends growth early turns the remaining rounds into
// fine-tuning: the run trains as many epochs as one that grows every round.
// With ResetOptim no parameter carries momentum into the round after a
// growth step; without it the momentum survives.
func TestBudgetKeepsTotalEpochsAndResetOptim(t *testing.T) {
	for _, reset := range []bool{false, true} {
		var probe *momentumProbe
		e, hist := runEngineWith(t, filepath.Join(t.TempDir(), "b"), "s2d", "params=60", func(e *grow.Engine) {
			e.Cfg.FinalEpochs = 1
			e.Cfg.ResetOptim = reset
			e.Trainer.Opt = &optim.SGD{Momentum: 0.9}
			probe = &momentumProbe{net: e.Trainer.Net, state: map[string]bool{}}
			e.Trainer.Hooks = append(e.Trainer.Hooks, probe)
		})
		if len(hist) >= 4 {
			t.Fatalf("budget did not end growth early: %d rounds", len(hist))
		}
		if want := 2 + 3*1 + 1; e.Trainer.Pos.Epoch != want {
			t.Fatalf("trained %d epochs, want %d", e.Trainer.Pos.Epoch, want)
		}
		// Epoch 2 continues the seed phase; epoch 3 is the first after growth.
		if !probe.state["epoch 2"] || probe.state["epoch 3"] == reset {
			t.Fatalf("reset %v: momentum at epoch starts %v", reset, probe.state)
		}
	}
}

// With a lineage cap of one, two units of the same lineage (the
// off-springs of an earlier split) are not both split in one round.
func TestSelectRatioLineageCap(t *testing.T) {
	c := []grow.Candidate{
		{Layer: 0, Unit: 0, Score: -3, Added: 1},
		{Layer: 0, Unit: 1, Score: -1, Added: 1},
		{Layer: 0, Unit: 2, Score: -2.9, Added: 1}, // off-spring of unit 0
		{Layer: 0, Unit: 3, Score: -0.5, Added: 1},
	}
	lim := grow.Limits{Ratio: 0.5, Widths: map[int]int{0: 4}, Lineage: map[int][]int{0: {0, 1, 0, 3}}}
	if got := grow.SelectRatio(c, lim); !reflect.DeepEqual(got, []int{0, 2}) {
		t.Fatalf("uncapped: %v", got)
	}
	lim.LineageCap = 1
	if got := grow.SelectRatio(c, lim); !reflect.DeepEqual(got, []int{0, 1}) {
		t.Fatalf("capped: %v, want [0 1]", got)
	}
	got, err := grow.SelectKnapsack(c, lim, map[int]float64{0: 1})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, i := range got {
		if l := lim.Lineage[0][c[i].Unit]; seen[l] {
			t.Fatalf("knapsack took lineage %d twice: %v", l, got)
		} else {
			seen[l] = true
		}
	}
}

// The engine tracks lineages through splits: with a cap of one, no round
// splits two units of one lineage.
func TestEngineLineageCap(t *testing.T) {
	e, _ := runEngineWith(t, filepath.Join(t.TempDir(), "l"), "s2d", "", func(e *grow.Engine) { e.Cfg.LineageCap = 1 })
	for li, lin := range e.State.Lineage {
		if len(lin) != e.Trainer.Net.Layers[li].(nn.Producer).Units() {
			t.Fatalf("layer %d: %d lineages for %d units", li, len(lin), e.Trainer.Net.Layers[li].(nn.Producer).Units())
		}
		// 3 rounds, at most one split per lineage per round: ≤ 4 units.
		n := map[int]int{}
		for _, l := range lin {
			if n[l]++; n[l] > 4 {
				t.Fatalf("layer %d: lineage %d has %d units: %v", li, l, n[l], lin)
			}
		}
	}
}

// epochLRs reads the learning rate at the end of every epoch from a run's
// log.
func epochLRs(t *testing.T, dir string) []float64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "log.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var ev struct {
			Event string  `json:"event"`
			LR    float64 `json:"lr"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Event == "epoch" {
			out = append(out, ev.LR)
		}
	}
	return out
}

// With LRSpan "run" the cosine schedule decays once over all epochs; with
// the default it restarts after every growth step.
func TestLRSpan(t *testing.T) {
	for _, span := range []string{"round", "run"} {
		dir := filepath.Join(t.TempDir(), span)
		runEngineWith(t, dir, "s2d", "", func(e *grow.Engine) {
			e.Cfg.LRSpan = span
			e.Trainer.Sched = optim.Cosine{Base: 0.05}
		})
		lrs := epochLRs(t, dir)
		if len(lrs) != 5 {
			t.Fatalf("%s: %d epochs logged", span, len(lrs))
		}
		decreasing := true
		for i := 1; i < len(lrs); i++ {
			decreasing = decreasing && lrs[i] < lrs[i-1]
		}
		if decreasing != (span == "run") {
			t.Fatalf("%s: epoch-end learning rates %v", span, lrs)
		}
	}
}
