package train

import (
	"strings"

	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
	"github.com/nadir-ml/nadir/option"
)

// DefaultLR is the learning rate a run gets when it names none: sgdMLP for
// SGD on an MLP, 2/5 of it for SGD on a conv net (which with BatchNorm
// diverges into dead units at the MLP rate; 2/5 rather than 0.4 so that
// 0.05 gives 0.02 exactly), 0.001 for the adaptive optimisers.
func DefaultLR(model, optimizer string, sgdMLP float64) float64 {
	switch {
	case optimizer != "sgd":
		return 0.001
	case strings.HasPrefix(model, "cnn:"):
		return sgdMLP * 2 / 5
	}
	return sgdMLP
}

// Resolve fills the defaults of a run's configuration (a zero learning
// rate becomes DefaultLR's) and checks it. Errors are *option.Error
// naming the field as config.json does ("train.batch").
func Resolve(c *RunConfig, sgdMLP float64) error {
	if c.Train.LR == 0 {
		c.Train.LR = DefaultLR(c.Model, c.Train.Optimizer, sgdMLP)
	}
	switch {
	case c.Epochs < 0:
		return option.Errorf("epochs", c.Epochs, "must be >= 0")
	case c.Train.Batch <= 0:
		return option.Errorf("train.batch", c.Train.Batch, "must be positive")
	case c.Train.LR <= 0:
		return option.Errorf("train.lr", c.Train.LR, "must be positive")
	case c.ValFrac < 0 || c.ValFrac >= 1:
		return option.Errorf("val_frac", c.ValFrac, "must be in [0,1)")
	case c.MaxTrain < 0:
		return option.Errorf("max_train", c.MaxTrain, "must be >= 0")
	case c.Train.Augment < 0:
		return option.Errorf("train.augment", c.Train.Augment, "must be >= 0")
	case c.Train.CkptSteps < 0:
		return option.Errorf("train.ckpt_steps", c.Train.CkptSteps, "must be >= 0")
	case c.Train.Patience < 0:
		return option.Errorf("train.patience", c.Train.Patience, "must be >= 0")
	case c.Train.Patience > 0 && c.ValFrac == 0:
		return option.Errorf("train.patience", c.Train.Patience, "needs a validation split")
	}
	if _, err := nn.ParseActivation(c.Act); err != nil {
		return option.Errorf("act", c.Act, "%v", err)
	}
	if _, err := optim.New(c.Train.Optimizer, 0); err != nil {
		return option.Errorf("train.optimizer", c.Train.Optimizer, "%v", err)
	}
	if _, err := optim.NewSchedule(c.Train.Schedule, 1); err != nil {
		return option.Errorf("train.schedule", c.Train.Schedule, "%v", err)
	}
	return nil
}
