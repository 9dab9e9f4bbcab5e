package main

import (
	"os"
	"runtime/debug"
)

// nadir's heap is almost all pointer-free float32 buffers (activations,
// splitting statistics, datasets), which a collection does not scan, so
// collecting often costs little CPU; the default GOGC=100 instead lets the
// heap, and so the peak RSS, reach twice the live data. A GOGC set in the
// environment still wins.
func init() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(30)
	}
}
