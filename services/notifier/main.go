// Command notifier delivers Gantry's webhooks: it works the queue the API
// fills with task events, fans each event out to the webhooks that want
// it, and sends each delivery, signed, with retries.
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
		_, _ = fmt.Fprintln(os.Stderr, "notifier: "+err.Error()) // stderr is all there is
		os.Exit(process.ExitCode(err))
	}
}
