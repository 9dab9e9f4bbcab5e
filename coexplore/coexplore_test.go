package coexplore

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nadir-ml/nadir/cost/fpga"
	"github.com/nadir-ml/nadir/data"
)

func TestSpace(t *testing.T) {
	for name, sp := range Spaces {
		if err := sp.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad := []Space{
		{Depths: nil, Kernels: []int{3}, Filters: []int{8}, Strides: []int{1}},
		{Depths: []int{2}, Kernels: []int{4}, Filters: []int{8}, Strides: []int{1}},
		{Depths: []int{2}, Kernels: []int{3}, Filters: []int{8}, Strides: []int{3}},
		{Depths: []int{2}, Kernels: []int{3, 3}, Filters: []int{8}, Strides: []int{1}},
	}
	for _, sp := range bad {
		if sp.Validate() == nil {
			t.Errorf("%+v accepted", sp)
		}
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "s.json")
	os.WriteFile(f, []byte(`{"depths":[2],"kernels":[3,5],"filters":[8],"strides":[1,2]}`), 0o644)
	sp, err := LoadSpace(f)
	if err != nil || sp.Size() != 16 {
		t.Errorf("LoadSpace: %+v %v (size %v)", sp, err, sp.Size())
	}
	os.WriteFile(f, []byte(`{"depths":[2],"kernels":[],"filters":[8],"strides":[1]}`), 0o644)
	if _, err := LoadSpace(f); err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("empty kernel list: %v", err)
	}
	if _, err := LoadSpace("nope"); err == nil {
		t.Error("unknown preset accepted")
	}
	a := Arch{Layers: []ConvLayer{{3, 8, 1}, {5, 16, 2}}}
	if a.Model() != "cnn:c8,c16k5s2" || a.String() != "[[3,8,1],[5,16,2]]" {
		t.Errorf("model %q string %q", a.Model(), a.String())
	}
	ls := a.FPGALayers([]int{1, 28, 28})
	if len(ls) != 2 || ls[0].R != 28 || ls[1].R != 14 || ls[1].N != 8 || ls[1].P != 2 || ls[1].M != 16 {
		t.Errorf("fpga layers %+v", ls)
	}
	b := Arch{Layers: []ConvLayer{{3, 8, 1}, {5, 16, 2}}}
	if a.Hash() != b.Hash() || a.Hash() == (Arch{Layers: a.Layers[:1]}).Hash() {
		t.Error("hash is not canonical")
	}
}

func TestTrialID(t *testing.T) {
	cfg := DefaultConfig()
	x := baseTrial(cfg)
	x.Model = "cnn:c8"
	a, b := NewTrial(x), NewTrial(x)
	x.Model = "cnn:c16"
	c := NewTrial(x)
	if a.ID == "" || a.ID != b.ID || a.ID == c.ID {
		t.Errorf("ids %q %q %q", a.ID, b.ID, c.ID)
	}
	js, _ := json.Marshal(a)
	var back Trial
	json.Unmarshal(js, &back)
	if NewTrial(back).ID != a.ID {
		t.Error("ID changes through JSON")
	}
}

// The REINFORCE gradient against central finite differences of the
// weighted log-likelihood it differentiates.
func TestControllerGradient(t *testing.T) {
	ds := []Decision{{"a", []int{1, 2, 3}}, {"b", []int{1, 2}}, {"c", []int{4, 5, 6, 7}}}
	k := NewController(ds, 5, 0.01, 0, rand.New(rand.NewPCG(1, 2)))
	choices := []int{2, 0, 3}
	used := []bool{true, false, true}
	adv := 0.7
	loss := func() float64 {
		p := k.Probs(choices)
		var l float64
		for d := range ds {
			if used[d] {
				l -= adv * math.Log(p[d][choices[d]]) / 2
			}
		}
		return l
	}
	k.Grad(choices, used, adv)
	checked := 0
	for _, p := range k.Params() {
		for _, i := range []int{0, p.Len() / 2, p.Len() - 1} {
			g := float64(p.Grad[i])
			old := p.Data[i]
			const eps = 1e-2
			p.Data[i] = old + eps
			lp := loss()
			p.Data[i] = old - eps
			lm := loss()
			p.Data[i] = old
			fd := (lp - lm) / (2 * eps)
			if math.Abs(fd-g) > 2e-3+0.02*math.Abs(fd) {
				t.Errorf("%s[%d]: backward %v, finite difference %v", p.Name, i, g, fd)
			}
			checked++
		}
	}
	if checked < 20 {
		t.Fatal("too few checks")
	}
}

// On a bandit (reward 1 for one choice per decision, else 0) the policy
// learns the rewarded choices.
func TestControllerLearns(t *testing.T) {
	ds := []Decision{{"a", []int{1, 2, 3}}, {"b", []int{1, 2, 3, 4}}}
	k := NewController(ds, 8, 0.05, 0, rand.New(rand.NewPCG(3, 4)))
	r := rand.New(rand.NewPCG(5, 6))
	var base float64
	for ep := range 300 {
		c := k.Sample(r, nil)
		rew := 0.0
		if c[0] == 2 {
			rew += 0.5
		}
		if c[1] == 1 {
			rew += 0.5
		}
		if ep == 0 {
			base = rew
		}
		k.Update(c, nil, rew-base)
		base = 0.8*base + 0.2*rew
	}
	p := k.Probs([]int{2, 1})
	if p[0][2] < 0.9 || p[1][1] < 0.9 {
		t.Errorf("learnt probabilities %v %v", p[0], p[1])
	}
}

// writeToyIDX writes an 8×8 two-class image set: class 1 has a bright
// left half.
func writeToyIDX(t *testing.T, n int) string {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(7, 8))
	write := func(name string, count int) {
		img := &data.IDX{Type: data.IDXUint8, Shape: []int{count, 8, 8}, Data: make([]byte, count*64)}
		lab := &data.IDX{Type: data.IDXUint8, Shape: []int{count}, Data: make([]byte, count)}
		for i := range count {
			y := r.IntN(2)
			lab.Data[i] = byte(y)
			for p := range 64 {
				v := r.IntN(120)
				if y == 1 && p%8 < 4 {
					v += 100
				}
				img.Data[i*64+p] = byte(v)
			}
		}
		for _, x := range []struct {
			f string
			d *data.IDX
		}{{name + "-images-idx3-ubyte", img}, {strings.Replace(name, "t10k", "t10k", 1) + "-labels-idx1-ubyte", lab}} {
			f, err := os.Create(filepath.Join(dir, x.f))
			if err != nil {
				t.Fatal(err)
			}
			if err := data.WriteIDX(f, x.d); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
	write("train", n)
	write("t10k", 20)
	return dir
}

func toyConfig(dir string) Config {
	c := DefaultConfig()
	c.Modes = AllModes
	c.Space = Space{Depths: []int{1, 2}, Kernels: []int{1, 3}, Filters: []int{2, 4}, Strides: []int{1, 2}}
	c.Data = "idx:" + dir
	c.MaxTrain, c.Episodes, c.Children = 120, 5, 2
	c.Train.Batch = 20
	c.SpecQuantile = 0.5
	return c
}

type countingExec struct {
	Executor
	trials int
}

func (c *countingExec) Run(ctx context.Context, ts []Trial) ([]Result, error) {
	c.trials += len(ts)
	return c.Executor.Run(ctx, ts)
}

func runSearch(t *testing.T, dir string, cfg Config, stopAfter int) (*Summary, error) {
	s, err := Create(dir, cfg, NewLocal(2))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if stopAfter > 0 {
		s.Progress = &cancelAfter{n: stopAfter, cancel: cancel}
	}
	return s.Run(ctx)
}

// cancelAfter cancels the search after n episodes, as a kill would stop it.
type cancelAfter struct {
	n      int
	cancel func()
}

func (c *cancelAfter) Write(b []byte) (int, error) {
	if c.n--; c.n == 0 {
		c.cancel()
	}
	return len(b), nil
}

func TestSearchAndResume(t *testing.T) {
	data := writeToyIDX(t, 150)
	cfg := toyConfig(data)
	full := filepath.Join(t.TempDir(), "full")
	sum, err := runSearch(t, full, cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range AllModes {
		r := sum.Modes[m]
		if r.ChildrenSampled != 10 || r.ChildrenTrained+r.CacheHits+r.Rejected < 10 || r.Best == nil {
			t.Errorf("%s: %+v", m, r)
		}
	}
	co, hw := sum.Modes[ModeCoexplore], sum.Modes[ModeHWAware]
	if hw.Rejected != 0 || co.ChildrenTrained+co.Rejected+co.CacheHits != 10 {
		t.Errorf("counts: coexplore %+v hw-aware %+v", co, hw)
	}
	if !co.SpecMet || co.BestThroughput < sum.SpecThroughput {
		t.Errorf("co-exploration's best misses the spec: %+v", co)
	}
	// Interrupt a second run after 7 episodes (in the second mode), reopen.
	part := filepath.Join(t.TempDir(), "part")
	if _, err := runSearch(t, part, cfg, 7); err == nil {
		t.Fatal("interrupted search reported success")
	}
	// A kill between an episode's events and its checkpoint leaves
	// events the checkpoint does not count; they are dropped.
	lf, _ := os.OpenFile(filepath.Join(part, "log.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	lf.WriteString(`{"event":"episode","mode":"hw-aware","episode":99}` + "\n")
	lf.Close()
	s, err := Open(part, NewLocal(1))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Run(context.Background())
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range AllModes {
		a, b := sum.Modes[m], got.Modes[m]
		a.Seconds, b.Seconds = 0, 0
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: resumed %+v\nuninterrupted %+v", m, b, a)
		}
	}
	// Logs equal too, apart from times.
	la, lb := readLog(t, full), readLog(t, part)
	if len(la) != len(lb) || len(la) != 30 {
		t.Fatalf("log lengths %d %d", len(la), len(lb))
	}
	for i := range la {
		delete(la[i], "time")
		delete(lb[i], "time")
		if !reflect.DeepEqual(la[i], lb[i]) {
			t.Errorf("event %d: %v vs %v", i, la[i], lb[i])
		}
	}
	if _, err := Create(full, cfg, NewLocal(1)); err == nil {
		t.Error("Create over an existing run accepted")
	}
}

func readLog(t *testing.T, dir string) []map[string]any {
	b, err := os.ReadFile(filepath.Join(dir, "log.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestConfigErrors(t *testing.T) {
	for name, f := range map[string]func(*Config){
		"board":    func(c *Config) { c.Boards = []string{"zedboard", "nosuch"} },
		"nopool":   func(c *Config) { c.Boards = nil },
		"spec":     func(c *Config) { c.SpecThroughput = -1 },
		"episodes": func(c *Config) { c.Episodes = 0 },
		"space":    func(c *Config) { c.Space.Filters = nil },
		"mode":     func(c *Config) { c.Modes = []string{"greedy"} },
		"val":      func(c *Config) { c.ValFrac = 0 },
		"alpha":    func(c *Config) { c.Alpha = 2 },
	} {
		c := DefaultConfig()
		f(&c)
		err := c.Validate()
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if m, err := ParseModes("all"); err != nil || len(m) != 3 {
		t.Errorf("all: %v %v", m, err)
	}
	if m, err := ParseModes("hw-aware,coexplore,hw-aware"); err != nil || len(m) != 2 {
		t.Errorf("list: %v %v", m, err)
	}
}

// summary.json's designs (package run's schema) are the points as the
// checkpoint holds them, field for field.
func TestDesignJSON(t *testing.T) {
	a := Arch{Layers: []ConvLayer{{5, 8, 2}, {3, 16, 1}}}
	pool, err := fpga.ParsePool("zedboard,ultra96")
	if err != nil {
		t.Fatal(err)
	}
	d, err := fpga.Explore(a.FPGALayers([]int{1, 28, 28}), pool, 16)
	if err != nil || len(d.Stages) == 0 {
		t.Fatalf("explore: %v", err)
	}
	p := point(3, a, 0.91, d, 1000)
	want, _ := json.Marshal(p)
	got, _ := json.Marshal(p.Design())
	if string(got) != string(want) {
		t.Errorf("design JSON\n%s\nwant\n%s", got, want)
	}
	if p.Design().Arch.String() != a.String() {
		t.Errorf("arch %s, want %s", p.Design().Arch, a)
	}
}
