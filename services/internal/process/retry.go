package process

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Backoff bounds of Retry (and of other reconnecting loops): fast first retries catch a database that is just
// finishing its start-up, the cap keeps log lines to a readable rate.
const (
	RetryFirst = 100 * time.Millisecond
	RetryMax   = 3 * time.Second
)

// Retry calls attempt until it succeeds, ctx ends or timeout passes, sleeping
// with exponential backoff and full jitter between attempts so that replicas
// started together do not hammer a booting database in step. Each failure is
// logged, because a silent wait is indistinguishable from a hang.
func Retry(ctx context.Context, log *slog.Logger, timeout time.Duration, what string, attempt func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	wait := RetryFirst
	for n := 1; ; n++ {
		err := attempt(ctx)
		if err == nil {
			if n > 1 {
				log.Info(what+" succeeded", "attempt", n)
			}
			return nil
		}
		sleep := Jitter(wait)
		log.Warn(what+" failed, retrying", "attempt", n, "retry_in", sleep.Round(time.Millisecond), "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: gave up after %d attempts in %s: %w", what, n, timeout, err)
		case <-time.After(sleep):
		}
		wait = min(wait*2, RetryMax)
	}
}

// Jitter is a random wait between half of wait and wait ("equal jitter"),
// so that replicas started together do not retry in step.
func Jitter(wait time.Duration) time.Duration {
	return wait/2 + rand.N(wait/2+1) //nolint:gosec // G404: jitter spreads retries; nobody gains by guessing it
}

// WaitReady is Work that waits for ping to succeed, retrying within
// timeout, and then marks ready connected: the start-up wait every service
// makes for its database. A shutdown meanwhile is no failure.
func WaitReady(log *slog.Logger, ready *Readiness, timeout time.Duration, ping func(context.Context) error) Work {
	return func(ctx context.Context) error {
		start := time.Now()
		if err := Retry(ctx, log, timeout, "connect to database", ping); err != nil {
			if ctx.Err() != nil {
				return nil //nolint:nilerr // shutting down anyway: not being connected is no failure
			}
			return fmt.Errorf("%w (DB_CONNECT_TIMEOUT is %s)", err, timeout)
		}
		log.Info("database connected", "after", time.Since(start).Round(time.Millisecond))
		ready.SetConnected()
		return nil
	}
}
