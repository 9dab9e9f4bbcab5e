package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// signalError is the cause of a context cancelled by a signal.
type signalError struct{ sig syscall.Signal }

func (e signalError) Error() string { return "received " + e.sig.String() }

// signalContext returns a context that the first SIGINT or SIGTERM
// cancels: a run then stops at its next safe point (the next training step
// or growth phase), checkpoints, and returns; interrupted turns its error
// into the exit status. A second signal exits at once with the same
// status. That is safe at any moment: checkpoints, configs and summaries
// are replaced by atomic rename, and resume cuts the event log back to
// the length the last checkpoint recorded.
func signalContext(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		first := true
		for {
			select {
			case <-done:
				return
			case s := <-ch:
				sig, _ := s.(syscall.Signal)
				if !first {
					fmt.Fprintf(os.Stderr, "nadir: second signal (%v): exiting now; the last checkpoint is intact\n", s)
					os.Exit(128 + int(sig))
				}
				first = false
				cancel(signalError{sig})
			}
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

// interrupted returns, for the error of a run that a signal stopped, the
// error that exits with status 128+signal (130 for SIGINT, 143 for
// SIGTERM) and says in one line how to go on; for any other error, nil.
// dir is the run directory that `nadir resume` continues.
func interrupted(ctx context.Context, err error, dir string) error {
	var se signalError
	if err == nil || !errors.Is(err, context.Canceled) || !errors.As(context.Cause(ctx), &se) {
		return nil
	}
	return &exitError{code: 128 + int(se.sig), err: fmt.Errorf("interrupted; resume with: nadir resume %s", dir)}
}
