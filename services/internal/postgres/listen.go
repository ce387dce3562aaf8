package postgres

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-dev/gantry/services/internal/process"
)

// TokenChanges is what hears of token changes: Forget(id) for each changed
// token, SetLive(true) once listening and SetLive(false) when the
// connection is lost (auth.Cache is one).
type TokenChanges interface {
	Forget(id int64)
	SetLive(live bool)
}

// tokenChannel is the channel the api_tokens_changed trigger notifies.
const tokenChannel = "api_tokens"

// ListenTokenChanges listens for token changes on a connection of its own
// until ctx ends, reconnecting with backoff when the database goes away.
// While it is not listening, to says so, so nothing cached is trusted.
func ListenTokenChanges(ctx context.Context, log *slog.Logger, url string, to TokenChanges) {
	wait := process.RetryFirst
	for ctx.Err() == nil {
		err := listenOnce(ctx, url, to, func() { wait = process.RetryFirst })
		to.SetLive(false)
		if ctx.Err() != nil {
			return
		}
		sleep := process.Jitter(wait)
		log.Warn("token change feed lost; tokens are looked up in the database until it is back", "err", err, "retry_in", sleep.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return
		case <-time.After(sleep):
		}
		wait = min(wait*2, process.RetryMax)
	}
}

// listenOnce connects, listens and passes notifications on until the
// connection fails or ctx ends. connected is called once listening.
func listenOnce(ctx context.Context, url string, to TokenChanges, connected func()) error {
	cfg, err := ParseConfig(url)
	if err != nil {
		return err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }() // the connection is done with either way
	if _, err := conn.Exec(ctx, "LISTEN "+tokenChannel); err != nil {
		return err
	}
	to.SetLive(true)
	connected()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		id, err := strconv.ParseInt(n.Payload, 10, 64)
		if err != nil {
			return errors.New("api_tokens notification with a payload that is no token ID: " + n.Payload)
		}
		to.Forget(id)
	}
}
