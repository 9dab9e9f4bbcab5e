package train_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
	"github.com/nadir-ml/nadir/train"
)

// clusters is a small classification problem: n points of 2 classes
// around (±2, 0) in the plane.
func clusters(n int, seed uint64) *data.Dataset {
	r := rand.New(rand.NewPCG(seed, 1))
	d := &data.Dataset{Name: "clusters", Shape: []int{2}, Classes: 2}
	for i := 0; i < n; i++ {
		c := i % 2
		d.X = append(d.X, float32(float64(4*c-2)+r.NormFloat64()*0.5), float32(r.NormFloat64()))
		d.Y = append(d.Y, c)
	}
	return d
}

// Train a network into a run directory: config.json, a checkpoint after
// every epoch, the event log and summary.json, resumable with
// train.OpenSession (or `nadir resume`).
func Example_trainNetwork() {
	dir, _ := os.MkdirTemp("", "nadir-train-example")
	defer os.RemoveAll(dir)

	cfg := train.RunConfig{Command: "train", Model: "mlp:8", Act: "relu", Epochs: 3,
		Train: train.Config{Batch: 16, LR: 0.1, Schedule: "cosine", Optimizer: "sgd", Seed: 1}}
	act, _ := nn.ParseActivation(cfg.Act)
	ds := train.Datasets{Train: clusters(400, 1), Test: clusters(200, 2)}
	net, err := nn.ParseModel(cfg.Model, ds.Train.Shape, ds.Train.Classes, act, rand.New(rand.NewPCG(cfg.Train.Seed, 0)))
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := train.CreateSession(filepath.Join(dir, "run"), cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	opt, _ := optim.New(cfg.Train.Optimizer, 0)
	t, _ := s.NewTrainer(net, opt, ds)
	t.BeginPhase(cfg.Epochs)
	sum, err := train.RunTraining(context.Background(), s, t)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("epochs:", len(sum.Epochs))
	fmt.Println("params:", sum.Params)
	fmt.Println("test accuracy above 0.95:", sum.TestAccuracy > 0.95)
	// Output:
	// epochs: 3
	// params: 42
	// test accuracy above 0.95: true
}
