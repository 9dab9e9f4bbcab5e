package cost

import (
	"math"
	"strings"
	"testing"
)

// FuzzParseBudget reads arbitrary --budget values: an error in one line,
// or a positive finite budget of a known kind that String writes back in a
// form ParseBudget reads to the same budget.
func FuzzParseBudget(f *testing.F) {
	for _, s := range []string{"macs=2e6", "params=50000", " energy = 1e4 ", "latency=3.5", "macs=0", "macs=-1",
		"macs=NaN", "params=Inf", "flops=1", "params", "=", "macs=0x1p10", "latency=1e-320"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBudget(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of several lines: %q", err)
			}
			return
		}
		if !(b.Value > 0) || math.IsInf(b.Value, 0) {
			t.Fatalf("%q: value %v accepted", s, b.Value)
		}
		again, err := ParseBudget(b.String())
		if err != nil || again != b {
			t.Fatalf("%q → %q → %+v, %v", s, b.String(), again, err)
		}
	})
}
