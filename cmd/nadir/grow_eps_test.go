package main

import (
	"flag"
	"testing"

	"github.com/nadir-ml/nadir/grow"
)

// The relative step is the default; an explicit --eps alone means the
// absolute step, and both given keep the relative one.
func TestEpsChoice(t *testing.T) {
	for _, c := range []struct {
		args []string
		want float64
	}{
		{nil, 0.1},
		{[]string{"--eps", "0.05"}, 0},
		{[]string{"--eps-rel", "0.3"}, 0.3},
		{[]string{"--eps", "0.05", "--eps-rel", "0.2"}, 0.2},
	} {
		fs := flag.NewFlagSet("grow", flag.ContinueOnError)
		var g grow.Config
		fs.Float64Var(&g.Eps, "eps", 0.01, "")
		fs.Float64Var(&g.EpsRel, "eps-rel", 0.1, "")
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		epsChoice(fs, &g)
		if g.EpsRel != c.want {
			t.Fatalf("%v: eps-rel %v, want %v", c.args, g.EpsRel, c.want)
		}
	}
}
