// Package buildinfo identifies the running binary. Version and Commit are
// set at link time, by Bazel's x_defs when stamping and by -ldflags -X in
// plain Go builds, so an image can always say what it was built from.
package buildinfo

import (
	"fmt"
	"runtime"
)

// Set with -X; the defaults mark a build nobody stamped.
var (
	Version = "dev"
	Commit  = "unknown"
)

// String is the one-line answer of the version subcommand.
func String(program string) string {
	return fmt.Sprintf("%s %s (commit %s, %s %s/%s)", program, Version, Commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
