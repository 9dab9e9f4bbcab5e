package run

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadLog reads arbitrary log.jsonl contents: an error naming the line
// in one line, or one record per complete line.
func FuzzReadLog(f *testing.F) {
	f.Add([]byte(`{"event":"epoch","epoch":1}` + "\n"))
	f.Add([]byte("{}\n{\"a\":[1,2,{\"b\":null}]}\n{\"trailing\""))
	f.Add([]byte(`{"event":"split","v":1,"round":"x"}` + "\n"))
	f.Add([]byte("\n\n"))
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		dir, err := os.MkdirTemp(root, "run")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, LogFile)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		recs, err := ReadLog(path)
		if err != nil {
			if !strings.Contains(err.Error(), "line") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q does not name the line in one line", err)
			}
			return
		}
		if lines := bytes.Count(b, []byte("\n")); len(recs) > lines {
			t.Fatalf("%d records from %d complete lines", len(recs), lines)
		}
	})
}

// FuzzDecodeCheckpoint decodes arbitrary checkpoint files: an error, never
// a panic or an allocation the file does not pay for.
func FuzzDecodeCheckpoint(f *testing.F) {
	f.Add(EncodeCheckpoint(&Checkpoint{LogSize: 12, State: []byte("state")}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCheckpoint(b)
		if err != nil {
			return
		}
		if c.LogSize < 0 {
			t.Fatalf("negative log size %d accepted", c.LogSize)
		}
	})
}
