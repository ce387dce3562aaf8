package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gantry-dev/gantry/services/internal/config"
	"github.com/gantry-dev/gantry/services/internal/httpapi"
	"github.com/gantry-dev/gantry/services/internal/postgres"
)

// serve runs the API until ctx ends, then drains it. The listener opens at
// once so /healthz answers while the database is still booting; /readyz
// turns 200 when the database first answers.
func serve(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	tuneGC(getenv)
	logs := newLogBuffer(stderr)
	defer logs.Close()
	log := newLogger(cfg, logs)
	pool, err := postgres.NewPool(ctx, cfg.DatabaseURL.Reveal())
	if err != nil {
		// pgx's errors mask the password; they say which setting is wrong.
		return &config.Error{Var: cfg.DatabaseURLVar, Msg: "is not a valid PostgreSQL connection string: " + err.Error()}
	}
	defer pool.Close()

	ready := httpapi.NewReadiness(pool)
	srv := newServer(cfg, httpapi.New(httpapi.Options{
		Store:          postgres.NewStore(pool),
		Ready:          ready,
		Log:            log,
		RequestTimeout: cfg.RequestTimeout,
		Collectors:     []prometheus.Collector{postgres.NewPoolCollector(pool)},
	}))
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", srv.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("listening", "addr", ln.Addr().String(), "database", cfg.DatabaseURL)

	failed := make(chan error, 2)
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			failed <- fmt.Errorf("serve: %w", err)
		}
	}()
	waitCtx, stopWaiting := context.WithCancel(ctx)
	var waiting sync.WaitGroup
	waiting.Go(func() {
		if err := waitForDatabase(waitCtx, log, pool, cfg.DBConnectTimeout); err != nil {
			failed <- err
			return
		}
		ready.SetConnected()
	})

	select {
	case <-ctx.Done():
		log.Info("shutdown requested, draining", "timeout", cfg.ShutdownTimeout)
	case err = <-failed:
		log.Error("stopping", "err", err)
	}
	ready.SetDraining()
	if err == nil {
		announceDrain(log, cfg.ShutdownDelay)
	}
	// Stops a start-up wait that is still retrying, before the pool and
	// the log buffer close under it.
	stopWaiting()
	waiting.Wait()
	if derr := drain(srv, cfg.ShutdownTimeout); derr != nil {
		log.Error("drain incomplete", "err", derr)
		err = errors.Join(err, derr)
	}
	pool.Close()
	if err == nil {
		log.Info("stopped")
	}
	return err
}

// announceDrain keeps serving for SHUTDOWN_DELAY while /readyz says 503,
// so that a load balancer polling it stops sending traffic before the
// listener closes (Kubernetes removes an endpoint only after the pod is
// marked terminating). Requests that arrive meanwhile are served normally.
func announceDrain(log *slog.Logger, delay time.Duration) {
	if delay <= 0 {
		return
	}
	log.Info("shutdown requested; /readyz answers 503, serving on until the delay ends", "delay", delay)
	time.Sleep(delay)
}

// defaultGOGC replaces Go's 100 when GOGC is unset. The live heap is a few
// megabytes and nearly all garbage is per request, so at 100 the collector
// ran many times a second under load; at 400 GETs ran 10 to 18% faster
// (docs/benchmarks.md) for about 11 MB more at peak. GOGC and
// GOMEMLIMIT still override it, as in any Go program.
const defaultGOGC = 400

func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGOGC)
	}
}

func newServer(cfg config.Config, h http.Handler) *http.Server {
	return &http.Server{
		Addr:    ":" + strconv.Itoa(cfg.Port),
		Handler: h,
		// Slow clients must not hold connections forever: headers get a few
		// seconds, a whole request (1 MiB at most) a little more than the
		// handler's own deadline, and idle keep-alives are reaped.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       cfg.RequestTimeout + 5*time.Second,
		WriteTimeout:      cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// drain stops accepting, lets in-flight requests finish within timeout, and
// closes whatever is left.
func drain(srv *http.Server, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		// Cuts the connections still open. Its error can only be about the
		// listeners, which Shutdown has closed already.
		_ = srv.Close()
		return fmt.Errorf("requests still running after SHUTDOWN_TIMEOUT (%s) were cut off: %w", timeout, err)
	}
	return nil
}

func waitForDatabase(ctx context.Context, log *slog.Logger, pool *pgxpool.Pool, timeout time.Duration) error {
	start := time.Now()
	err := postgres.Retry(ctx, log, timeout, "connect to database", pool.Ping)
	if err != nil {
		if ctx.Err() != nil {
			return nil //nolint:nilerr // shutting down anyway: not being connected is no failure
		}
		return fmt.Errorf("%w (DB_CONNECT_TIMEOUT is %s)", err, timeout)
	}
	log.Info("database connected", "after", time.Since(start).Round(time.Millisecond))
	return nil
}
