package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// inTx runs fn in a transaction begun with opts on one of pool's
// connections, and commits it. What fn has River insert last goes out with
// the COMMIT (see eventTx); what River sends after it goes to after, or
// when after is nil, out on the same connection.
func inTx(ctx context.Context, pool *pgxpool.Pool, opts pgx.TxOptions, after func(sql string, args []any), fn func(*eventTx) error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	begun, err := conn.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	tx := &eventTx{Tx: begun, after: after}
	defer tx.end(ctx)
	// Once the COMMIT went out with River's insert, whatever fn reports
	// after it cannot undo the transaction, which stands if it committed.
	if err := fn(tx); err != nil && (tx.settle() != nil || !tx.committed) {
		return err
	}
	return tx.Commit(ctx)
}

// announceTimeout bounds a statement sent after its transaction answered.
const announceTimeout = 5 * time.Second

// announcer runs, on pool and in the background, what River sends after a
// committed insert: its notice of the new jobs (pg_notify). A notice that
// fails costs only time, as the notifiers' poll finds the jobs.
func announcer(pool *pgxpool.Pool) func(sql string, args []any) {
	return func(sql string, args []any) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), announceTimeout)
			defer cancel()
			_, _ = pool.Exec(ctx, sql, args...)
		}()
	}
}

// riverInsert starts the SQL of River's job insert (its sqlc query name).
// Should a River upgrade rename it, eventTx sends the insert and the COMMIT
// one after the other again: slower, never wrong, and
// TestTheEventTravelsWithTheCommit fails.
const riverInsert = "-- name: JobInsertFastMany"

// eventTx is a transaction as River's InsertTx sees it. River's insert is
// the transaction's last statement (of a task's change, its event; of a
// fan-out, the delivery jobs), and only the COMMIT waits on its answer, so
// the two go out together in one round trip (a pgx batch) instead of one
// after the other. Every other statement passes through to the transaction
// unchanged.
type eventTx struct {
	pgx.Tx
	batch     pgx.BatchResults // the insert and its COMMIT, until the COMMIT's answer is read
	sent      bool             // the COMMIT went out with the insert
	committed bool
	err       error                        // the batched COMMIT's outcome, once read
	after     func(sql string, args []any) // runs what River sends after the COMMIT, if set
}

// Query sends River's insert with the COMMIT after it, and passes any
// other query through; one after the insert first reads the COMMIT's
// answer, and then runs outside the transaction, which has ended on the
// connection even though pgx's Tx does not know it.
func (tx *eventTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if tx.sent || !strings.HasPrefix(sql, riverInsert) {
		if err := tx.settle(); err != nil {
			return nil, err
		}
		return tx.Tx.Query(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	b.Queue("COMMIT")
	tx.sent = true
	tx.batch = tx.SendBatch(ctx, b)
	return tx.batch.Query()
}

func (tx *eventTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if err := tx.settle(); err != nil {
		return errRow{err}
	}
	return tx.Tx.QueryRow(ctx, sql, args...)
}

// Exec after the COMMIT is River's announcement of the new jobs
// (pg_notify), which nothing in the transaction waits on: after, when set,
// takes it (announcer sends it in the background).
func (tx *eventTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := tx.settle(); err != nil {
		return pgconn.CommandTag{}, err
	}
	if tx.sent && tx.after != nil {
		tx.after(sql, args)
		return pgconn.CommandTag{}, nil
	}
	return tx.Tx.Exec(ctx, sql, args...)
}

// settle reads the batched COMMIT's answer, once. PostgreSQL skips the
// COMMIT when the insert before it failed, and answers ROLLBACK to a COMMIT
// of a failed transaction: either way the change did not commit.
func (tx *eventTx) settle() error {
	if tx.batch == nil {
		return tx.err
	}
	b := tx.batch
	tx.batch = nil
	tag, err := b.Exec()
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err == nil && tag.String() != "COMMIT" {
		err = pgx.ErrTxCommitRollback
	}
	tx.err, tx.committed = err, err == nil
	return err
}

// Commit reads the answer of the COMMIT that went out with the insert, or
// commits if none did.
func (tx *eventTx) Commit(ctx context.Context) error {
	if tx.sent {
		return tx.settle()
	}
	err := tx.Tx.Commit(ctx)
	tx.committed = err == nil
	return err
}

// end rolls back what did not commit. It leaves the connection idle, so
// the pool can take it back.
func (tx *eventTx) end(ctx context.Context) {
	_ = tx.settle()
	if !tx.committed {
		_ = tx.Rollback(ctx)
	}
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
