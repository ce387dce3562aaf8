package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Lifecycle is how a service binary runs: its listeners open at once, so
// probes answer while the database is still booting; background work runs
// beside them; and on SIGTERM (ctx ends) or a failure, readiness turns
// false, the listeners keep serving for Delay so load balancers polling
// /readyz stop sending traffic, the background work is told to stop, and
// in-flight requests get Timeout to finish.
type Lifecycle struct {
	Log     *slog.Logger
	Ready   *Readiness
	Delay   time.Duration // SHUTDOWN_DELAY
	Timeout time.Duration // SHUTDOWN_TIMEOUT
}

// Work is background work: it runs until its ctx ends (returning nil), or
// is done early (nil), or fails (an error, which stops the process).
type Work func(ctx context.Context) error

// Run serves every server (each listening on its Addr) and runs the work,
// until ctx ends or one of them fails; then it drains. A second signal is
// the caller's to handle (main's signal.NotifyContext stops at once).
func (l Lifecycle) Run(ctx context.Context, servers []*http.Server, work ...Work) error {
	failed := make(chan error, len(servers)+len(work))
	for _, srv := range servers {
		ln, err := new(net.ListenConfig).Listen(ctx, "tcp", srv.Addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", srv.Addr, err)
		}
		l.Log.Info("listening", "addr", ln.Addr().String())
		go func() {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				failed <- fmt.Errorf("serve %s: %w", srv.Addr, err)
			}
		}()
	}
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var working sync.WaitGroup
	for _, w := range work {
		working.Go(func() {
			if err := w(workCtx); err != nil && workCtx.Err() == nil {
				failed <- err
			}
		})
	}

	var err error
	select {
	case <-ctx.Done():
		l.Log.Info("shutdown requested, draining", "timeout", l.Timeout)
	case err = <-failed:
		l.Log.Error("stopping", "err", err)
	}
	l.Ready.SetDraining()
	if err == nil {
		l.announceDrain()
	}
	// Background work stops before what it uses (pools, the log buffer)
	// closes under it; requests in flight meanwhile may still use it.
	stopWork()
	working.Wait()
	for _, srv := range servers {
		if derr := Drain(srv, l.Timeout); derr != nil {
			l.Log.Error("drain incomplete", "addr", srv.Addr, "err", derr)
			err = errors.Join(err, derr)
		}
	}
	if err == nil {
		l.Log.Info("stopped")
	}
	return err
}

// announceDrain keeps serving for the delay while /readyz says 503
// (Kubernetes removes an endpoint only after the pod is marked
// terminating). Requests that arrive meanwhile are served normally.
func (l Lifecycle) announceDrain() {
	if l.Delay <= 0 {
		return
	}
	l.Log.Info("shutdown requested; /readyz answers 503, serving on until the delay ends", "delay", l.Delay)
	time.Sleep(l.Delay)
}

// Drain stops accepting, lets in-flight requests finish within timeout,
// and closes whatever is left.
func Drain(srv *http.Server, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close() // Shutdown's error is the one worth reporting
		return fmt.Errorf("requests still running after SHUTDOWN_TIMEOUT (%s) were cut off: %w", timeout, err)
	}
	return nil
}
