package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-dev/gantry/services/internal/task"
)

// Store is the PostgreSQL task.Store.
type Store struct {
	pool *pgxpool.Pool
	gets *getBatcher
}

var _ task.Store = (*Store)(nil)

// NewStore returns a Store on pool; it does not own the pool.
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, gets: newGetBatcher(pool)}
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
	row := s.pool.QueryRow(ctx, sqlCreate, n.Title, n.Description, string(n.Status), dateArg(n.DueDate))
	t, err := scanTask(row)
	return t, classify(err, "create task")
}

const sqlGet = `SELECT ` + columns + ` FROM tasks WHERE id = $1`

// Get returns one task, or a NotFound error. Concurrent Gets share
// queries when the pool is busy (see getBatcher).
func (s *Store) Get(ctx context.Context, id task.ID) (task.Task, error) {
	return s.gets.get(ctx, id)
}

const sqlDelete = `DELETE FROM tasks WHERE id = $1 AND ($2::bigint = 0 OR version = $2)`

// Delete removes a task if pre holds.
func (s *Store) Delete(ctx context.Context, id task.ID, pre task.Precondition) error {
	tag, err := s.pool.Exec(ctx, sqlDelete, uuidArg(id), pre.Version)
	if err != nil {
		return classify(err, "delete task")
	}
	if tag.RowsAffected() == 0 {
		return s.explainMiss(ctx, id)
	}
	return nil
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
