package grow_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nadir-ml/nadir/grow"
	_ "github.com/nadir-ml/nadir/grow/split"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
	"github.com/nadir-ml/nadir/option"
	"github.com/nadir-ml/nadir/train"
)

// An engine assembled with only what it cannot guess (data, network,
// method) runs: Run prepares it, the zero fields take their defaults, the
// budget string is parsed, the method's selection rule is used.
func TestEngineZeroValuesRun(t *testing.T) {
	s, err := train.CreateSession(filepath.Join(t.TempDir(), "run"), train.RunConfig{Command: "grow"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	act, _ := nn.ParseActivation("softplus")
	net, _ := nn.ParseModel("mlp:3", []int{6}, 3, act, rand.New(rand.NewPCG(5, 5)))
	opt, _ := optim.New("sgd", 0)
	ds := train.Datasets{Train: blobs(200, 1), Test: blobs(60, 2)}
	tr := &train.Trainer{Net: net, Opt: opt, Sched: optim.Constant{Base: 0.05}, Train: ds.Train, Test: ds.Test, Log: s.Log}
	cfg := grow.Config{Method: "fast", Rounds: 2, EpochsPerRound: 1, SeedEpochs: 1, Eps: 0.01, Budget: "params=70"}
	m, err := grow.NewMethod(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &grow.Engine{Cfg: cfg, Method: m, Session: s, Trainer: tr, Data: ds}
	hist, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if e.Cfg.Select != grow.Knapsack || e.Cfg.SplitBatches != 10 || e.Budget == nil || hist[len(hist)-1].Params > 70 {
		t.Fatalf("select %q, split batches %d, budget %v, params %d", e.Cfg.Select, e.Cfg.SplitBatches, e.Budget, hist[len(hist)-1].Params)
	}
}

// Bad configurations are errors naming the field, never panics.
func TestConfigErrorsNameFields(t *testing.T) {
	cases := map[string]func(*grow.Config){
		"grow.rounds":           func(c *grow.Config) { c.Rounds = -1 },
		"grow.epochs_per_round": func(c *grow.Config) { c.EpochsPerRound = -2 },
		"grow.split_batches":    func(c *grow.Config) { c.SplitBatches = -1 },
		"grow.measure_batches":  func(c *grow.Config) { c.MeasureBatches = -1 },
		"grow.lanczos_sample":   func(c *grow.Config) { c.LanczosSample = 1.5 },
		"grow.lanczos_tol":      func(c *grow.Config) { c.LanczosTol = -1e-3 },
		"grow.select":           func(c *grow.Config) { c.Select = "best" },
		"grow.split_param":      func(c *grow.Config) { c.SplitParam = "half" },
		"grow.method":           func(c *grow.Config) { c.Method = "magic" },
		"grow.budget":           func(c *grow.Config) { c.Budget = "flops=3" },
		"grow.cost":             func(c *grow.Config) { c.Cost = "flops" },
		"grow.from":             func(c *grow.Config) { c.Method = grow.MethodScratch },
		"grow.grow_ratio":       func(c *grow.Config) { c.GrowAuto = true }, // without a budget
	}
	for field, mutate := range cases {
		c := grow.DefaultConfig()
		mutate(&c)
		err := c.Validate()
		var oe *option.Error
		if !errors.As(err, &oe) || oe.Field != field || strings.Contains(err.Error(), "--") {
			t.Errorf("%s: err = %v", field, err)
		}
	}
	for _, v := range []string{"", "x", "0", "-1", "11", "NaN"} {
		c := grow.DefaultConfig()
		var oe *option.Error
		if err := grow.ParseGrowRatio(v, &c); !errors.As(err, &oe) || oe.Field != "grow.grow_ratio" {
			t.Errorf("--grow-ratio %q: err = %v", v, err)
		}
	}
	c := grow.DefaultConfig()
	if err := grow.ParseGrowRatio("auto", &c); err != nil || !c.GrowAuto {
		t.Errorf("--grow-ratio auto: %v, %+v", err, c)
	}
	c = grow.DefaultConfig()
	c.Solver = "magic"
	if _, err := grow.NewMethod(c); err == nil || !strings.Contains(err.Error(), "grow.solver") {
		t.Errorf("unknown solver: %v", err)
	}
	var e grow.Engine
	if _, err := e.Run(context.Background()); err == nil {
		t.Error("an empty engine ran")
	}
}

// ExactGrowth overrides the growth step's approximations; without it the
// zero values take the defaults.
func TestExactGrowthConfig(t *testing.T) {
	c := grow.Config{Method: "s2d", SplitBatches: 7, MeasureBatches: 2, LanczosSample: 0.5, LanczosTol: 1e-2, ExactGrowth: true}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.MeasureBatches != 7 || c.LanczosSample != 1 || c.LanczosTol != grow.ExactLanczosTol {
		t.Errorf("exact growth: %+v", c)
	}
	c = grow.Config{Method: "s2d"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	d := grow.DefaultConfig()
	if c.MeasureBatches != d.MeasureBatches || c.LanczosSample != d.LanczosSample || c.LanczosTol != d.LanczosTol {
		t.Errorf("defaults not filled: %+v", c)
	}
	for _, v := range []float64{math.NaN(), 1, 2} {
		c := grow.DefaultConfig()
		c.LanczosTol = v
		if err := c.Validate(); err == nil {
			t.Errorf("lanczos_tol %v accepted", v)
		}
	}
}
