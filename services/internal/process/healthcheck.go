package process

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Healthcheck lets Docker probe a distroless container, which has no shell
// and no curl: the binary asks its own server on loopback, at port. A
// mistake in args is a UsageError carrying the binary's usage.
func Healthcheck(ctx context.Context, args []string, port int, usage string) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	ready := fs.Bool("ready", false, "check /readyz (ready for work) instead of /healthz")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return UsageError{Msg: "healthcheck: " + err.Error(), Usage: usage}
	}
	path := "/healthz"
	if *ready {
		path = "/readyz"
	}
	url := fmt.Sprintf("http://127.0.0.1:%d%s", port, path)
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %s: %w", url, err)
	}
	_ = resp.Body.Close() // the status line is the whole answer; the body is never read
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", url, resp.Status)
	}
	return nil
}
