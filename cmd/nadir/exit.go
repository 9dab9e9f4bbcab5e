package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nadir-ml/nadir/option"
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

// flagNames are the flags whose name is not their config field's (the
// part after the section, "_" as "-").
var flagNames = map[string]string{
	"val_frac":           "val",
	"train.weight_decay": "wd",
	"train.seed":         "seed",
}

// flagOf names the flag of a config field.
func flagOf(field string) string {
	if f, ok := flagNames[field]; ok {
		return "--" + f
	}
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		field = field[i+1:]
	}
	return "--" + strings.ReplaceAll(field, "_", "-")
}

// message is err's one line for the user: a library error naming a
// configuration field names the flag that sets it instead.
func message(err error) string {
	msg := err.Error()
	var oe *option.Error
	if errors.As(err, &oe) {
		f := *oe
		f.Field = flagOf(oe.Field)
		msg = strings.Replace(msg, oe.Error(), f.Error(), 1)
	}
	return strings.ReplaceAll(msg, "\n", "; ")
}

// createSession creates the run directory of --out.
func createSession(out string, cfg train.RunConfig) (*train.Session, error) {
	s, err := train.CreateSession(out, cfg)
	if errors.Is(err, run.ErrExists) {
		return nil, fmt.Errorf("--out %s: already holds a run (use `nadir resume %s` or another directory)", out, out)
	}
	return s, err
}

// flagError shows a library error with flags for fields (see message);
// it unwraps to the library's error.
type flagError struct{ err error }

func (e *flagError) Error() string { return message(e.err) }
func (e *flagError) Unwrap() error { return e.err }

// asFlags wraps err as a flagError (nil stays nil).
func asFlags(err error) error {
	if err == nil {
		return nil
	}
	return &flagError{err}
}
