package coexec_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/nadir-ml/nadir/coexplore"
	"github.com/nadir-ml/nadir/dist"
	"github.com/nadir-ml/nadir/dist/coexec"
)

func tinyConfig() coexplore.Config {
	c := coexplore.DefaultConfig()
	c.Modes = []string{coexplore.ModeCoexplore, coexplore.ModeHWAware}
	c.Space = coexplore.Space{Depths: []int{1}, Kernels: []int{1, 3}, Filters: []int{2, 4}, Strides: []int{1, 2}}
	c.MaxTrain, c.Episodes, c.Children = 200, 3, 2
	c.SpecQuantile = 0.5
	return c
}

// search runs the tiny search on ex and returns its summary without the
// wall-clock fields.
func search(t *testing.T, dir string, ex func(dir string) coexplore.Executor) *coexplore.Summary {
	t.Helper()
	s, err := coexplore.Create(dir, tinyConfig(), ex(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sum, err := s.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for m, ms := range sum.Modes {
		ms.Seconds = 0
		sum.Modes[m] = ms
	}
	return sum
}

// The same search on the local pool and through dist (its Pool with the
// coexplore-child runner, the path JetStream workers take too) gives the
// same summary, bit for bit.
func TestSameAsLocal(t *testing.T) {
	reg := dist.NewRegistry()
	reg.Register(coexec.Command, coexec.Runner())
	root := t.TempDir()
	local := search(t, filepath.Join(root, "local"), func(string) coexplore.Executor { return coexplore.NewLocal(2) })
	var results int
	viaDist := search(t, filepath.Join(root, "dist"), func(dir string) coexplore.Executor {
		return &coexec.Executor{Exec: &dist.Pool{Workers: 2, Registry: reg}, Dir: filepath.Join(dir, "trials"),
			OnResult: func(dist.Result) { results++ }}
	})
	if results == 0 || local.Modes[coexplore.ModeHWAware].ChildrenTrained == 0 || local.Modes[coexplore.ModeHWAware].Best == nil {
		t.Fatalf("nothing trained: %d results through dist, summary %+v", results, local.Modes)
	}
	if !reflect.DeepEqual(local, viaDist) {
		a, _ := json.Marshal(local)
		b, _ := json.Marshal(viaDist)
		t.Errorf("summaries differ:\nlocal %s\ndist  %s", a, b)
	}
}

func TestRoundTrip(t *testing.T) {
	c := coexplore.NewTrial(coexplore.Trial{Model: "cnn:c4", Act: "relu", Data: "mnist", MaxTrain: 10, ValFrac: 0.5, Epochs: 1})
	d := coexec.ToDist(c)
	back, err := coexec.FromDist(d)
	if err != nil || !reflect.DeepEqual(back, c) {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	if _, err := coexec.FromDist(dist.Trial{Command: "grow"}); err == nil {
		t.Error("a grow trial was accepted")
	}
	if coexec.ToDist(c).ID() != d.ID() {
		t.Error("dist ID is not deterministic")
	}
}

// A child that cannot be built comes back with its error, as from the
// local pool; a runner failure (unknown command on the workers) too.
func TestErrors(t *testing.T) {
	bad := coexplore.NewTrial(coexplore.Trial{Model: "cnn:zz", Act: "relu", Data: "mnist", MaxTrain: 20, ValFrac: 0.5, Epochs: 1})
	reg := dist.NewRegistry()
	reg.Register(coexec.Command, coexec.Runner())
	x := &coexec.Executor{Exec: &dist.Pool{Workers: 1, Registry: reg}, Dir: t.TempDir()}
	rs, err := x.Run(context.Background(), []coexplore.Trial{bad})
	if err != nil || len(rs) != 1 || rs[0].Err == "" || rs[0].ID != bad.ID {
		t.Errorf("bad model: %+v, %v", rs, err)
	}
	x.Exec = &dist.Pool{Workers: 1, Registry: dist.NewRegistry()}
	x.Dir = t.TempDir()
	rs, err = x.Run(context.Background(), []coexplore.Trial{bad})
	if err != nil || len(rs) != 1 || rs[0].Err == "" {
		t.Errorf("no runner: %+v, %v", rs, err)
	}
}

// An interrupted child is not a result: the runner returns an error, so
// that a worker hands the trial back instead of storing a failed child.
func TestRunnerCancelled(t *testing.T) {
	c := coexplore.NewTrial(coexplore.Trial{Model: "cnn:c2", Act: "relu", Data: "mnist", MaxTrain: 50, ValFrac: 0.5, Epochs: 1,
		Train: coexplore.DefaultConfig().Train})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sum, err := coexec.Runner()(ctx, coexec.ToDist(c), filepath.Join(t.TempDir(), "x"))
	if err == nil || sum != nil {
		t.Errorf("cancelled child: summary %s, error %v", sum, err)
	}
	sum, err = coexec.Runner()(context.Background(), coexec.ToDist(c), filepath.Join(t.TempDir(), "y"))
	var r coexplore.Result
	if err != nil || json.Unmarshal(sum, &r) != nil || r.ID != c.ID || r.Err != "" || r.Params == 0 {
		t.Errorf("child: %s, %v", sum, err)
	}
}
