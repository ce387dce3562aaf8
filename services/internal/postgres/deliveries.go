package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/gantry-dev/gantry/services/internal/task"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// One statement makes every delivery of an event: the webhooks that want
// its type get a row each, and a row already there (a fan-out that ran
// before) stays as it is.
const sqlFanOut = `
INSERT INTO webhook_deliveries (webhook_id, event_id, event_type)
SELECT id, $1, $2 FROM webhooks WHERE $2 = ANY (events)
ON CONFLICT (event_id, webhook_id) DO NOTHING
RETURNING id, webhook_id`

// FanOut turns an event's job into one delivery job per webhook that wants
// the event, each retried on its own up to maxAttempts, and completes the
// event's job, all in one transaction: a crash leaves either all of it or
// none, and River runs the event again. It returns how many deliveries it
// made.
func (s *WebhookStore) FanOut(ctx context.Context, client *river.Client[pgx.Tx], job *river.Job[webhook.EventJob], maxAttempts int) (int, error) {
	made := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, sqlFanOut, job.Args.ID, string(job.Args.Type))
		if err != nil {
			return err
		}
		var params []river.InsertManyParams
		for rows.Next() {
			var id, hook pgtype.UUID
			if err := rows.Scan(&id, &hook); err != nil {
				rows.Close()
				return err
			}
			params = append(params, river.InsertManyParams{
				Args:       webhook.DeliveryJob{DeliveryID: task.ID(id.Bytes).String(), WebhookID: task.ID(hook.Bytes).String(), Event: job.Args.Event},
				InsertOpts: &river.InsertOpts{Queue: webhook.QueueDeliveries, MaxAttempts: maxAttempts},
			})
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(params) > 0 {
			if _, err := client.InsertManyFastTx(ctx, tx, params); err != nil {
				return fmt.Errorf("insert delivery jobs: %w", err)
			}
		}
		made = len(params)
		_, err = river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
		return err
	})
	return made, classifyDB(err, "fan out event")
}

const sqlRecordAttempt = `
UPDATE webhook_deliveries SET
    attempts        = $2,
    last_status     = NULLIF($3, 0),
    last_error      = NULLIF($4, ''),
    status          = $5,
    next_attempt_at = $6,
    delivered_at    = CASE WHEN $5 = 'succeeded' THEN now() ELSE delivered_at END
WHERE id = $1`

// RecordAttempt writes what a delivery attempt found on its delivery.
func (s *WebhookStore) RecordAttempt(ctx context.Context, deliveryID task.ID, a webhook.Attempt) error {
	_, err := s.pool.Exec(ctx, sqlRecordAttempt, uuidArg(deliveryID), a.Number, a.HTTPStatus, a.Err, string(a.Status), a.NextAt)
	return classifyDB(err, "record delivery attempt")
}
