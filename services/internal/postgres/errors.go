package postgres

import (
	"context"
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gantry-dev/gantry/services/internal/task"
)

// classifyDB turns a driver error into a task.Error whose Kind tells the HTTP
// layer whether the client or the database is at fault. Anything that smells
// of a lost or slow database is Unavailable (503, retry), because that is
// what the client should do about it; the cause goes to the log only. nil
// stays nil.
func classifyDB(err error, op string) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08", // connection exception
			"53", // insufficient resources: too many connections, disk full
			"57": // operator intervention: shutdown, cannot_connect_now, query_canceled (statement_timeout)
			return task.Wrap(task.Unavailable, err, "the database is unavailable; try again shortly")
		case "22", "23": // data exception, integrity constraint: input slipped past validation
			return task.Wrap(task.Invalid, err, "the database refused a value in the request")
		}
		return task.Wrap(task.Internal, err, op+" failed")
	}
	if isConnectivity(err) {
		return task.Wrap(task.Unavailable, err, "the database is unavailable; try again shortly")
	}
	return task.Wrap(task.Internal, err, op+" failed")
}

// isConnectivity reports errors that mean "no answer from the database":
// refused or broken connections and timeouts. (The pool itself closes only
// after the HTTP server has drained, so "closed pool" cannot reach a client.)
func isConnectivity(err error) bool {
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr), errors.As(err, &netErr),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		pgconn.Timeout(err), pgconn.SafeToRetry(err):
		return true
	}
	return false
}
