package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/gantry-dev/gantry/services/internal/config"
	"github.com/gantry-dev/gantry/services/internal/process"
)

const usage = `usage: api <command> [arguments]

commands:
  serve                  run the HTTP API
  migrate up             apply every pending migration
  migrate down N         revert the newest N migrations
  migrate version        print the applied migration version
  migrate force V        record version V as applied, to recover from a dirty state
  token create|list|revoke   manage API tokens (api token, for its usage)
  healthcheck [-ready]   exit 0 if the local server is live (or ready), 1 if not
  version                print the version, commit and Go version

configuration comes from the environment; see README.md`

// usageError is a mistake in the command line, followed by the usage.
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
	case "migrate":
		return migrateCmd(ctx, rest, getenv, stdout, stderr)
	case "token":
		return tokenCmd(ctx, rest, getenv, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, rest, getenv)
	case "version", "-version", "--version":
		_, err := fmt.Fprintln(stdout, versionLine())
		return err
	case "help", "-h", "-help", "--help":
		_, err := fmt.Fprintln(stdout, usage)
		return err
	}
	return usageError(fmt.Sprintf("unknown command %q", strings.TrimSpace(cmd)))
}

// healthcheck probes the main listener, as Docker's healthcheck of the
// image does: -ready asks whether this replica can serve requests.
func healthcheck(ctx context.Context, args []string, getenv func(string) string) error {
	port, err := config.LoadPort(getenv)
	if err != nil {
		return err
	}
	return process.Healthcheck(ctx, args, port, usage)
}

// newLogger is the API's logger, to stderr.
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	return process.NewLogger(cfg.LogLevel, cfg.LogFormat, "gantry-api", w)
}
