package main

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gantry-dev/gantry/services/internal/config"
	"github.com/gantry-dev/gantry/services/internal/delivery"
	"github.com/gantry-dev/gantry/services/internal/postgres"
	"github.com/gantry-dev/gantry/services/internal/process"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// poolSize is the notifier's pool when DATABASE_URL sets no
// pool_max_conns. Its work is round trips, not CPU: fan-out transactions,
// fetches, attempt records, and River's LISTEN, which holds one. One
// notifier delivering 600 a second on two cores kept up (p99 under 250
// ms) in 9 runs of 10 with 16, in 5 of 10 with 12, and fell behind in most
// with pgx's default of 4 (docs/benchmarks.md). Four notifiers (the HPA's
// most) and six APIs at pgx's 4 (two cores) stay under PostgreSQL's
// default of 100 connections.
const poolSize = 16

// serve runs the notifier until ctx ends. Its admin listener (metrics and
// probes) opens at once; the queues are worked once the database answers,
// and /readyz is 200 while they are.
func serve(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	hooks, err := config.LoadWebhooks(getenv)
	if err != nil {
		return err
	}
	logs := process.NewLogBuffer(stderr)
	defer logs.Close()
	log := newLogger(cfg, logs)
	pool, err := postgres.NewPoolSized(ctx, cfg.DatabaseURL.Reveal(), poolSize)
	if err != nil {
		return &config.Error{Var: cfg.DatabaseURLVar, Msg: "is not a valid PostgreSQL connection string: " + err.Error()}
	}
	defer pool.Close()
	log.Info("starting", "database", cfg.DatabaseURL, "admin_port", cfg.AdminPort, "workers", hooks.Workers,
		"max_attempts", hooks.MaxAttempts, "retry_horizon", hooks.RetryHorizon, "timeout", hooks.Timeout, "allow_cidrs", hooks.AllowCIDRs)

	store := postgres.NewWebhookStore(pool)
	reg := process.NewRegistry()
	reg.MustRegister(postgres.NewPoolCollector(pool),
		delivery.NewLagCollector(store, log, webhook.QueueEvents, webhook.QueueDeliveries))
	q, err := newQueue(pool, log, hooks, delivery.NewWorkers(delivery.Options{
		Store:   store,
		Sender:  delivery.NewSender(delivery.ClientOptions{Policy: webhook.Policy{Allow: hooks.AllowCIDRs}, Timeout: hooks.Timeout, Conns: hooks.Workers}),
		Backoff: delivery.Backoff{Attempts: hooks.MaxAttempts, Horizon: hooks.RetryHorizon},
		Timeout: hooks.Timeout,
		Metrics: delivery.NewMetrics(reg),
		Log:     log,
	}))
	if err != nil {
		return err
	}
	ready := process.NewReadiness(q)
	admin := &http.Server{
		Addr:              ":" + strconv.Itoa(cfg.AdminPort),
		Handler:           process.Admin(reg, ready),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	life := process.Lifecycle{Log: log, Ready: ready, Delay: cfg.ShutdownDelay, Timeout: cfg.ShutdownTimeout}
	waitDB := process.WaitReady(log, ready, cfg.DBConnectTimeout, pool.Ping)
	return life.Run(ctx, []*http.Server{admin}, func(ctx context.Context) error {
		if err := waitDB(ctx); err != nil || ctx.Err() != nil {
			return err
		}
		return q.work(ctx, cfg.ShutdownTimeout)
	})
}
