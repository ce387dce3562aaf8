package postgres_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// A delivery after two attempts, in status with lastError, and its job in
// jobState, finalized that long ago, on its third and last attempt.
type abandonCase struct {
	name       string
	status     string
	lastError  string
	jobState   string
	finalized  time.Duration
	wantStatus string
	wantError  string
	wantTries  int // attempts the delivery shows
}

func TestASweepForAbandonedDeliveries(t *testing.T) {
	t.Parallel()
	ws, _, pool := webhookStore(t)
	ctx := context.Background()
	hook := mustCreateWebhook(t, ws, "https://a.example/hook", webhook.EventTypes...)
	const reason = "its notifier stopped"
	cases := []abandonCase{
		{"fails a pending delivery whose job River discarded just now", "pending", "answered 500", "discarded", time.Second, "failed", reason, 3},
		{"keeps the last error of a delivery its last attempt recorded failed", "failed", "answered 503", "discarded", time.Second, "failed", "answered 503", 2},
		{"leaves pending a delivery whose job still runs", "pending", "answered 500", "running", 0, "pending", "answered 500", 2},
		{"leaves pending a delivery whose job was discarded before its window", "pending", "answered 500", "discarded", 2 * time.Hour, "pending", "answered 500", 2},
	}
	client := insertOnlyClient(t, pool)
	ids := make([]string, len(cases))
	for i, tc := range cases {
		ids[i] = abandonedDelivery(t, pool, client, hook.ID, i, tc)
	}

	n, err := ws.FailAbandoned(ctx, time.Hour, reason)
	if err != nil || n != 1 {
		t.Fatalf("FailAbandoned: %d, %v; want the one delivery found", n, err)
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var status, lastError string
			var attempts int
			var next *time.Time
			if err := pool.QueryRow(ctx, `SELECT status, attempts, coalesce(last_error, ''), next_attempt_at FROM webhook_deliveries WHERE id = $1`, ids[i]).
				Scan(&status, &attempts, &lastError, &next); err != nil {
				t.Fatal(err)
			}
			if status != tc.wantStatus || lastError != tc.wantError || attempts != tc.wantTries || next != nil {
				t.Errorf("status %s, last error %q, %d attempts, next at %v; want %s, %q, %d, none",
					status, lastError, attempts, next, tc.wantStatus, tc.wantError, tc.wantTries)
			}
		})
	}
}

// abandonedDelivery makes the delivery of event i and its job, inserted
// by client, then puts the job where tc says, as River would: the
// rescuer discards a job on its third and last attempt.
func abandonedDelivery(t *testing.T, pool *pgxpool.Pool, client *river.Client[pgx.Tx], hookID string, i int, tc abandonCase) string {
	t.Helper()
	ctx := context.Background()
	var id string
	if err := pool.QueryRow(ctx, `INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, status, attempts, last_error)
VALUES ($1, $2, 'task.created', $3, 2, $4) RETURNING id`, hookID, "evt_"+strconv.Itoa(i), tc.status, tc.lastError).Scan(&id); err != nil {
		t.Fatal(err)
	}
	job, err := client.Insert(ctx, webhook.DeliveryJob{DeliveryID: id, WebhookID: hookID}, &river.InsertOpts{Queue: webhook.QueueDeliveries, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE river_job SET state = $2::river_job_state, attempt = 3, attempted_at = now() - interval '1 minute',
    finalized_at = CASE WHEN $2::text = 'discarded' THEN now() - $3::interval END WHERE id = $1`, job.Job.ID, tc.jobState, tc.finalized); err != nil {
		t.Fatal(err)
	}
	return id
}
