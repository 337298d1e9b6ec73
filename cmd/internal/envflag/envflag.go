// Package envflag gives the commands' flags their environment-variable
// twins: a flag's default comes from its variable, and the flag given on
// the command line wins.
package envflag

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// List is a repeatable string flag whose default comes from the
// environment; the first use of the flag replaces that default.
type List struct {
	Values []string
	set    bool
}

// NewList returns a List defaulting to the comma-separated variable name.
func NewList(name string) *List { return &List{Values: Split(os.Getenv(name))} }

func (l *List) String() string { return strings.Join(l.Values, ",") }

// Set implements flag.Value.
func (l *List) Set(v string) error {
	if !l.set {
		l.Values, l.set = nil, true
	}
	l.Values = append(l.Values, v)
	return nil
}

// Split splits a comma-separated list, dropping empty entries.
func Split(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// String returns the variable name's value, or def when it is unset or empty.
func String(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Bool reports whether the variable name is set to something other than
// "", "0" or "false".
func Bool(name string) bool {
	v := strings.ToLower(os.Getenv(name))
	return v != "" && v != "0" && v != "false"
}

// Duration returns the variable name's value as a duration, or def; a
// malformed value is an error, so a typo is not silently ignored.
func Duration(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}
