package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-dev/gantry/services/internal/task"
)

// sqlGetMany is sqlGet for many IDs at once; the primary key index serves
// both.
const sqlGetMany = `SELECT ` + columns + ` FROM tasks WHERE id = ANY($1)`

// getBatcher coalesces concurrent Gets into one query (see coalescer).
type getBatcher struct {
	pool  *pgxpool.Pool
	calls coalescer[*getCall]
}

// getCall is one waiting Get, answered with t or err.
type getCall struct {
	waiter
	id  task.ID
	t   task.Task
	err error
}

// newGetBatcher lets Gets use a quarter of the pool at once (at least one
// connection): fewer slots make bigger batches, which measured faster, and
// leave the rest of the pool to writes and listings.
func newGetBatcher(pool *pgxpool.Pool) *getBatcher {
	b := &getBatcher{pool: pool}
	b.calls = coalescer[*getCall]{limit: max(1, int(pool.Config().MaxConns)/4), run: b.query}
	return b
}

func (b *getBatcher) get(ctx context.Context, id task.ID) (task.Task, error) {
	c := &getCall{waiter: newWaiter(ctx), id: id}
	if err := b.calls.await(c); err != nil {
		return task.Task{}, classify(err, "get task")
	}
	return c.t, c.err
}

// query runs one batch. A batch of one runs under its caller's context,
// so a client that hangs up stops waiting for a connection or the query.
func (b *getBatcher) query(batch []*getCall) {
	if len(batch) == 1 {
		c := batch[0]
		c.t, c.err = scanTask(b.pool.QueryRow(c.ctx, sqlGet, uuidArg(c.id)))
		c.err = classify(c.err, "get task")
		c.answer()
		return
	}
	ctx, cancel := batchContext(batch)
	defer cancel()
	found, err := b.many(ctx, batch)
	for _, c := range batch {
		switch t, ok := found[c.id]; {
		case err != nil:
			c.err = err
		case ok:
			c.t = t
		default:
			c.err = errNotFound
		}
		c.answer()
	}
}

func (b *getBatcher) many(ctx context.Context, batch []*getCall) (map[task.ID]task.Task, error) {
	ids := make([]pgtype.UUID, len(batch))
	for i, c := range batch {
		ids[i] = uuidArg(c.id)
	}
	rows, err := b.pool.Query(ctx, sqlGetMany, ids)
	if err != nil {
		return nil, classify(err, "get tasks")
	}
	defer rows.Close()
	found := make(map[task.ID]task.Task, len(batch))
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, classify(err, "get tasks")
		}
		found[t.ID] = t
	}
	if err := rows.Err(); err != nil {
		return nil, classify(err, "get tasks")
	}
	return found, nil
}
