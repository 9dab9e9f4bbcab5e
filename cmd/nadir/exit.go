package main

import (
	"context"
	"errors"

	"github.com/nadir-ml/nadir/run"
	"github.com/nadir-ml/nadir/train"
)

// Exit codes (the README's table): bad input is the default, so an error a
// library returns for a flag or a file the user gave exits 2; the errors of
// things that went wrong while running are recognised by type.
const (
	exitFailure   = 1   // run-time failure: a write failed, training diverged, the directory is in use
	exitBadInput  = 2   // flags, arguments, data or run directories that cannot be used
	exitInterrupt = 130 // SIGINT (128+2)
	exitTerm      = 143 // SIGTERM (128+15)
)

// exitCode maps an error to the process's exit status.
func exitCode(err error) int {
	var ee *exitError
	var we *run.WriteError
	var le *run.LockedError
	var de *train.DivergedError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &we), errors.As(err, &le), errors.As(err, &de):
		return exitFailure
	case errors.Is(err, context.Canceled):
		return exitInterrupt
	}
	return exitBadInput
}
