package run

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Event is one kind of line of log.jsonl. Each kind is a Go struct whose
// JSON fields are the line's fields; Kind names it (the line's "event").
// The keys "event", "v" and "time" are the line header and must not be
// used as field names.
type Event interface {
	Kind() string
}

// Versioned is implemented by an event kind whose fields have changed
// since version 1; its Version is written in each line's "v". A kind
// without the method is version 1.
type Versioned interface {
	Version() int
}

// Unknown is a line of a kind this program has not registered (written by
// a newer nadir, or by a producer whose package is not linked in). Readers
// skip it; its fields are kept raw.
type Unknown struct {
	Name   string
	Fields json.RawMessage
}

// Kind is the line's "event".
func (u Unknown) Kind() string { return u.Name }

type kindInfo struct {
	version int
	decode  func([]byte) (Event, error)
}

var (
	regMu    sync.RWMutex
	registry = map[string]kindInfo{}
)

// Register makes kind T readable by ReadLog: lines whose "event" is
// T{}.Kind() decode into a T. Every kind is registered once, in the init of
// the file that declares it; registering a kind twice panics.
func Register[T Event]() {
	var zero T
	kind := zero.Kind()
	switch kind {
	case "":
		panic("run: Register: empty event kind")
	}
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[kind]; dup {
		panic("run: event kind " + strconv.Quote(kind) + " registered twice")
	}
	registry[kind] = kindInfo{version: versionOf(zero), decode: func(b []byte) (Event, error) {
		var v T
		err := json.Unmarshal(b, &v)
		return v, err
	}}
}

// Kinds lists the registered event kinds, sorted.
func Kinds() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func versionOf(e Event) int {
	if v, ok := e.(Versioned); ok {
		return v.Version()
	}
	return 1
}

// Record is one line of log.jsonl, decoded.
type Record struct {
	Line    int       // 1-based line number
	Version int       // the line's "v" (1 when absent: logs before versions)
	Time    time.Time // when it was written
	Event   Event     // the typed event, or Unknown
}

// header is what every line carries besides its fields.
type header struct {
	Event   string `json:"event"`
	Version int    `json:"v"`
	Time    string `json:"time"`
}

// encodeLine renders e as one log line: the header first, then e's fields.
func encodeLine(e Event, now time.Time) ([]byte, error) {
	body, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("%s event: %v", e.Kind(), err)
	}
	if len(body) < 2 || body[0] != '{' {
		return nil, fmt.Errorf("%s event: not a JSON object", e.Kind())
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"event":%s,"v":%d,"time":%q`, strconv.Quote(e.Kind()), versionOf(e), now.UTC().Format(time.RFC3339Nano))
	if len(body) > 2 {
		b.WriteByte(',')
		b.Write(body[1:])
	} else {
		b.WriteByte('}')
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// decodeLine decodes one line (without its newline).
func decodeLine(line []byte) (Record, error) {
	var h header
	if err := json.Unmarshal(line, &h); err != nil {
		return Record{}, err
	}
	if h.Event == "" {
		return Record{}, fmt.Errorf(`no "event" field`)
	}
	if h.Version == 0 {
		h.Version = 1
	}
	r := Record{Version: h.Version}
	if h.Time != "" {
		t, err := time.Parse(time.RFC3339Nano, h.Time)
		if err != nil {
			return Record{}, fmt.Errorf("time: %v", err)
		}
		r.Time = t
	}
	regMu.RLock()
	info, ok := registry[h.Event]
	regMu.RUnlock()
	if !ok {
		r.Event = Unknown{Name: h.Event, Fields: append(json.RawMessage(nil), line...)}
		return r, nil
	}
	if h.Version > info.version {
		return Record{}, fmt.Errorf("%s event version %d is newer than this program reads (%d)", h.Event, h.Version, info.version)
	}
	e, err := info.decode(line)
	if err != nil {
		return Record{}, fmt.Errorf("%s event: %v", h.Event, err)
	}
	r.Event = e
	return r, nil
}

// Events returns the events of kind T among recs, in log order.
func Events[T Event](recs []Record) []T {
	var out []T
	for _, r := range recs {
		if e, ok := r.Event.(T); ok {
			out = append(out, e)
		}
	}
	return out
}
