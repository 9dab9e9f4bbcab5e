package cost

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/run"
	"github.com/nadir-ml/nadir/tensor"
)

// latencyFormat tags the cache file so that a file of another kind is
// reported instead of silently reused.
const latencyFormat = "nadir-latency-v1"

// minRepeatTime is how long one timed repeat lasts at least: layers faster
// than this run several forward passes per repeat, so that the clock's
// resolution and call overhead do not dominate.
const minRepeatTime = 200 * time.Microsecond

// latency prices layers by their measured forward time on this machine.
type latency struct {
	path    string
	batch   int
	repeats int

	mu    sync.Mutex
	table map[string]latencyEntry // by cacheKey
	dirty bool
	// timed counts layers measured (not found in the table) by this model.
	timed int
}

// latencyEntry is one row of the cache file.
type latencyEntry struct {
	Batch int          `json:"batch"`
	Layer nn.LayerSpec `json:"layer"`
	MS    float64      `json:"ms"`
}

type latencyFile struct {
	Format  string         `json:"format"`
	Entries []latencyEntry `json:"entries"`
}

func newLatency(opts Options) (*latency, error) {
	m := &latency{path: opts.LatencyCache, batch: opts.Batch, repeats: opts.Repeats, table: map[string]latencyEntry{}}
	if m.batch == 0 {
		m.batch = 32
	}
	if m.repeats == 0 {
		m.repeats = 5
	}
	if m.batch < 0 {
		return nil, fmt.Errorf("latency cost: batch %d is negative", m.batch)
	}
	if m.repeats < 0 {
		return nil, fmt.Errorf("latency cost: repeats %d is negative", m.repeats)
	}
	if m.path == "" {
		return m, nil
	}
	b, err := os.ReadFile(m.path)
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("latency cache: %w", err)
	}
	var f latencyFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("latency cache %s is corrupt: %v", m.path, err)
	}
	if f.Format != latencyFormat {
		return nil, fmt.Errorf("latency cache %s: format %q, want %q", m.path, f.Format, latencyFormat)
	}
	for i, e := range f.Entries {
		if e.Batch <= 0 || e.Layer.Kind == "" || math.IsNaN(e.MS) || math.IsInf(e.MS, 0) || e.MS < 0 {
			return nil, fmt.Errorf("latency cache %s is corrupt: entry %d (batch %d, layer %q, %v ms) is invalid", m.path, i, e.Batch, e.Layer.Kind, e.MS)
		}
		k, err := cacheKey(e.Batch, e.Layer)
		if err != nil {
			return nil, fmt.Errorf("latency cache %s: entry %d: %v", m.path, i, err)
		}
		m.table[k] = e
	}
	return m, nil
}

func cacheKey(batch int, s nn.LayerSpec) (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d %s", batch, b), nil
}

func (m *latency) Name() string { return "latency" }

// Neuron spreads the time of every layer in the unit's chain (producer,
// followers, consumer) evenly over the producer's units: a layer's time is
// taken as linear in its channel count, which holds for the GEMM- and
// loop-bound kernels here once the layer is big enough to amortise its
// fixed overhead.
func (m *latency) Neuron(net *nn.Net, li int) (float64, error) {
	units, layers, _, err := chainLayers(net, li)
	if err != nil {
		return 0, fmt.Errorf("latency cost: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var t float64
	for _, j := range layers {
		ms, err := m.layerMS(net, j)
		if err != nil {
			return 0, err
		}
		t += ms
	}
	return t / float64(units), m.save()
}

// Total is the sum of all layers' times: the forward latency of one batch.
func (m *latency) Total(net *nn.Net) (float64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var t float64
	for j := range net.Layers {
		ms, err := m.layerMS(net, j)
		if err != nil {
			return 0, err
		}
		t += ms
	}
	return t, m.save()
}

// layerMS looks layer j up in the table, timing it when it is new.
func (m *latency) layerMS(net *nn.Net, j int) (float64, error) {
	s := net.Layers[j].Spec()
	k, err := cacheKey(m.batch, s)
	if err != nil {
		return 0, fmt.Errorf("latency cost: layer %d (%s): %v", j, s.Kind, err)
	}
	if e, ok := m.table[k]; ok {
		return e.MS, nil
	}
	ms, err := timeLayer(s, m.batch, m.repeats)
	if err != nil {
		return 0, fmt.Errorf("latency cost: layer %d (%s): %w", j, s.Kind, err)
	}
	m.timed++
	m.table[k] = latencyEntry{Batch: m.batch, Layer: s, MS: ms}
	m.dirty = true
	return ms, nil
}

// timeLayer measures the median evaluation-mode forward time, in
// milliseconds, of a fresh layer built from s on a batch of random inputs.
// A copy is timed, not the network's own layer, so that the network's
// cached activations stay as training left them.
func timeLayer(s nn.LayerSpec, batch, repeats int) (float64, error) {
	net, err := nn.Build(nn.NetSpec{In: s.In, Layers: []nn.LayerSpec{s}}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		return 0, err
	}
	x := tensor.New(append([]int{batch}, s.In...)...)
	r := rand.New(rand.NewPCG(2, 2))
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	// Warm-up: allocates the layer's buffers and faults in its memory; its
	// duration also sets how many passes make one timed repeat.
	start := time.Now()
	net.Forward(x, false)
	inner := 1
	if d := time.Since(start); d < minRepeatTime {
		inner = int(min(1000, minRepeatTime/max(d, time.Nanosecond)))
	}
	ts := make([]float64, repeats)
	for i := range ts {
		start := time.Now()
		for range inner {
			net.Forward(x, false)
		}
		ts[i] = float64(time.Since(start).Nanoseconds()) / 1e6 / float64(inner)
	}
	slices.Sort(ts)
	if len(ts)%2 == 1 {
		return ts[len(ts)/2], nil
	}
	return (ts[len(ts)/2-1] + ts[len(ts)/2]) / 2, nil
}

// save writes the table when it gained entries: to a temporary file in the
// same directory, synced, then renamed over the cache, so that a crash
// leaves either the old or the new table, never a torn one.
func (m *latency) save() error {
	if !m.dirty || m.path == "" {
		return nil
	}
	f := latencyFile{Format: latencyFormat}
	keys := make([]string, 0, len(m.table))
	for k := range m.table {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		f.Entries = append(f.Entries, m.table[k])
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := run.WriteFile(m.path, append(b, '\n')); err != nil {
		return fmt.Errorf("latency cache: %w", err)
	}
	m.dirty = false
	return nil
}
