package cost

import "testing"

func TestParseBudget(t *testing.T) {
	good := []struct {
		in   string
		want Budget
	}{
		{"macs=2e6", Budget{"macs", 2e6}},
		{"params=50000", Budget{"params", 50000}},
		{"energy=1e4", Budget{"energy", 1e4}},
		{" latency = 3.5 ", Budget{"latency", 3.5}},
	}
	for _, c := range good {
		b, err := ParseBudget(c.in)
		if err != nil || b != c.want {
			t.Errorf("ParseBudget(%q) = %v, %v; want %v", c.in, b, err, c.want)
		}
		if r, err := ParseBudget(b.String()); err != nil || r != b {
			t.Errorf("%v does not round-trip: %v, %v", b, r, err)
		}
	}
	for _, s := range []string{"", "macs", "macs:2e6", "flops=1e6", "=5", "macs=", "macs=abc",
		"macs=0", "params=-3", "energy=NaN", "latency=Inf", "macs=1e400"} {
		if b, err := ParseBudget(s); err == nil {
			t.Errorf("ParseBudget(%q) = %v, want an error", s, b)
		}
	}
}
