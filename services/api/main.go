// Command api is Gantry's tasks service: one static binary that serves the
// HTTP API, migrates the database, checks its own health for Docker, and
// says which build it is.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/gantry-dev/gantry/services/internal/process"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // a second signal kills at once, the usual escape hatch
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "api: "+err.Error())
		os.Exit(process.ExitCode(err))
	}
}
