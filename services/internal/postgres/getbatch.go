package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-dev/gantry/services/internal/task"
)

// sqlGetMany is sqlGet for many IDs at once; the primary key index serves
// both.
const sqlGetMany = `SELECT ` + columns + ` FROM tasks WHERE id = ANY($1)`

// maxBatch bounds one coalesced query, and with it the wait of the first
// caller in a batch behind the last.
const maxBatch = 128

// getBatcher coalesces concurrent Gets into one query. A Get that finds
// fewer than `limit` queries in flight runs at once, alone, exactly as
// without batching; Gets arriving while every slot is busy queue, and the
// next free slot serves the whole queue with one round trip. Batches form
// only under load, so they add no latency when idle and, under load, save
// PostgreSQL and this process a round trip (and its syscalls) per request.
// docs/benchmarks.md has the measurements.
type getBatcher struct {
	pool  *pgxpool.Pool
	limit int

	mu      sync.Mutex
	queue   []*getCall
	running int
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
	return &getBatcher{pool: pool, limit: max(1, int(pool.Config().MaxConns)/4)}
}

func (b *getBatcher) get(ctx context.Context, id task.ID) (task.Task, error) {
	if err := ctx.Err(); err != nil {
		return task.Task{}, classify(err, "get task") // gone already: take no slot
	}
	c := &getCall{ctx: ctx, id: id, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, c)
	batch := b.start()
	b.mu.Unlock()
	if batch != nil {
		b.run(batch) // in this goroutine: at low load, the usual single query
	}
	select {
	case <-c.done:
		return c.t, c.err
	case <-ctx.Done():
		return task.Task{}, classify(ctx.Err(), "get task")
	}
}

// start takes a batch off the queue if a slot is free. Called with mu held.
func (b *getBatcher) start() []*getCall {
	if b.running >= b.limit || len(b.queue) == 0 {
		return nil
	}
	b.running++
	n := min(len(b.queue), maxBatch)
	batch := make([]*getCall, n)
	copy(batch, b.queue)
	b.queue = append(b.queue[:0], b.queue[n:]...)
	return batch
}

// run answers a batch, then hands the freed slot to whatever queued
// meanwhile, in a goroutine of its own so this caller can return.
func (b *getBatcher) run(batch []*getCall) {
	b.query(batch)
	b.mu.Lock()
	b.running--
	next := b.start()
	b.mu.Unlock()
	if next != nil {
		go b.run(next)
	}
}

// query runs one batch. A batch of one runs under its caller's context,
// so a client that hangs up stops waiting for a connection or the query.
// A larger batch has the latest deadline of its callers and none of their
// cancellations: one client hanging up, or one whose time is up, must not
// fail the others.
func (b *getBatcher) query(batch []*getCall) {
	if len(batch) == 1 {
		c := batch[0]
		c.t, c.err = scanTask(b.pool.QueryRow(c.ctx, sqlGet, uuidArg(c.id)))
		c.err = classify(c.err, "get task")
		close(c.done)
		return
	}
	ctx := context.WithoutCancel(batch[0].ctx)
	if d, ok := latestDeadline(batch); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d)
		defer cancel()
	}
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

// latestDeadline is ok only if every caller has a deadline: one without
// would wait as long as it takes.
func latestDeadline(batch []*getCall) (time.Time, bool) {
	var latest time.Time
	for _, c := range batch {
		d, ok := c.ctx.Deadline()
		if !ok {
			return time.Time{}, false
		}
		if d.After(latest) {
			latest = d
		}
	}
	return latest, true
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
