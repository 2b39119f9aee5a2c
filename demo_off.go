//go:build nodemo

package main

import (
	"context"
	"errors"
	"io"
)

// demoCmd of a build without the demo (the Docker image's): the fake drive
// and the sample content are not linked, so that their package data and code
// stay out of serve's pages (0.5 MiB of idle RSS, bench/README.md).
func demoCmd(context.Context, []string, io.Writer, io.Writer) error {
	return errors.New("demo: this binary was built without the demo (-tags nodemo, as the Docker image is); run `go run . demo` in a source checkout")
}
