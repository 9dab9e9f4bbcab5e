// Package option holds what nadir's configurable packages share to check
// their configurations: Error, a configuration error that names the field
// at fault (so that the CLI can name its flag instead), and Choice, the
// one list of valid values of a string option, from which the parser, the
// error message and the CLI's help text are all made.
package option
