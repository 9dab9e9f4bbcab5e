package cost

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/nadir-ml/nadir/option"
)

// Budget caps the final network's Total under the cost model named by Kind,
// in that model's units (parameters, MACs per example, the energy proxy,
// milliseconds per batch).
type Budget struct {
	Kind  string
	Value float64
}

// ParseBudget reads a budget of the form kind=value, such as "macs=2e6",
// "params=50000", "energy=1e4" or "latency=3.5". Errors are
// *option.Error of the field "budget".
func ParseBudget(s string) (Budget, error) {
	kind, val, ok := strings.Cut(strings.TrimSpace(s), "=")
	if !ok {
		return Budget{}, option.Errorf("budget", s, "want kind=value, e.g. macs=2e6 (kinds %v)", kinds)
	}
	kind = strings.TrimSpace(kind)
	if !slices.Contains(kinds, kind) {
		return Budget{}, option.Errorf("budget", s, "unknown cost kind %q (want one of %v)", kind, kinds)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
	if err != nil {
		return Budget{}, option.Errorf("budget", s, "value %q is not a number", val)
	}
	if !(v > 0) || math.IsInf(v, 0) {
		return Budget{}, option.Errorf("budget", s, "value must be positive and finite, got %v", v)
	}
	return Budget{Kind: kind, Value: v}, nil
}

// String formats the budget as ParseBudget reads it.
func (b Budget) String() string {
	return b.Kind + "=" + strconv.FormatFloat(b.Value, 'g', -1, 64)
}
