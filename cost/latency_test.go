package cost

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nadir-ml/nadir/nn"
)

func TestLatencyCache(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "latency.json")
	opts := Options{LatencyCache: path, Batch: 4, Repeats: 3}
	net := buildNet(t, "cnn:c4,p,f8", []int{1, 8, 8}, 3)

	m1, err := New("latency", opts)
	if err != nil {
		t.Fatal(err)
	}
	total, err := m1.Total(net)
	if err != nil {
		t.Fatal(err)
	}
	if !(total > 0) {
		t.Fatalf("total latency %v", total)
	}
	if got := m1.(*latency).timed; got != len(net.Layers) {
		t.Errorf("first model timed %d layers, want %d", got, len(net.Layers))
	}
	var f latencyFile
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("cache not written: %v", err)
	}
	if err := json.Unmarshal(b, &f); err != nil || len(f.Entries) != len(net.Layers) {
		t.Fatalf("cache has %d entries (%v), want %d", len(f.Entries), err, len(net.Layers))
	}

	// A second model on the same cache reuses every time.
	m2, err := New("latency", opts)
	if err != nil {
		t.Fatal(err)
	}
	total2, err := m2.Total(net)
	if err != nil {
		t.Fatal(err)
	}
	if total2 != total {
		t.Errorf("cached total %v, measured %v", total2, total)
	}
	for _, li := range net.Growable() {
		c, err := m2.Neuron(net, li)
		if err != nil {
			t.Fatal(err)
		}
		if !(c > 0) {
			t.Errorf("layer %d: latency per neuron %v", li, c)
		}
	}
	if got := m2.(*latency).timed; got != 0 {
		t.Errorf("second model re-timed %d layers", got)
	}

	// Growth changes shapes: only the new shapes are timed, and the table
	// on disk grows.
	li := net.Growable()[0]
	if err := net.AddUnits(li, []nn.NewUnit{{Like: -1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := m2.Neuron(net, li); err != nil {
		t.Fatal(err)
	}
	timed := m2.(*latency).timed
	if timed == 0 {
		t.Error("grown layers were not timed")
	}
	m3, err := New("latency", opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(m3.(*latency).table); got != len(net.Layers)+timed {
		t.Errorf("reloaded cache has %d entries, want %d", got, len(net.Layers)+timed)
	}
	// A different batch size is a different measurement.
	m4, _ := New("latency", Options{LatencyCache: path, Batch: 2, Repeats: 1})
	if _, err := m4.Total(net); err != nil {
		t.Fatal(err)
	}
	if m4.(*latency).timed != len(net.Layers) {
		t.Errorf("batch 2 reused batch-4 times (%d timed)", m4.(*latency).timed)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("run directory holds %d files, want only the cache", len(ents))
	}
}

func TestLatencyCorruptCache(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"truncated.json": `{"format":"nadir-latency-v1","entries":[{"batch":4`,
		"format.json":    `{"format":"something-else","entries":[]}`,
		"negative.json":  `{"format":"nadir-latency-v1","entries":[{"batch":4,"layer":{"kind":"act","in":[3]},"ms":-1}]}`,
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := New("latency", Options{LatencyCache: path})
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v does not name the file", name, err)
		}
	}
}
