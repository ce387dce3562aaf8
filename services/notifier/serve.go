package main

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gantry-dev/gantry/services/internal/config"
	"github.com/gantry-dev/gantry/services/internal/postgres"
	"github.com/gantry-dev/gantry/services/internal/process"
)

// serve runs the notifier until ctx ends. Its admin listener (metrics and
// probes) opens at once; /readyz turns 200 when the database first answers.
func serve(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	logs := process.NewLogBuffer(stderr)
	defer logs.Close()
	log := newLogger(cfg, logs)
	pool, err := postgres.NewPool(ctx, cfg.DatabaseURL.Reveal())
	if err != nil {
		return &config.Error{Var: cfg.DatabaseURLVar, Msg: "is not a valid PostgreSQL connection string: " + err.Error()}
	}
	defer pool.Close()
	log.Info("starting", "database", cfg.DatabaseURL, "admin_port", cfg.AdminPort)

	ready := process.NewReadiness(pool)
	reg := process.NewRegistry()
	reg.MustRegister(postgres.NewPoolCollector(pool))
	admin := &http.Server{
		Addr:              ":" + strconv.Itoa(cfg.AdminPort),
		Handler:           process.Admin(reg, ready),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	life := process.Lifecycle{Log: log, Ready: ready, Delay: cfg.ShutdownDelay, Timeout: cfg.ShutdownTimeout}
	return life.Run(ctx, []*http.Server{admin}, process.WaitReady(log, ready, cfg.DBConnectTimeout, pool.Ping))
}
