// Command nadir grows neural networks by steepest descent in function
// space: train, grow, inspect and resume runs; see `nadir help`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
)

// command is one subcommand: flags in, library calls, results out.
type command struct {
	run   func(ctx context.Context, args []string) error
	usage string
}

var commands = map[string]command{}

func register(name, usage string, run func(ctx context.Context, args []string) error) {
	commands[name] = command{run: run, usage: usage}
}

// exitError carries a non-default exit code (runtime failures are 1; bad
// input is 2).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func failed(err error) error { return &exitError{code: 1, err: err} }

func usage(w io.Writer) {
	fmt.Fprintln(w, "nadir: neural architecture descent\n\nusage: nadir COMMAND [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].usage)
	}
	fmt.Fprintln(w, "\n`nadir COMMAND -h` lists a command's flags.")
}

func main() {
	os.Exit(realMain(os.Args[1:]))
}

func realMain(args []string) int {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(os.Stdout)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "nadir: unknown command %q (see `nadir help`)\n", args[0])
		return 2
	}
	ctx, stop := signalContext(context.Background())
	defer stop()
	err := cmd.run(ctx, args[1:])
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	fmt.Fprintf(os.Stderr, "nadir %s: %s\n", args[0], msg)
	return exitCode(err)
}

// parseFlags parses flags that may come before or after positional
// arguments (nadir eval DIR --json) and returns the positionals.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(os.Stdout)
				fmt.Fprintf(os.Stdout, "usage of nadir %s:\n", fs.Name())
				fs.PrintDefaults()
				return nil, err
			}
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
