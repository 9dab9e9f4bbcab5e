package continual

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nadir-ml/nadir/data"
)

// synthetic: 6 classes of Gaussian blobs in 12 dimensions.
func synthetic(n int, seed uint64) *data.Dataset {
	r := rand.New(rand.NewPCG(seed, 1))
	c := rand.New(rand.NewPCG(99, 1)) // class centres shared by train and test
	centres := make([][]float64, 6)
	for k := range centres {
		centres[k] = make([]float64, 12)
		for j := range centres[k] {
			centres[k][j] = 2 * c.NormFloat64()
		}
	}
	d := &data.Dataset{Name: "blobs", Shape: []int{12}, Classes: 6}
	for i := 0; i < n; i++ {
		y := i % 6
		for j := 0; j < 12; j++ {
			d.X = append(d.X, float32(centres[y][j]+1.5*r.NormFloat64()))
		}
		d.Y = append(d.Y, y)
	}
	return d
}

// TestFrozenTasksBitIdentical: the outputs of every earlier task's network
// are bit-identical after later tasks are learned (with growth), and
// Firefly's forgetting is exactly 0.
func TestFrozenTasksBitIdentical(t *testing.T) {
	tasks, err := MakeTasks(synthetic(600, 1), synthetic(120, 2), "split:3", 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Hidden: []int{16}, Seed: []int{3}, Epochs: 1, Batch: 32, LR: 0.05, Rounds: 2,
		GrowRatio: 0.5, Target: 1, Lambda: 10, Steps: 5, RandSeed: 3}
	first := map[int][]float32{}
	grew := 0
	afterTask = func(s *ffState, task int) {
		for j := 0; j <= task; j++ {
			n, err := s.evalNet(j)
			if err != nil {
				t.Fatal(err)
			}
			x, _ := data.NewBatcher(tasks[j].Test, 1000).Batch(0, nil, nil)
			out := append([]float32(nil), n.Forward(x, false).Data...)
			if j == task {
				first[j] = out
				continue
			}
			for i, v := range out {
				if math.Float32bits(v) != math.Float32bits(first[j][i]) {
					t.Fatalf("task %d's output %d changed after task %d: %v → %v", j, i, task, first[j][i], v)
				}
			}
		}
		if task > 0 && s.widths[task][0] > s.widths[task-1][0] {
			grew++
		}
	}
	defer func() { afterTask = nil }()
	res, err := Run(context.Background(), cfg, tasks, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if grew == 0 {
		t.Fatalf("no task grew the network (widths %v): the test checks nothing", res["firefly"].Widths)
	}
	if f := res["firefly"].Forgetting; f != 0 {
		t.Fatalf("firefly forgetting %v, want exactly 0", f)
	}
	if res["independent"].Params <= res["finetune"].Params {
		t.Fatalf("independent networks (%d params) not larger than one shared one (%d)", res["independent"].Params, res["finetune"].Params)
	}
}

func TestMakeTasks(t *testing.T) {
	tr, te := synthetic(60, 1), synthetic(12, 2)
	ts, err := MakeTasks(tr, te, "split:3", 1)
	if err != nil || len(ts) != 3 || ts[2].Classes != 2 || ts[2].Train.Len() != 20 {
		t.Fatalf("split:3: %v %+v", err, ts)
	}
	for _, y := range ts[1].Train.Y {
		if y < 0 || y > 1 {
			t.Fatalf("labels not relabelled: %v", ts[1].Train.Y)
		}
	}
	ps, err := MakeTasks(tr, te, "permuted:2", 1)
	if err != nil || len(ps) != 2 || ps[1].Classes != 6 {
		t.Fatalf("permuted:2: %v", err)
	}
	for _, bad := range []string{"split:4", "split:0", "rotated:3", "split"} {
		if _, err := MakeTasks(tr, te, bad, 1); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
