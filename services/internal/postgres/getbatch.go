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

// getCall is one waiting Get. done is closed once t and err are set.
type getCall struct {
	ctx  context.Context
	id   task.ID
	t    task.Task
	err  error
	done chan struct{}
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
	if err := ctx.Err(); err != nil {
		return task.Task{}, classify(err, "get task") // gone already: take no slot
	}
	c := &getCall{ctx: ctx, id: id, done: make(chan struct{})}
	b.calls.add(c)
	select {
	case <-c.done:
		return c.t, c.err
	case <-ctx.Done():
		return task.Task{}, classify(ctx.Err(), "get task")
	}
}

// query runs one batch. A batch of one runs under its caller's context,
// so a client that hangs up stops waiting for a connection or the query.
func (b *getBatcher) query(batch []*getCall) {
	if len(batch) == 1 {
		c := batch[0]
		c.t, c.err = scanTask(b.pool.QueryRow(c.ctx, sqlGet, uuidArg(c.id)))
		c.err = classify(c.err, "get task")
		close(c.done)
		return
	}
	ctxs := make([]context.Context, len(batch))
	for i, c := range batch {
		ctxs[i] = c.ctx
	}
	ctx, cancel := batchContext(ctxs)
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
		close(c.done)
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
