package train

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// EventLog is the run's append-only log.jsonl: one JSON object per line
// (epoch metrics, growth events, ...). Checkpoints record its length, and a
// resumed run first truncates it to that length, so events written after
// the last checkpoint by a killed process are not duplicated.
type EventLog struct {
	path string
	f    *os.File
	size int64
}

// OpenEventLog opens (creating) path for appending, truncated to size when
// size >= 0.
func OpenEventLog(path string, size int64) (*EventLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if size < 0 {
		size = st.Size()
	} else if size > st.Size() {
		f.Close()
		return nil, fmt.Errorf("%s: log has %d bytes, checkpoint expects %d", path, st.Size(), size)
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(size, 0); err != nil {
		f.Close()
		return nil, err
	}
	return &EventLog{path: path, f: f, size: size}, nil
}

// Append writes one event; fields are merged with "event" and "time".
func (l *EventLog) Append(event string, fields map[string]any) error {
	if l == nil {
		return nil
	}
	m := make(map[string]any, len(fields)+2)
	for k, v := range fields {
		m[k] = v
	}
	m["event"] = event
	m["time"] = time.Now().UTC().Format(time.RFC3339Nano)
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	n, err := l.f.Write(b)
	l.size += int64(n)
	return err
}

// Size is the log's length in bytes, what a checkpoint records.
func (l *EventLog) Size() int64 {
	if l == nil {
		return 0
	}
	return l.size
}

// Sync flushes the log to stable storage (before a checkpoint names its size).
func (l *EventLog) Sync() error {
	if l == nil {
		return nil
	}
	return l.f.Sync()
}

// Close closes the file.
func (l *EventLog) Close() error {
	if l == nil {
		return nil
	}
	return l.f.Close()
}

// ReadEvents loads every event of a log.jsonl file.
func ReadEvents(path string) ([]map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	start := 0
	for i, c := range b {
		if c != '\n' {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(b[start:i], &m); err != nil {
			return nil, fmt.Errorf("%s: line %d: %v", path, len(out)+1, err)
		}
		out = append(out, m)
		start = i + 1
	}
	return out, nil
}
