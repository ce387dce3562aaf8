package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-dev/gantry/services/internal/keyset"
	"github.com/gantry-dev/gantry/services/internal/task"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// WebhookStore keeps webhooks and the record of their deliveries.
type WebhookStore struct {
	pool    *pgxpool.Pool
	records coalescer[*recordCall]
}

// NewWebhookStore returns a WebhookStore on pool; it does not own the pool.
// Attempts are recorded on a quarter of the pool at once (at least one
// connection), as tasks are read (newGetBatcher).
func NewWebhookStore(pool *pgxpool.Pool) *WebhookStore {
	s := &WebhookStore{pool: pool}
	s.records = coalescer[*recordCall]{limit: max(1, int(pool.Config().MaxConns)/4), run: s.record}
	return s
}

const webhookColumns = `id, url, events, secret, created_at`

var errWebhookNotFound = task.Errorf(task.NotFound, "webhook not found")

const sqlCreateWebhook = `INSERT INTO webhooks (url, events, secret) VALUES ($1, $2, $3) RETURNING ` + webhookColumns

// CreateWebhook stores w (its URL already checked against the policy) and
// returns it with its ID and creation time.
func (s *WebhookStore) CreateWebhook(ctx context.Context, w webhook.Webhook) (webhook.Webhook, error) {
	created, err := scanWebhook(s.pool.QueryRow(ctx, sqlCreateWebhook, w.URL, eventNames(w.Events), w.Secret))
	return created, classifyDB(err, "create webhook")
}

const sqlGetWebhook = `SELECT ` + webhookColumns + ` FROM webhooks WHERE id = $1`

// GetWebhook returns the webhook id, or a NotFound error.
func (s *WebhookStore) GetWebhook(ctx context.Context, id task.ID) (webhook.Webhook, error) {
	w, err := scanWebhook(s.pool.QueryRow(ctx, sqlGetWebhook, uuidArg(id)))
	if errors.Is(err, pgx.ErrNoRows) {
		return webhook.Webhook{}, errWebhookNotFound
	}
	return w, classifyDB(err, "get webhook")
}

const (
	sqlListWebhooksFirst = `SELECT ` + webhookColumns + ` FROM webhooks ORDER BY created_at, id LIMIT $1`
	sqlListWebhooksAfter = `SELECT ` + webhookColumns + ` FROM webhooks
WHERE (created_at, id) > ($2, $3) ORDER BY created_at, id LIMIT $1`
)

// ListWebhooks returns up to limit webhooks after the cursor, and the
// cursor of the next page (nil on the last).
func (s *WebhookStore) ListWebhooks(ctx context.Context, after *keyset.Cursor, limit int) ([]webhook.Webhook, *keyset.Cursor, error) {
	var rows pgx.Rows
	var err error
	if after == nil {
		rows, err = s.pool.Query(ctx, sqlListWebhooksFirst, limit+1)
	} else {
		rows, err = s.pool.Query(ctx, sqlListWebhooksAfter, limit+1, after.CreatedAt, uuidArg(after.ID))
	}
	if err != nil {
		return nil, nil, classifyDB(err, "list webhooks")
	}
	hooks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (webhook.Webhook, error) { return scanWebhook(r) })
	if err != nil {
		return nil, nil, classifyDB(err, "list webhooks")
	}
	if len(hooks) <= limit {
		return hooks, nil, nil
	}
	last := hooks[limit-1]
	id, _ := task.ParseID(last.ID) // the database made it
	return hooks[:limit], &keyset.Cursor{CreatedAt: last.CreatedAt, ID: id}, nil
}

const sqlDeleteWebhook = `DELETE FROM webhooks WHERE id = $1`

// DeleteWebhook deletes webhook id and its deliveries' record; jobs still
// queued for it find it gone and cancel.
func (s *WebhookStore) DeleteWebhook(ctx context.Context, id task.ID) error {
	tag, err := s.pool.Exec(ctx, sqlDeleteWebhook, uuidArg(id))
	if err != nil {
		return classifyDB(err, "delete webhook")
	}
	if tag.RowsAffected() == 0 {
		return errWebhookNotFound
	}
	return nil
}

func scanWebhook(row pgx.Row) (webhook.Webhook, error) {
	var (
		w      webhook.Webhook
		id     pgtype.UUID
		events []string
	)
	if err := row.Scan(&id, &w.URL, &events, &w.Secret, &w.CreatedAt); err != nil {
		return webhook.Webhook{}, err
	}
	w.ID = task.ID(id.Bytes).String()
	w.Events = make([]webhook.EventType, len(events))
	for i, e := range events {
		w.Events[i] = webhook.EventType(e)
	}
	return w, nil
}

func eventNames(events []webhook.EventType) []string {
	names := make([]string, len(events))
	for i, e := range events {
		names[i] = string(e)
	}
	return names
}

const deliveryColumns = `id, webhook_id, event_id, event_type, status, attempts, last_error, last_status, next_attempt_at, created_at, delivered_at`

const (
	sqlListDeliveriesFirst = `SELECT ` + deliveryColumns + ` FROM webhook_deliveries
WHERE webhook_id = $2 ORDER BY created_at, id LIMIT $1`
	sqlListDeliveriesAfter = `SELECT ` + deliveryColumns + ` FROM webhook_deliveries
WHERE webhook_id = $2 AND (created_at, id) > ($3, $4) ORDER BY created_at, id LIMIT $1`
)

// ListDeliveries returns up to limit deliveries to webhook id after the
// cursor, oldest first, and the next page's cursor; NotFound when there is
// no such webhook.
func (s *WebhookStore) ListDeliveries(ctx context.Context, id task.ID, after *keyset.Cursor, limit int) ([]webhook.Delivery, *keyset.Cursor, error) {
	if _, err := s.GetWebhook(ctx, id); err != nil {
		return nil, nil, err
	}
	var rows pgx.Rows
	var err error
	if after == nil {
		rows, err = s.pool.Query(ctx, sqlListDeliveriesFirst, limit+1, uuidArg(id))
	} else {
		rows, err = s.pool.Query(ctx, sqlListDeliveriesAfter, limit+1, uuidArg(id), after.CreatedAt, uuidArg(after.ID))
	}
	if err != nil {
		return nil, nil, classifyDB(err, "list deliveries")
	}
	ds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (webhook.Delivery, error) { return scanDelivery(r) })
	if err != nil {
		return nil, nil, classifyDB(err, "list deliveries")
	}
	if len(ds) <= limit {
		return ds, nil, nil
	}
	last := ds[limit-1]
	did, _ := task.ParseID(last.ID) // the database made it
	return ds[:limit], &keyset.Cursor{CreatedAt: last.CreatedAt, ID: did}, nil
}

func scanDelivery(row pgx.Row) (webhook.Delivery, error) {
	var (
		d                 webhook.Delivery
		id, hook          pgtype.UUID
		typ, status       string
		lastErr           *string
		lastStatus        *int32
		next, deliveredAt *time.Time
	)
	err := row.Scan(&id, &hook, &d.EventID, &typ, &status, &d.Attempts, &lastErr, &lastStatus, &next, &d.CreatedAt, &deliveredAt)
	if err != nil {
		return webhook.Delivery{}, err
	}
	d.ID, d.WebhookID = task.ID(id.Bytes).String(), task.ID(hook.Bytes).String()
	d.EventType, d.Status = webhook.EventType(typ), webhook.DeliveryStatus(status)
	if lastErr != nil {
		d.LastError = *lastErr
	}
	if lastStatus != nil {
		d.LastStatus = int(*lastStatus)
	}
	d.NextAttemptAt, d.DeliveredAt = next, deliveredAt
	return d, nil
}
