package main

import (
	"io"
	"log/slog"

	"github.com/gantry-dev/gantry/services/internal/buildinfo"
	"github.com/gantry-dev/gantry/services/internal/config"
)

// newLogger writes structured logs to w (stderr, so stdout stays for
// command output) and stamps them with the build, which is what one wants
// to know first when reading logs from a fleet.
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(h).With("service", "gantry-api", "version", buildinfo.Version)
}
