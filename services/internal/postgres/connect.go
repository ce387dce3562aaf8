package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// defaultConnectTimeout bounds one connection attempt when the URL sets no
// connect_timeout; pgx would otherwise wait two minutes on a black-holed host.
const defaultConnectTimeout = 5 * time.Second

// ParseConfig parses a libpq URL or keyword string, pool_* settings included.
// Its errors never repeat the password.
func ParseConfig(url string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	return cfg, nil
}

// NewPool returns a pool that has not connected yet: pgxpool connects lazily,
// so callers wait for the database with Retry and the pool's Ping.
func NewPool(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := ParseConfig(url)
	if err != nil {
		return nil, err
	}
	return pgxpool.NewWithConfig(ctx, cfg)
}

// Backoff bounds for Retry: fast first retries catch a database that is just
// finishing its start-up, the cap keeps log lines to a readable rate.
const (
	retryFirst = 100 * time.Millisecond
	retryMax   = 3 * time.Second
)

// Retry calls attempt until it succeeds, ctx ends or timeout passes, sleeping
// with exponential backoff and full jitter between attempts so that replicas
// started together do not hammer a booting database in step. Each failure is
// logged, because a silent wait is indistinguishable from a hang.
func Retry(ctx context.Context, log *slog.Logger, timeout time.Duration, what string, attempt func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	wait := retryFirst
	for n := 1; ; n++ {
		err := attempt(ctx)
		if err == nil {
			if n > 1 {
				log.Info(what+" succeeded", "attempt", n)
			}
			return nil
		}
		sleep := jitter(wait)
		log.Warn(what+" failed, retrying", "attempt", n, "retry_in", sleep.Round(time.Millisecond), "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: gave up after %d attempts in %s: %w", what, n, timeout, err)
		case <-time.After(sleep):
		}
		wait = min(wait*2, retryMax)
	}
}

// jitter is a random wait between half of wait and wait ("equal jitter"),
// so that replicas started together do not retry in step.
func jitter(wait time.Duration) time.Duration {
	return wait/2 + rand.N(wait/2+1) //nolint:gosec // G404: jitter spreads retries; nobody gains by guessing it
}
