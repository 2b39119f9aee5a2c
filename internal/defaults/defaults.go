// Package defaults derives a configuration's defaults from its envDefault
// tags, so that a package's DefaultConfig never repeats them by hand.
package defaults

import (
	"fmt"

	"github.com/caarlos0/env/v11"
)

// FromTags is T as the environment would make it with no variable set: every
// field at its envDefault tag, the rest zero. Tags that do not parse are a
// programming error, caught by the first test that builds a default.
func FromTags[T any]() T {
	// A non-nil, empty environment: the process's own variables are not read.
	cfg, err := env.ParseAsWithOptions[T](env.Options{Environment: map[string]string{}})
	if err != nil {
		panic(fmt.Sprintf("defaults: the envDefault tags of %T do not parse: %v", cfg, err))
	}
	return cfg
}
