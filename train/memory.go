package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/nadir-ml/nadir/nn"
)

// optimizerSlots is the optimiser state per parameter: momentum for SGD
// and RMSprop's square average, Adam's two moments.
var optimizerSlots = map[string]int{"sgd": 1, "rmsprop": 1, "adam": 2}

// CheckModelMemory sizes the run's model from the grammar and refuses it
// when training would need more memory than cfg.MaxMemory bytes (0: what
// the system has available, MemAvailable). Nothing is allocated, so a
// mistyped width fails at once instead of after minutes of swapping or with
// an out-of-memory crash.
func CheckModelMemory(cfg RunConfig, ds Datasets) error {
	fp, err := nn.ModelFootprint(cfg.Model, ds.Train.Shape, ds.Train.Classes)
	if err != nil {
		return fmt.Errorf("--model: %v", err)
	}
	limit, what := cfg.MaxMemory, "--max-memory"
	if limit <= 0 {
		limit, what = nn.AvailableMemory(), "available memory"
	}
	if limit <= 0 {
		return nil // unknown: nothing to check against
	}
	eval := cfg.Train.EvalBatch
	if eval <= 0 {
		eval = 500
	}
	need := fp.Bytes(cfg.Train.Batch, eval, optimizerSlots[strings.ToLower(cfg.Train.Optimizer)])
	if need > limit {
		return fmt.Errorf("--model %s: training needs about %s (%d parameters, %d activations per example, batch %d), more than the %s of %s; use a smaller model or batch, or raise --max-memory",
			cfg.Model, nn.FormatBytes(need), fp.Params, fp.Activations, cfg.Train.Batch, nn.FormatBytes(limit), what)
	}
	return nil
}

// BuildModel checks the run's model against the memory limit and builds
// it with parameters drawn from the run's seed.
func BuildModel(cfg RunConfig, ds Datasets) (*nn.Net, error) {
	act, err := nn.ParseActivation(cfg.Act)
	if err != nil {
		return nil, err
	}
	if err := CheckModelMemory(cfg, ds); err != nil {
		return nil, err
	}
	net, err := nn.ParseModel(cfg.Model, ds.Train.Shape, ds.Train.Classes, act, rand.New(rand.NewPCG(cfg.Train.Seed, 0x30de1)))
	if err != nil {
		return nil, fmt.Errorf("--model: %v", err)
	}
	return net, nil
}

// ParseBytes reads a memory size: a number of bytes with an optional
// binary suffix K, M, G or T ("512M", "1.5G", "8GiB").
func ParseBytes(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := 1.0
	if n := len(t); n > 0 {
		if i := strings.IndexByte("KMGT", t[n-1]); i >= 0 {
			mult = math.Pow(1024, float64(i+1))
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || !(v > 0) || v*mult >= math.MaxInt64 {
		return 0, fmt.Errorf("memory size %q: want a positive number of bytes, optionally with K, M, G or T", s)
	}
	return int64(v * mult), nil
}
