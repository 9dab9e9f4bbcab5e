package run_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nadir-ml/nadir/run"
)

// A producer creates the directory, logs typed events, checkpoints and
// writes its summary; a reader gets them back typed.
func Example() {
	dir := filepath.Join(os.TempDir(), "nadir-run-example")
	os.RemoveAll(dir)
	defer os.RemoveAll(dir)

	d, err := run.Create(dir, run.Config{Command: "train", Model: "mlp:16"})
	if err != nil {
		fmt.Println(err)
		return
	}
	d.Log.Append(run.Epoch{Epoch: 1, TrainLoss: 0.42, TestAccuracy: 0.9})
	d.SaveCheckpoint([]byte("producer state"), "")
	d.WriteSummary(run.Summary{Command: "train", TestAccuracy: 0.9})
	d.Close()

	r, err := run.Read(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Config.Command, r.Config.Model, r.Summary.TestAccuracy)
	for _, e := range run.Events[run.Epoch](r.Records) {
		fmt.Printf("epoch %d: train loss %.2f\n", e.Epoch, e.TrainLoss)
	}
	ck, _ := run.ReadCheckpointOf(dir)
	fmt.Printf("%s\n", ck.State)
	// Output:
	// train mlp:16 0.9
	// epoch 1: train loss 0.42
	// producer state
}
