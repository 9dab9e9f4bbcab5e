package option

import (
	"errors"
	"fmt"
	"strings"
)

// Error is a bad value of a configuration field. Field is the field's name
// as config.json spells it (with its section, "grow.epochs_per_round"), so
// that a library user can find it and the CLI can map it to its flag.
type Error struct {
	Field  string
	Value  any
	Reason string
}

func (e *Error) Error() string {
	if e.Value == nil {
		return e.Field + ": " + e.Reason
	}
	return fmt.Sprintf("%s %v: %s", e.Field, quote(e.Value), e.Reason)
}

func quote(v any) any {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	if s, ok := v.(fmt.Stringer); ok {
		return fmt.Sprintf("%q", s.String())
	}
	return v
}

// Errorf returns an *Error for field holding value.
func Errorf(field string, value any, format string, args ...any) *Error {
	return &Error{Field: field, Value: value, Reason: fmt.Sprintf(format, args...)}
}

// Choice is the list of valid values of an option of type T.
type Choice[T ~string] []T

// Parse returns s as a T, or an *Error naming field when s is not one of
// the choices.
func (c Choice[T]) Parse(field, s string) (T, error) {
	for _, v := range c {
		if string(v) == s {
			return v, nil
		}
	}
	return "", &Error{Field: field, Value: s, Reason: "unknown (want " + c.List("or") + ")"}
}

// Check is Parse for a value already of type T.
func (c Choice[T]) Check(field string, v T) error {
	_, err := c.Parse(field, string(v))
	return err
}

// Help lists the choices for help text: "a | b | c".
func (c Choice[T]) Help() string {
	return strings.Join(c.Strings(), " | ")
}

// List lists the choices for a sentence: "a, b or c".
func (c Choice[T]) List(conj string) string {
	s := c.Strings()
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " " + conj + " " + s[len(s)-1]
}

// Strings returns the choices as strings.
func (c Choice[T]) Strings() []string {
	out := make([]string, len(c))
	for i, v := range c {
		out[i] = string(v)
	}
	return out
}

// Within puts a field error inside section: the field "budget" of section
// "grow" becomes "grow.budget". Other errors pass unchanged.
func Within(section string, err error) error {
	var e *Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	c := *e
	c.Field = section + "." + e.Field
	return &c
}
