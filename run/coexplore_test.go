package run

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// The co-exploration summary's schema holds every field nadir coexplore
// writes: the golden run's summary.json reads and writes back unchanged.
func TestCoexploreSummaryRoundTrip(t *testing.T) {
	dir := "../testdata/coexplore/run"
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var s CoexploreSummary
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		t.Fatal(err)
	}
	if s.Command != "coexplore" || len(s.Modes) != 3 || s.Modes["coexplore"].Best == nil || len(s.Modes["coexplore"].Best.Stages) == 0 {
		t.Fatalf("summary %+v", s)
	}
	back, _ := json.Marshal(s)
	var want bytes.Buffer
	json.Compact(&want, b)
	if !bytes.Equal(back, want.Bytes()) {
		t.Errorf("round trip:\n%s\nwant\n%s", back, want.Bytes())
	}
	if got := s.Modes["coexplore"].Best.Arch.String(); got != "[[1,4,2]]" {
		t.Errorf("arch %s", got)
	}
	// The run reads as a run directory too, its episodes typed.
	r, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if eps := Events[Episode](r.Records); len(eps) != 18 || r.Summary.Command != "coexplore" {
		t.Errorf("%d episodes, command %q", len(eps), r.Summary.Command)
	}
}
