// Package bench holds alilink's benchmarks of the hot paths (go test -bench)
// and the scripts that measure it side by side with nginx. See README.md.
package bench
