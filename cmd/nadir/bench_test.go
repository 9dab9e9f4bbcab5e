package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/nadir-ml/nadir/internal/perf"
)

// TestBenchJSON: `nadir bench --reps 1 --json` ends with one JSON object
// holding every figure, each finite and positive.
func TestBenchJSON(t *testing.T) {
	var out bytes.Buffer
	if err := runBench(context.Background(), []string{"--reps", "1", "--steps", "1", "--json"}, &out, true); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) != 1+len(perf.Keys)+1 {
		t.Errorf("want a header, %d figure lines and the JSON line; got:\n%s", len(perf.Keys), out.String())
	}
	var fig map[string]float64
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &fig); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	if len(fig) != len(perf.Keys) {
		t.Errorf("JSON has %d keys, want %d: %v", len(fig), len(perf.Keys), fig)
	}
	for _, k := range perf.Keys {
		if v, ok := fig[k]; !ok || !(v > 0) || math.IsInf(v, 0) {
			t.Errorf("%s = %v (present %t); want a finite positive figure", k, v, ok)
		}
	}
}

func TestBenchBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--reps", "0"}, {"--steps", "-1"}, {"extra"}, {"--reps", "x"}} {
		var out bytes.Buffer
		err := runBench(context.Background(), args, &out, true)
		if err == nil {
			t.Errorf("%v accepted", args)
			continue
		}
		if want := strings.TrimLeft(args[0], "-"); !strings.Contains(err.Error(), want) {
			t.Errorf("%v: error %q does not name %q", args, err, want)
		}
		if _, ok := err.(*exitError); ok {
			t.Errorf("%v: bad input must exit 2, got a runtime failure", args)
		}
	}
}
