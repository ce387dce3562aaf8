package main

import (
	"context"
	"io"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gantry-dev/gantry/services/internal/config"
	"github.com/gantry-dev/gantry/services/internal/httpapi"
	"github.com/gantry-dev/gantry/services/internal/postgres"
	"github.com/gantry-dev/gantry/services/internal/process"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// serve runs the API until ctx ends, then drains it. The listeners open at
// once so /healthz answers while the database is still booting; /readyz
// turns 200 when the database first answers.
func serve(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	hooks, err := config.LoadWebhooks(getenv)
	if err != nil {
		return err
	}
	tuneGC(getenv)
	logs := process.NewLogBuffer(stderr)
	defer logs.Close()
	log := newLogger(cfg, logs)
	pool, err := postgres.NewPool(ctx, cfg.DatabaseURL.Reveal())
	if err != nil {
		// pgx's errors mask the password; they say which setting is wrong.
		return &config.Error{Var: cfg.DatabaseURLVar, Msg: "is not a valid PostgreSQL connection string: " + err.Error()}
	}
	defer pool.Close()
	log.Info("starting", "database", cfg.DatabaseURL, "port", cfg.Port, "admin_port", cfg.AdminPort)

	ready := process.NewReadiness(pool)
	reg := process.NewRegistry()
	reg.MustRegister(postgres.NewPoolCollector(pool))
	store, err := postgres.NewStore(pool)
	if err != nil {
		return err
	}
	tokens := httpapi.NewTokenCache()
	api := newServer(cfg.Port, cfg.RequestTimeout, httpapi.New(httpapi.Options{
		Store:          store,
		Tokens:         postgres.NewTokenStore(pool),
		Webhooks:       postgres.NewWebhookStore(pool),
		Policy:         webhook.Policy{Allow: hooks.AllowCIDRs},
		TokenCache:     tokens,
		Ready:          ready,
		Log:            log,
		RequestTimeout: cfg.RequestTimeout,
		Registry:       reg,
	}))
	admin := newServer(cfg.AdminPort, cfg.RequestTimeout, process.Admin(reg, ready))
	life := process.Lifecycle{Log: log, Ready: ready, Delay: cfg.ShutdownDelay, Timeout: cfg.ShutdownTimeout}
	return life.Run(ctx, []*http.Server{api, admin},
		process.WaitReady(log, ready, cfg.DBConnectTimeout, pool.Ping),
		func(ctx context.Context) error {
			postgres.ListenTokenChanges(ctx, log, cfg.DatabaseURL.Reveal(), tokens)
			return nil
		},
	)
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

func newServer(port int, requestTimeout time.Duration, h http.Handler) *http.Server {
	return &http.Server{
		Addr:    ":" + strconv.Itoa(port),
		Handler: h,
		// Slow clients must not hold connections forever: headers get a few
		// seconds, a whole request (1 MiB at most) a little more than the
		// handler's own deadline, and idle keep-alives are reaped.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       requestTimeout + 5*time.Second,
		WriteTimeout:      requestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}
