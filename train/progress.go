package train

import (
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// ProgressBar is a Hook that draws one bar per phase on w, a terminal.
type ProgressBar struct {
	w    io.Writer
	bar  *progressbar.ProgressBar
	name string
}

// NewProgress returns a progress-bar hook on stderr when stderr is a
// terminal and quiet is false, else nil (no hook).
func NewProgress(quiet bool) Hook {
	if quiet || !term.IsTerminal(int(os.Stderr.Fd())) {
		return nil
	}
	return &ProgressBar{w: os.Stderr}
}

func (p *ProgressBar) PhaseStart(name string, total int) {
	p.name = name
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(name),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionClearOnFinish(),
	)
}

func (p *ProgressBar) StepDone(done int, loss float64) {
	if p.bar == nil {
		return
	}
	if loss != 0 {
		// The phase's name stays: "epoch 3  loss 0.4123".
		p.bar.Describe(fmt.Sprintf("%s  loss %.4f", p.name, loss))
	}
	p.bar.Set(done)
}

func (p *ProgressBar) PhaseEnd() {
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
}

// Hooks returns the non-nil hooks.
func Hooks(hs ...Hook) []Hook {
	var out []Hook
	for _, h := range hs {
		if h != nil {
			if pb, ok := h.(*ProgressBar); ok && pb == nil {
				continue
			}
			out = append(out, h)
		}
	}
	return out
}
