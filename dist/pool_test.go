package dist_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/nadir-ml/nadir/dist"
)

func TestPoolInterruptedTrialIsRerunFromScratch(t *testing.T) {
	reg := dist.NewRegistry()
	var calls atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	reg.Register("step", func(ctx context.Context, tr dist.Trial, dir string) ([]byte, error) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		if _, err := os.Stat(filepath.Join(dir, "partial")); err == nil {
			return nil, errors.New("a partial file of the interrupted attempt survived")
		}
		if calls.Add(1) == 1 {
			os.WriteFile(filepath.Join(dir, "partial"), nil, 0o644)
			cancel() // interrupted mid-trial
			return nil, ctx.Err()
		}
		return []byte(`{"ok":true}`), nil
	})
	dir := t.TempDir()
	trials := []dist.Trial{{Command: "step", Seed: 1}}
	p := &dist.Pool{Workers: 1, Registry: reg}
	if _, err := p.Execute(ctx, dir, trials, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted Execute: %v", err)
	}
	if r, _ := dist.ReadResult(dir, trials[0].ID()); r != nil {
		t.Fatalf("an interrupted trial left a result: %+v", r)
	}
	res, err := p.Execute(context.Background(), dir, trials, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != dist.Done || string(res[0].Summary) != `{"ok":true}` {
		t.Fatalf("resumed trial: %+v", res[0])
	}
}

func TestPoolFailures(t *testing.T) {
	reg := dist.NewRegistry()
	reg.Register("panic", func(context.Context, dist.Trial, string) ([]byte, error) { panic("kernel bug") })
	reg.Register("notjson", func(context.Context, dist.Trial, string) ([]byte, error) { return []byte("{"), nil })
	res, err := (&dist.Pool{Registry: reg}).Execute(context.Background(), t.TempDir(),
		[]dist.Trial{{Command: "panic"}, {Command: "notjson"}, {Command: "nosuch"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"panic: kernel bug", "not JSON", `unknown command "nosuch" (registered: notjson, panic)`} {
		if res[i].Status != dist.Failed || !strings.Contains(res[i].Error, want) {
			t.Errorf("trial %d: %s %q, want failed with %q", i, res[i].Status, res[i].Error, want)
		}
	}
	// A failed trial is retried by the next Execute.
	reg.Register("nosuch", func(context.Context, dist.Trial, string) ([]byte, error) { return []byte("1"), nil })
	dir := t.TempDir()
	(&dist.Pool{Registry: dist.NewRegistry()}).Execute(context.Background(), dir, []dist.Trial{{Command: "nosuch"}}, nil)
	res, _ = (&dist.Pool{Registry: reg}).Execute(context.Background(), dir, []dist.Trial{{Command: "nosuch"}}, nil)
	if res[0].Status != dist.Done {
		t.Errorf("failed trial not retried: %+v", res[0])
	}
}
