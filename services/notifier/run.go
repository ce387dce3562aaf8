package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/gantry-dev/gantry/services/internal/buildinfo"
	"github.com/gantry-dev/gantry/services/internal/config"
	"github.com/gantry-dev/gantry/services/internal/process"
)

const usage = `usage: notifier <command> [arguments]

commands:
  serve                  deliver webhooks until SIGTERM
  healthcheck [-ready]   exit 0 if the local admin listener is live (or ready), 1 if not
  version                print the version, commit and Go version

configuration comes from the environment; see docs/webhooks.md`

func usageError(msg string) error { return process.UsageError{Msg: msg, Usage: usage} }

// run is the whole program with its dependencies passed in, so tests can
// start it in-process with their own environment and output buffers.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		return usageError("no command given")
	}
	cmd, rest := args[1], args[2:]
	switch cmd {
	case "serve":
		if len(rest) > 0 {
			return usageError("serve takes no arguments")
		}
		return serve(ctx, getenv, stderr)
	case "healthcheck":
		return healthcheck(ctx, rest, getenv)
	case "version", "-version", "--version":
		_, err := fmt.Fprintln(stdout, buildinfo.String("gantry-notifier"))
		return err
	case "help", "-h", "-help", "--help":
		_, err := fmt.Fprintln(stdout, usage)
		return err
	}
	return usageError(fmt.Sprintf("unknown command %q", strings.TrimSpace(cmd)))
}

// healthcheck probes the admin listener, the notifier's only one.
func healthcheck(ctx context.Context, args []string, getenv func(string) string) error {
	port, err := config.LoadAdminPort(getenv)
	if err != nil {
		return err
	}
	return process.Healthcheck(ctx, args, port, usage)
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	return process.NewLogger(cfg.LogLevel, cfg.LogFormat, "gantry-notifier", w)
}
