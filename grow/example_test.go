package grow_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/nadir-ml/nadir/grow"
	_ "github.com/nadir-ml/nadir/grow/split" // registers s2d, fast, signed, random-split, new-neuron
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
	"github.com/nadir-ml/nadir/train"
)

// Grow a network with a method and a budget: fast energy-aware splitting
// until the network would exceed 120 parameters. The engine is given what
// it cannot guess (data, seed network, method) and fills the rest of its
// configuration with defaults; every round is logged and checkpointed in
// the run directory.
func Example_growWithBudget() {
	dir, _ := os.MkdirTemp("", "nadir-grow-example")
	defer os.RemoveAll(dir)

	cfg := grow.Config{Method: "fast", Rounds: 4, SeedEpochs: 2, EpochsPerRound: 1, Eps: 0.01, Budget: "params=120"}
	if err := cfg.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	method, err := grow.NewMethod(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	ds := train.Datasets{Train: blobs(300, 1), Test: blobs(90, 2)}
	act, _ := nn.ParseActivation("softplus")
	net, _ := nn.ParseModel("mlp:3,3", ds.Train.Shape, ds.Train.Classes, act, rand.New(rand.NewPCG(1, 0)))
	s, err := train.CreateSession(filepath.Join(dir, "run"), train.RunConfig{Command: "grow", Model: "mlp:3,3",
		Train: train.Config{Batch: 32, LR: 0.05, Schedule: "const", Optimizer: "sgd", Seed: 1}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	opt, _ := optim.New("sgd", 0)
	t, _ := s.NewTrainer(net, opt, ds)
	e := &grow.Engine{Cfg: cfg, Method: method, Session: s, Trainer: t, Data: ds}
	rounds, err := e.Run(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	first, last := rounds[0], rounds[len(rounds)-1]
	fmt.Println("selection:", e.Cfg.Select)
	fmt.Println("seed:", first.Widths, first.Params, "params")
	fmt.Println("grew:", last.Params > first.Params, "within budget:", last.Params <= 120)
	// Output:
	// selection: knapsack
	// seed: [3 3] 45 params
	// grew: true within budget: true
}
