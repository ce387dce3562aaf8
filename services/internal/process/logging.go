package process

import (
	"io"
	"log/slog"

	"github.com/gantry-dev/gantry/services/internal/buildinfo"
)

// NewLogger writes structured logs to w (stderr, so stdout stays for
// command output) and stamps them with the service and the build, which is
// what one wants to know first when reading logs from a fleet. format is
// "json" or "text".
func NewLogger(level slog.Level, format, service string, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if format == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(h).With("service", service, "version", buildinfo.Version)
}
