package run

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// WriteError is a failure to write a run directory's file (disk full, a
// read-only directory, an injected fault). It is a run-time failure, not bad
// input: whatever was written before stays in place, and the file it names
// is either its old content or absent, never torn.
type WriteError struct {
	Path string
	Err  error
}

func (e *WriteError) Error() string { return fmt.Sprintf("writing %s: %v", e.Path, e.Err) }
func (e *WriteError) Unwrap() error { return e.Err }

// WriteFile writes data to path so that a crash or a failed write leaves
// either the old file or the new one, never a torn mix: a temporary file in
// the same directory, fsync, rename, fsync of the directory. It is the
// module's one atomic-write helper. Errors are *WriteError.
func WriteFile(path string, data []byte) error {
	if err := writeFile(path, data); err != nil {
		return &WriteError{Path: path, Err: err}
	}
	return nil
}

func writeFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if _, err := faulty(path, tmp).Write(data); err != nil {
		return err
	}
	// CreateTemp makes 0600 files; results are for everyone to read.
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return err
	}
	ok = true
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable; a failure only weakens durability
// against power loss, so it is not reported.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// WriteJSON writes v as indented JSON, atomically.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteFile(path, append(b, '\n'))
}

// Fault decides whether a write to path fails: it returns nil to let the
// write through, or the error the write meets after half its bytes (as a
// full disk would).
type Fault func(path string) error

var (
	faultMu sync.Mutex
	fault   Fault
)

// InjectFault routes every write of the package (atomic files and log
// appends) through f until the returned function is called. It exists for
// tests of what a caller does when a disk fills up or turns read-only, which
// a test running as root cannot provoke with permissions.
func InjectFault(f Fault) (restore func()) {
	faultMu.Lock()
	prev := fault
	fault = f
	faultMu.Unlock()
	return func() {
		faultMu.Lock()
		fault = prev
		faultMu.Unlock()
	}
}

// faulty wraps w with the injected fault, if any.
func faulty(path string, w io.Writer) io.Writer {
	faultMu.Lock()
	f := fault
	faultMu.Unlock()
	if f == nil {
		return w
	}
	return &faultWriter{w: w, err: f(path)}
}

type faultWriter struct {
	w   io.Writer
	err error
}

func (f *faultWriter) Write(p []byte) (int, error) {
	if f.err == nil {
		return f.w.Write(p)
	}
	n, _ := f.w.Write(p[:len(p)/2])
	return n, f.err
}
