package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-dev/gantry/services/internal/task"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// sqlUpdate changes only the fields the patch carries (NULL means "keep"),
// and only if the version still matches: the check and the write are one
// statement, so two clients cannot both win.
const sqlUpdate = `
UPDATE tasks SET
    title       = COALESCE($2, title),
    description = COALESCE($3, description),
    status      = COALESCE($4, status),
    due_date    = CASE WHEN $5 THEN $6 ELSE due_date END,
    version     = version + 1,
    updated_at  = now()
WHERE id = $1 AND ($7::bigint = 0 OR version = $7)
RETURNING ` + columns

// Update applies p if pre holds. An empty patch changes nothing, not even
// the version, but still reports a missing task or a failed precondition.
func (s *Store) Update(ctx context.Context, id task.ID, p task.Patch, pre task.Precondition) (task.Task, error) {
	if p.Empty() {
		return s.unchanged(ctx, id, pre)
	}
	var status *string
	if p.Status != nil {
		v := string(*p.Status)
		status = &v
	}
	setDue := p.DueDate != nil || p.ClearDue
	var t task.Task
	err := s.change(ctx, webhook.TaskUpdated, func(tx pgx.Tx) (task.Task, error) {
		var err error
		t, err = scanTask(tx.QueryRow(ctx, sqlUpdate, uuidArg(id), p.Title, p.Description, status, setDue, dateArg(p.DueDate), pre.Version))
		return t, err
	})
	if err == nil {
		return t, nil
	}
	if err = classify(err, "update task"); task.KindOf(err) == task.NotFound {
		return task.Task{}, s.explainMiss(ctx, id)
	}
	return task.Task{}, err
}

func (s *Store) unchanged(ctx context.Context, id task.ID, pre task.Precondition) (task.Task, error) {
	t, err := s.Get(ctx, id)
	if err != nil {
		return task.Task{}, err
	}
	if pre.Version != 0 && pre.Version != t.Version {
		return task.Task{}, task.Errorf(task.PreconditionFailed, "the task has changed since you read it (it is now at version %d); fetch it again and retry", t.Version)
	}
	return t, nil
}
