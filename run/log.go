package run

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// LogFile is the event log's name in a run directory.
const LogFile = "log.jsonl"

// Log is a run's append-only log.jsonl: one event per line. Checkpoints
// record its length, and a resumed run first truncates it to that length,
// so events written after the last checkpoint by a killed process are not
// duplicated.
type Log struct {
	path string
	f    *os.File
	size int64
	now  func() time.Time
}

// OpenLog opens (creating) path for appending, truncated to size when
// size >= 0.
func OpenLog(path string, size int64) (*Log, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, &WriteError{Path: path, Err: err}
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
		return nil, fmt.Errorf("%s: log has %d bytes, the checkpoint expects %d", path, st.Size(), size)
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return nil, &WriteError{Path: path, Err: err}
	}
	if _, err := f.Seek(size, 0); err != nil {
		f.Close()
		return nil, err
	}
	return &Log{path: path, f: f, size: size, now: time.Now}, nil
}

// Append writes one event as a line. A failed write is cut back off the
// file, so the log never holds a torn line the program goes on after.
// Appending to a nil Log does nothing (a trainer without a run directory).
func (l *Log) Append(e Event) error {
	if l == nil {
		return nil
	}
	b, err := encodeLine(e, l.now())
	if err != nil {
		return err
	}
	n, err := faulty(l.path, l.f).Write(b)
	if err != nil {
		if n > 0 {
			l.f.Truncate(l.size)
			l.f.Seek(l.size, 0)
		}
		return &WriteError{Path: l.path, Err: err}
	}
	l.size += int64(n)
	return nil
}

// Size is the log's length in bytes, what a checkpoint records.
func (l *Log) Size() int64 {
	if l == nil {
		return 0
	}
	return l.size
}

// Sync flushes the log to stable storage (before a checkpoint names its size).
func (l *Log) Sync() error {
	if l == nil {
		return nil
	}
	if err := l.f.Sync(); err != nil {
		return &WriteError{Path: l.path, Err: err}
	}
	return nil
}

// Close closes the file.
func (l *Log) Close() error {
	if l == nil {
		return nil
	}
	return l.f.Close()
}

// ReadLog decodes every line of a log.jsonl file. A last line without its
// newline (a write cut short by a kill) is ignored, as a resume would cut
// it; any other undecodable line is an error naming its number.
func ReadLog(path string) ([]Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: missing", path)
		}
		return nil, err
	}
	var out []Record
	line := 0
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		line++
		r, err := decodeLine(b[:i])
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %v", path, line, err)
		}
		r.Line = line
		out = append(out, r)
		b = b[i+1:]
	}
	return out, nil
}
