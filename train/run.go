package train

import (
	"context"
	"time"
)

// Summary is summary.json of a training run.
type Summary struct {
	Command      string       `json:"command"`
	TestAccuracy float64      `json:"test_accuracy"`
	TestLoss     float64      `json:"test_loss"`
	Params       int          `json:"params"`
	MACs         int64        `json:"macs"`
	Seconds      float64      `json:"seconds"`
	Epochs       []EpochStats `json:"epochs"`
	Confusion    [][]int      `json:"confusion"`
}

// RunTraining trains to the end of the trainer's current phase with a
// checkpoint after every epoch (and every Cfg.CkptSteps steps), evaluates
// on the test set and writes summary.json. Earlier epochs' stats are read
// back from the event log, so a resumed run's summary is complete.
func RunTraining(ctx context.Context, s *Session, t *Trainer) (*Summary, error) {
	start := time.Now()
	t.Save = func() error { return s.SaveCheckpoint(t, nil, "") }
	if t.Pos.Epoch == t.Pos.PhaseStart && t.Pos.Step == 0 {
		if err := t.Save(); err != nil {
			return nil, err
		}
	}
	if _, err := t.RunPhase(ctx); err != nil {
		return nil, err
	}
	m := Evaluate(t.Net, t.Test, t.evalBatch())
	sum := &Summary{Command: "train", TestAccuracy: m.Accuracy, TestLoss: m.Loss,
		Params: t.Net.NumParams(), MACs: t.Net.MACs(), Confusion: m.Confusion}
	if err := s.Log.Sync(); err != nil {
		return nil, err
	}
	events, err := ReadEvents(s.Log.path)
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		if e["event"] != "epoch" {
			continue
		}
		sum.Epochs = append(sum.Epochs, EpochStats{
			Epoch: int(num(e["epoch"])), TrainLoss: num(e["train_loss"]), TrainAcc: num(e["train_accuracy"]),
			ValLoss: num(e["val_loss"]), ValAcc: num(e["val_accuracy"]), TestLoss: num(e["test_loss"]),
			TestAcc: num(e["test_accuracy"]), LR: num(e["lr"]), Seconds: num(e["seconds"]),
		})
		sum.Seconds += num(e["seconds"])
	}
	if len(sum.Epochs) == 0 {
		sum.Seconds = time.Since(start).Seconds()
	}
	if err := s.Log.Append("summary", map[string]any{"test_accuracy": sum.TestAccuracy, "test_loss": sum.TestLoss}); err != nil {
		return nil, err
	}
	return sum, s.WriteSummary(sum)
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}
