package run

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestWriteFileFaultKeepsOld(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.json")
	if err := WriteFile(p, []byte("old")); err != nil {
		t.Fatal(err)
	}
	restore := InjectFault(func(string) error { return errors.New("no space left on device") })
	err := WriteFile(p, []byte("new content"))
	restore()
	var we *WriteError
	if !errors.As(err, &we) || we.Path != p {
		t.Fatalf("err = %v, want a *WriteError naming %s", err, p)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Fatalf("file holds %q after a failed write", b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
}

func TestLogRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), LogFile)
	l, err := OpenLog(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	pred := 0.25
	in := []Event{
		Epoch{Epoch: 1, TrainLoss: 0.5, Params: 10, Stopped: true},
		Split{Round: 1, Layer: 2, Scheme: "fast", Predicted: &pred},
		GrowStep{Round: 1, Candidates: 3, Selected: 2, Splits: 1},
		Round{Round: 1, Widths: []int{4, 5}},
		Final{TestAccuracy: 0.9},
	}
	for _, e := range in {
		if err := l.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	size := l.Size()
	l.Append(Prune{Round: 2})
	l.Close()
	// Reopened at the checkpoint's size, the later event is gone.
	l, err = OpenLog(p, size)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	recs, err := ReadLog(p)
	if err != nil {
		t.Fatal(err)
	}
	var got []Event
	for i, r := range recs {
		if r.Line != i+1 || r.Version != 1 || r.Time.IsZero() {
			t.Errorf("record %d: line %d version %d time %v", i, r.Line, r.Version, r.Time)
		}
		got = append(got, r.Event)
	}
	if !reflect.DeepEqual(got, in) {
		t.Fatalf("read back %+v\nwant %+v", got, in)
	}
	if e := Events[Epoch](recs); len(e) != 1 || e[0].Epoch != 1 {
		t.Fatalf("Events[Epoch] = %+v", e)
	}
	b, _ := os.ReadFile(p)
	if !bytes.HasPrefix(b, []byte(`{"event":"epoch","v":1,"time":"`)) {
		t.Fatalf("line header: %s", b[:40])
	}
}

func TestReadLogTolerance(t *testing.T) {
	p := filepath.Join(t.TempDir(), LogFile)
	// A log of the layout before versions (keys sorted, no "v"), a kind
	// this program does not know, and a torn last line.
	os.WriteFile(p, []byte(`{"epoch":1,"event":"epoch","lr":0.1,"time":"2026-01-02T03:04:05Z","train_loss":0.5}
{"event":"firefly","time":"2026-01-02T03:04:05Z","x":1}
{"event":"epoch","epoch":2,"tra`), 0o644)
	recs, err := ReadLog(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2 (torn line dropped)", len(recs))
	}
	if e, ok := recs[0].Event.(Epoch); !ok || e.LR != 0.1 || e.TrainLoss != 0.5 || recs[0].Version != 1 {
		t.Fatalf("old-layout epoch: %+v", recs[0])
	}
	if u, ok := recs[1].Event.(Unknown); !ok || u.Kind() != "firefly" {
		t.Fatalf("unknown kind: %+v", recs[1])
	}
	bad := map[string]string{
		`{"event":"epoch","v":9,"epoch":1}`:    "newer",
		`{"event":"epoch","epoch":"one"}`:      "epoch event",
		`{"epoch":1}`:                          `no "event"`,
		`not json`:                             "line 1",
		`{"event":"epoch","time":"yesterday"}`: "time",
	}
	for line, want := range bad {
		os.WriteFile(p, []byte(line+"\n"), 0o644)
		if _, err := ReadLog(p); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%s: err = %v, want one naming line 1 and %q", line, err, want)
		}
	}
}

func TestLogAppendFault(t *testing.T) {
	p := filepath.Join(t.TempDir(), LogFile)
	l, _ := OpenLog(p, 0)
	defer l.Close()
	l.Append(Final{TestAccuracy: 1})
	size := l.Size()
	restore := InjectFault(func(string) error { return errors.New("disk full") })
	err := l.Append(Epoch{Epoch: 3})
	restore()
	var we *WriteError
	if !errors.As(err, &we) {
		t.Fatalf("err = %v", err)
	}
	if st, _ := os.Stat(p); st.Size() != size || l.Size() != size {
		t.Fatalf("log is %d bytes after a failed append, want %d", st.Size(), size)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	Register[Epoch]()
}

func TestCheckpointDamageDetected(t *testing.T) {
	c := &Checkpoint{LogSize: 1234, State: []byte("the trainer's state, opaque here")}
	b := EncodeCheckpoint(c)
	got, err := DecodeCheckpoint(b)
	if err != nil || got.LogSize != c.LogSize || !bytes.Equal(got.State, c.State) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for i := range b {
		for bit := 0; bit < 8; bit++ {
			d := append([]byte(nil), b...)
			d[i] ^= 1 << bit
			if _, err := DecodeCheckpoint(d); err == nil {
				t.Fatalf("flipping bit %d of byte %d went undetected", bit, i)
			}
		}
	}
	for n := 0; n < len(b); n++ {
		if _, err := DecodeCheckpoint(b[:n]); err == nil {
			t.Fatalf("truncation to %d bytes went undetected", n)
		}
	}
}

// newRun makes a run directory with two checkpoints (log sizes s1 < s2).
func newRun(t *testing.T) (dir string, s1, s2 int64) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "run")
	d, err := Create(dir, Config{Command: "train", Model: "mlp:4"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.Log.Append(Epoch{Epoch: 1})
	if err := d.SaveCheckpoint([]byte("one"), ""); err != nil {
		t.Fatal(err)
	}
	s1 = d.Log.Size()
	d.Log.Append(Epoch{Epoch: 2})
	if err := d.SaveCheckpoint([]byte("two"), "round-1.ckpt"); err != nil {
		t.Fatal(err)
	}
	s2 = d.Log.Size()
	d.Log.Append(Epoch{Epoch: 3}) // after the last checkpoint: cut on resume
	return dir, s1, s2
}

func TestResumeLatest(t *testing.T) {
	dir, _, s2 := newRun(t)
	d, ck, err := Resume(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if string(ck.State) != "two" || ck.LogSize != s2 || ck.Warning != "" || d.Log.Size() != s2 {
		t.Fatalf("resumed %q at %d (log %d), warning %q", ck.State, ck.LogSize, d.Log.Size(), ck.Warning)
	}
	if d.Config.Format != Format || d.Config.Model != "mlp:4" {
		t.Fatalf("config %+v", d.Config)
	}
	if c, err := ReadCheckpoint(filepath.Join(dir, CkptDir, "round-1.ckpt")); err != nil || string(c.State) != "two" {
		t.Fatalf("named copy: %v", err)
	}
}

func TestResumeFallsBack(t *testing.T) {
	damage := map[string]func(p string){
		"bit flip": func(p string) {
			b, _ := os.ReadFile(p)
			b[len(b)-2] ^= 4
			os.WriteFile(p, b, 0o644)
		},
		"truncated": func(p string) {
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)-1], 0o644)
		},
		"missing": func(p string) { os.Remove(p) },
	}
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			dir, s1, _ := newRun(t)
			f(filepath.Join(dir, CkptDir, LastCkpt))
			d, ck, err := Resume(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if string(ck.State) != "one" || d.Log.Size() != s1 {
				t.Fatalf("resumed %q with log %d, want the previous checkpoint at %d", ck.State, d.Log.Size(), s1)
			}
			if !strings.Contains(ck.Warning, "prev.ckpt") || strings.Contains(ck.Warning, "\n") {
				t.Fatalf("warning %q", ck.Warning)
			}
			recs, _ := ReadLog(filepath.Join(dir, LogFile))
			if len(recs) != 1 {
				t.Fatalf("%d events after falling back, want 1", len(recs))
			}
		})
	}
	t.Run("both damaged", func(t *testing.T) {
		dir, _, _ := newRun(t)
		os.WriteFile(filepath.Join(dir, CkptDir, LastCkpt), []byte("NADIRCK2junk"), 0o644)
		os.Remove(filepath.Join(dir, CkptDir, PrevCkpt))
		if _, _, err := Resume(dir); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("err = %v, want ErrCorrupt", err)
		}
	})
}

func TestSaveFaultKeepsLast(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	d, err := Create(dir, Config{Command: "train"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.SaveCheckpoint([]byte("good"), ""); err != nil {
		t.Fatal(err)
	}
	restore := InjectFault(func(p string) error {
		if strings.HasSuffix(p, ".ckpt") {
			return errors.New("read-only file system")
		}
		return nil
	})
	err = d.SaveCheckpoint([]byte("newer"), "")
	restore()
	var we *WriteError
	if !errors.As(err, &we) {
		t.Fatalf("err = %v, want *WriteError", err)
	}
	c, err := ReadCheckpoint(filepath.Join(dir, CkptDir, LastCkpt))
	if err != nil || string(c.State) != "good" {
		t.Fatalf("last checkpoint after a failed save: %v %v", c, err)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, CkptDir))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestLockRefusesSecondWriter(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	d, err := Create(dir, Config{Command: "train"})
	if err != nil {
		t.Fatal(err)
	}
	d.SaveCheckpoint(nil, "")
	_, _, err = Resume(dir)
	var le *LockedError
	if !errors.As(err, &le) || le.PID != os.Getpid() || strings.Contains(err.Error(), "\n") {
		t.Fatalf("second writer: err = %v", err)
	}
	if _, err := Create(dir, Config{}); !errors.Is(err, ErrExists) {
		t.Fatalf("create over a run: %v", err)
	}
	d.Close()
	d2, _, err := Resume(dir)
	if err != nil {
		t.Fatalf("after Close: %v", err)
	}
	d2.Close()
}

func TestReadNewerFormat(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ConfigFile), []byte(`{"format":99,"command":"train"}`), 0o644)
	if _, err := ReadConfig(dir); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("err = %v", err)
	}
}
