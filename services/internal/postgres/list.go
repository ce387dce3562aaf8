package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-dev/gantry/services/internal/task"
)

// One statement per shape of filter, rather than one with "$1 IS NULL OR"
// branches: each gets a plan that walks the matching index in order and
// stops after LIMIT rows, however deep the cursor points.
const (
	sqlListFirst = `SELECT ` + columns + ` FROM tasks
ORDER BY created_at, id LIMIT $1`
	sqlListAfter = `SELECT ` + columns + ` FROM tasks
WHERE (created_at, id) > ($2, $3)
ORDER BY created_at, id LIMIT $1`
	sqlListStatusFirst = `SELECT ` + columns + ` FROM tasks
WHERE status = $2
ORDER BY created_at, id LIMIT $1`
	sqlListStatusAfter = `SELECT ` + columns + ` FROM tasks
WHERE status = $2 AND (created_at, id) > ($3, $4)
ORDER BY created_at, id LIMIT $1`
)

// List returns up to f.Limit tasks after f.After. It reads one extra row to
// learn whether another page exists without a COUNT.
func (s *Store) List(ctx context.Context, f task.Filter) (task.Page, error) {
	limit := f.Limit + 1
	var rows pgx.Rows
	var err error
	switch {
	case f.Status == nil && f.After == nil:
		rows, err = s.pool.Query(ctx, sqlListFirst, limit)
	case f.Status == nil:
		rows, err = s.pool.Query(ctx, sqlListAfter, limit, f.After.CreatedAt, uuidArg(f.After.ID))
	case f.After == nil:
		rows, err = s.pool.Query(ctx, sqlListStatusFirst, limit, string(*f.Status))
	default:
		rows, err = s.pool.Query(ctx, sqlListStatusAfter, limit, string(*f.Status), f.After.CreatedAt, uuidArg(f.After.ID))
	}
	if err != nil {
		return task.Page{}, classify(err, "list tasks")
	}
	tasks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (task.Task, error) { return scanTask(r) })
	if err != nil {
		return task.Page{}, classify(err, "list tasks")
	}
	page := task.Page{Tasks: tasks}
	if len(tasks) > f.Limit {
		page.Tasks = tasks[:f.Limit]
		last := page.Tasks[f.Limit-1]
		page.Next = &task.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	return page, nil
}
