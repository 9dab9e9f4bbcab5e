package train

import (
	"errors"
	"testing"

	"github.com/nadir-ml/nadir/option"
)

func TestResolve(t *testing.T) {
	ok := func() RunConfig {
		return RunConfig{Model: "cnn:c8,p", Act: "relu", Epochs: 1,
			Train: Config{Batch: 64, Optimizer: "sgd", Schedule: "cosine"}}
	}
	c := ok()
	if err := Resolve(&c, 0.05); err != nil || c.Train.LR != 0.02 {
		t.Fatalf("lr %v (want exactly 0.02), %v", c.Train.LR, err)
	}
	bad := map[string]func(*RunConfig){
		"epochs":          func(c *RunConfig) { c.Epochs = -1 },
		"train.batch":     func(c *RunConfig) { c.Train.Batch = 0 },
		"val_frac":        func(c *RunConfig) { c.ValFrac = 1 },
		"train.patience":  func(c *RunConfig) { c.Train.Patience = 2 },
		"act":             func(c *RunConfig) { c.Act = "foo" },
		"train.optimizer": func(c *RunConfig) { c.Train.Optimizer = "lbfgs" },
		"train.schedule":  func(c *RunConfig) { c.Train.Schedule = "warm" },
	}
	for field, f := range bad {
		c := ok()
		f(&c)
		var oe *option.Error
		if err := Resolve(&c, 0.05); !errors.As(err, &oe) || oe.Field != field {
			t.Errorf("%s: err = %v", field, err)
		}
	}
}
