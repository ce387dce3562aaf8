package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/riverqueue/river"

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

// FanOut makes one delivery per webhook that wants the event, and a
// delivery job for each, retried on its own up to maxAttempts, in one
// transaction. River completes the event's job once Work returns; a crash
// before that runs the event again, and a run again makes nothing new (a
// delivery is unique per event and webhook). It returns how many
// deliveries it made.
func (s *WebhookStore) FanOut(ctx context.Context, client *river.Client[pgx.Tx], e webhook.Event, maxAttempts int) (int, error) {
	made := 0
	// River's notice of the delivery jobs goes out on the fan-out's own
	// connection, right after the commit. In the background it would wait
	// for one of the pool's connections, which the notifier's workers keep
	// busy, and the jobs with it.
	err := inTx(ctx, s.pool, pgx.TxOptions{}, nil, func(tx *eventTx) error {
		params, err := deliveriesOf(ctx, tx.Tx, e, maxAttempts)
		if err != nil || len(params) == 0 {
			return err
		}
		// The delivery jobs' insert is the transaction's last statement
		// and goes out with the COMMIT (see eventTx).
		if _, err := client.InsertManyTx(ctx, tx, params); err != nil {
			return fmt.Errorf("insert delivery jobs: %w", err)
		}
		made = len(params)
		return nil
	})
	return made, classifyDB(err, "fan out event")
}

// deliveriesOf makes the event's deliveries (sqlFanOut) and returns a
// delivery job for each it made.
func deliveriesOf(ctx context.Context, tx pgx.Tx, e webhook.Event, maxAttempts int) ([]river.InsertManyParams, error) {
	rows, err := tx.Query(ctx, sqlFanOut, e.ID, string(e.Type))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var params []river.InsertManyParams
	for rows.Next() {
		var id, hook pgtype.UUID
		if err := rows.Scan(&id, &hook); err != nil {
			return nil, err
		}
		params = append(params, river.InsertManyParams{
			Args:       webhook.DeliveryJob{DeliveryID: task.ID(id.Bytes).String(), WebhookID: task.ID(hook.Bytes).String(), Event: e},
			InsertOpts: &river.InsertOpts{Queue: webhook.QueueDeliveries, MaxAttempts: maxAttempts},
		})
	}
	return params, rows.Err()
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

// sqlRecordAttempts is sqlRecordAttempt for many deliveries at once, one
// array per column.
const sqlRecordAttempts = `
UPDATE webhook_deliveries d SET
    attempts        = a.attempts,
    last_status     = NULLIF(a.http_status, 0),
    last_error      = NULLIF(a.err, ''),
    status          = a.status,
    next_attempt_at = a.next_at,
    delivered_at    = CASE WHEN a.status = 'succeeded' THEN now() ELSE d.delivered_at END
FROM unnest($1::uuid[], $2::integer[], $3::integer[], $4::text[], $5::text[], $6::timestamptz[])
    AS a (id, attempts, http_status, err, status, next_at)
WHERE d.id = a.id`

// recordCall is one attempt waiting to be written, answered with err.
type recordCall struct {
	waiter
	id  task.ID
	a   webhook.Attempt
	err error
}

// RecordAttempt writes what a delivery attempt found on its delivery.
// Under load, attempts recorded at the same time share one statement (see
// coalescer); each call still returns only once its own is written.
func (s *WebhookStore) RecordAttempt(ctx context.Context, deliveryID task.ID, a webhook.Attempt) error {
	c := &recordCall{waiter: newWaiter(ctx), id: deliveryID, a: a}
	if err := s.records.await(c); err != nil {
		return classifyDB(err, "record delivery attempt")
	}
	return c.err
}

// record writes a batch of attempts: alone under its caller's context, or
// together in one statement.
func (s *WebhookStore) record(batch []*recordCall) {
	var err error
	if len(batch) == 1 {
		c := batch[0]
		_, err = s.pool.Exec(c.ctx, sqlRecordAttempt, uuidArg(c.id), c.a.Number, c.a.HTTPStatus, c.a.Err, string(c.a.Status), c.a.NextAt)
	} else {
		err = s.recordMany(batch)
	}
	err = classifyDB(err, "record delivery attempt")
	for _, c := range batch {
		c.err = err
		c.answer()
	}
}

func (s *WebhookStore) recordMany(batch []*recordCall) error {
	n := len(batch)
	ids := make([]pgtype.UUID, n)
	numbers, statuses, errs, states, next := make([]int32, n), make([]int32, n), make([]string, n), make([]string, n), make([]*time.Time, n)
	for i, c := range batch {
		ids[i] = uuidArg(c.id)
		numbers[i], statuses[i] = int32(c.a.Number), int32(c.a.HTTPStatus) //nolint:gosec // G115: attempts and HTTP statuses are small
		errs[i], states[i], next[i] = c.a.Err, string(c.a.Status), c.a.NextAt
	}
	ctx, cancel := batchContext(batch)
	defer cancel()
	_, err := s.pool.Exec(ctx, sqlRecordAttempts, ids, numbers, statuses, errs, states, next)
	return err
}
