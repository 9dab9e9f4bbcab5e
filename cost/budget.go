package cost

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Budget caps the final network's Total under the cost model named by Kind,
// in that model's units (parameters, MACs per example, the energy proxy,
// milliseconds per batch).
type Budget struct {
	Kind  string
	Value float64
}

// ParseBudget reads a --budget flag value of the form kind=value, such as
// "macs=2e6", "params=50000", "energy=1e4" or "latency=3.5".
func ParseBudget(s string) (Budget, error) {
	kind, val, ok := strings.Cut(strings.TrimSpace(s), "=")
	if !ok {
		return Budget{}, fmt.Errorf("--budget %q: want kind=value, e.g. macs=2e6 (kinds %v)", s, kinds)
	}
	kind = strings.TrimSpace(kind)
	if !slices.Contains(kinds, kind) {
		return Budget{}, fmt.Errorf("--budget %q: unknown cost kind %q (want one of %v)", s, kind, kinds)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
	if err != nil {
		return Budget{}, fmt.Errorf("--budget %q: value %q is not a number", s, val)
	}
	if !(v > 0) || math.IsInf(v, 0) {
		return Budget{}, fmt.Errorf("--budget %q: value must be positive and finite, got %v", s, v)
	}
	return Budget{Kind: kind, Value: v}, nil
}

// String formats the budget as ParseBudget reads it.
func (b Budget) String() string {
	return b.Kind + "=" + strconv.FormatFloat(b.Value, 'g', -1, 64)
}
