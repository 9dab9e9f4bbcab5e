package coexec

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nadir-ml/nadir/coexplore"
	"github.com/nadir-ml/nadir/dist"
)

// Command is the dist command name of a co-exploration child.
const Command = "coexplore-child"

// ToDist wraps a child as a dist trial.
func ToDist(t coexplore.Trial) dist.Trial {
	b, err := json.Marshal(t)
	if err != nil {
		panic(err) // plain data always marshals
	}
	return dist.Trial{Command: Command, Args: []string{string(b)}, Seed: t.Train.Seed}
}

// FromDist unwraps a child from a dist trial.
func FromDist(t dist.Trial) (coexplore.Trial, error) {
	var c coexplore.Trial
	if t.Command != Command || len(t.Args) != 1 {
		return c, fmt.Errorf("not a %s trial: %s", Command, t)
	}
	if err := json.Unmarshal([]byte(t.Args[0]), &c); err != nil {
		return c, fmt.Errorf("%s trial: %v", Command, err)
	}
	return c, nil
}

// Runner returns the dist runner of co-exploration children. Datasets are
// loaded once per process and (data, subset, split), as by coexplore's
// local pool. The run directory holds summary.json, the child's Result.
func Runner() dist.Runner {
	local := coexplore.NewLocal(1)
	return func(ctx context.Context, t dist.Trial, dir string) ([]byte, error) {
		c, err := FromDist(t)
		if err != nil {
			return nil, err
		}
		res, err := local.Run(ctx, []coexplore.Trial{c})
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			// Interrupted, not failed: no result, so that the trial is
			// handed back and runs again.
			return nil, err
		}
		b, err := json.Marshal(res[0])
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		return b, os.WriteFile(filepath.Join(dir, "summary.json"), b, 0o644)
	}
}

// Executor is a coexplore.Executor on a dist.Executor: children's run
// directories land in Dir/<dist trial id>.
type Executor struct {
	Exec dist.Executor
	Dir  string
	// OnResult, when set, is passed to the dist executor (progress).
	OnResult func(dist.Result)
}

var _ coexplore.Executor = (*Executor)(nil)

// Run implements coexplore.Executor. A child that failed on the workers
// (a panic, or dead-lettered after its deliveries) comes back as a Result
// with Err set, like a child that cannot be built; an error is the
// executor's own.
func (x *Executor) Run(ctx context.Context, trials []coexplore.Trial) ([]coexplore.Result, error) {
	ts := make([]dist.Trial, len(trials))
	for i, t := range trials {
		ts[i] = ToDist(t)
	}
	rs, err := x.Exec.Execute(ctx, x.Dir, ts, x.OnResult)
	if err != nil {
		return nil, err
	}
	out := make([]coexplore.Result, len(trials))
	for i, r := range rs {
		if r.Status != dist.Done {
			out[i] = coexplore.Result{ID: trials[i].ID, Err: r.Error}
			continue
		}
		if err := json.Unmarshal(r.Summary, &out[i]); err != nil {
			return nil, fmt.Errorf("result of child %s: %v", trials[i].ID, err)
		}
		if out[i].ID != trials[i].ID {
			return nil, fmt.Errorf("result of child %s names child %s", trials[i].ID, out[i].ID)
		}
	}
	return out, nil
}
