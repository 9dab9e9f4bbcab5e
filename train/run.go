package train

import (
	"context"
	"path/filepath"
	"time"

	"github.com/nadir-ml/nadir/run"
)

// Summary is summary.json of a training run (run.Summary with the train
// fields set).
type Summary = run.Summary

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
	recs, err := run.ReadLog(filepath.Join(s.Dir, run.LogFile))
	if err != nil {
		return nil, err
	}
	sum.Epochs = run.Events[run.Epoch](recs)
	for _, e := range sum.Epochs {
		sum.Seconds += e.Seconds
	}
	if len(sum.Epochs) == 0 {
		sum.Seconds = time.Since(start).Seconds()
	}
	if err := s.Log.Append(run.Final{TestAccuracy: sum.TestAccuracy, TestLoss: sum.TestLoss}); err != nil {
		return nil, err
	}
	return sum, s.WriteSummary(sum)
}
