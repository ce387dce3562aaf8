package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/gantry-dev/gantry/services/internal/task"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// Store is the PostgreSQL task.Store. Every change it makes also records
// its event, for the webhooks (see events.go).
type Store struct {
	pool   *pgxpool.Pool
	gets   *getBatcher
	events *river.Client[pgx.Tx]        // inserts only: the notifier works the jobs
	notice func(sql string, args []any) // River's notice of an event, sent after the write (announcer)
}

var _ task.Store = (*Store)(nil)

// eventNotice is how often, at most, the API announces new events to the
// notifiers: River's insert notification, a pg_notify sent after the
// write's commit (see eventTx), limited by the client's FetchCooldown
// (100 ms by default). An event committed after an announcement waits for
// the next one, or a notifier's poll: at 200 events a second, events
// waited a median 44 to 48 ms to be fetched with the default, 6 to 8 ms
// with this (docs/benchmarks.md). The notice goes out in the background,
// so no write waits for its round trip.
const eventNotice = 10 * time.Millisecond

// NewStore returns a Store on pool; it does not own the pool.
func NewStore(pool *pgxpool.Pool) (*Store, error) {
	events, err := river.NewClient(riverpgxv5.New(pool), &river.Config{FetchCooldown: eventNotice})
	if err != nil {
		return nil, fmt.Errorf("prepare the event queue: %w", err)
	}
	return &Store{pool: pool, gets: newGetBatcher(pool), events: events, notice: announcer(pool)}, nil
}

// columns is every column in the order scanTask reads them. Listing them,
// rather than SELECT *, keeps a new column from breaking old binaries.
const columns = `id, title, description, status, due_date, version, created_at, updated_at`

const sqlCreate = `
INSERT INTO tasks (title, description, status, due_date)
VALUES ($1, $2, $3, $4)
RETURNING ` + columns

// Create inserts a task; the database assigns its ID and timestamps.
func (s *Store) Create(ctx context.Context, n task.New) (task.Task, error) {
	var t task.Task
	err := s.change(ctx, webhook.TaskCreated, func(tx pgx.Tx) (task.Task, error) {
		var err error
		t, err = scanTask(tx.QueryRow(ctx, sqlCreate, n.Title, n.Description, string(n.Status), dateArg(n.DueDate)))
		return t, err
	})
	return t, classify(err, "create task")
}

const sqlGet = `SELECT ` + columns + ` FROM tasks WHERE id = $1`

// Get returns one task, or a NotFound error. Concurrent Gets share
// queries when the pool is busy (see getBatcher).
func (s *Store) Get(ctx context.Context, id task.ID) (task.Task, error) {
	return s.gets.get(ctx, id)
}

// The deleted task comes back with the version after its last, so that a
// deletion orders after every update in its event.
const sqlDelete = `DELETE FROM tasks WHERE id = $1 AND ($2::bigint = 0 OR version = $2)
RETURNING id, title, description, status, due_date, version + 1, created_at, updated_at`

// Delete removes a task if pre holds.
func (s *Store) Delete(ctx context.Context, id task.ID, pre task.Precondition) error {
	err := s.change(ctx, webhook.TaskDeleted, func(tx pgx.Tx) (task.Task, error) {
		return scanTask(tx.QueryRow(ctx, sqlDelete, uuidArg(id), pre.Version))
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return s.explainMiss(ctx, id)
	}
	return classify(err, "delete task")
}

const sqlVersion = `SELECT version FROM tasks WHERE id = $1`

// explainMiss tells "no such task" from "the task moved on" after a
// conditional write matched no row.
func (s *Store) explainMiss(ctx context.Context, id task.ID) error {
	var v int64
	err := s.pool.QueryRow(ctx, sqlVersion, uuidArg(id)).Scan(&v)
	if err != nil {
		return classify(err, "check task version")
	}
	return task.Errorf(task.PreconditionFailed, "the task has changed since you read it (it is now at version %d); fetch it again and retry", v)
}

func uuidArg(id task.ID) pgtype.UUID {
	return pgtype.UUID{Bytes: id, Valid: true}
}

func dateArg(d *task.Date) pgtype.Date {
	if d == nil {
		return pgtype.Date{}
	}
	return pgtype.Date{Time: d.Time(), Valid: true}
}

func scanTask(row pgx.Row) (task.Task, error) {
	var (
		t      task.Task
		id     pgtype.UUID
		status string
		due    pgtype.Date
	)
	err := row.Scan(&id, &t.Title, &t.Description, &status, &due, &t.Version, &t.CreatedAt, &t.UpdatedAt)
	if err != nil {
		return task.Task{}, err
	}
	t.ID = id.Bytes
	t.Status = task.Status(status)
	if due.Valid {
		d := task.DateOf(due.Time)
		t.DueDate = &d
	}
	return t, nil
}

// errNotFound is shared so the common miss does not allocate.
var errNotFound = task.Errorf(task.NotFound, "task not found")

func classify(err error, op string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return errNotFound
	}
	return classifyDB(err, op)
}
