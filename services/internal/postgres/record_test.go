package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/services/internal/postgres"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

func TestConcurrentAttemptsShareStatementsAndEachIsRecordedAsItWas(t *testing.T) {
	t.Parallel()
	pool := migratedPool(t, 1)
	ws := postgres.NewWebhookStore(pool)
	ctx := context.Background()
	hook := mustCreateWebhook(t, ws, "https://a.example/hook", webhook.EventTypes...)
	const deliveries = 60
	rows, err := pool.Query(ctx, `INSERT INTO webhook_deliveries (webhook_id, event_id, event_type)
SELECT $1, 'event-' || n, 'task.created' FROM generate_series(1, $2) AS n RETURNING id::text, event_id`, hook.ID, deliveries)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{} // event id -> delivery id
	for rows.Next() {
		var id, event string
		if err := rows.Scan(&id, &event); err != nil {
			t.Fatal(err)
		}
		ids[event] = id
	}
	if rows.Err() != nil || len(ids) != deliveries {
		t.Fatalf("%d deliveries made (%v)", len(ids), rows.Err())
	}
	next := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	// Attempt i of event i: every third succeeded, failed, or pending.
	want := func(i int) webhook.Attempt {
		switch i % 3 {
		case 0:
			return webhook.Attempt{Number: i, HTTPStatus: 204, Status: webhook.DeliverySucceeded}
		case 1:
			return webhook.Attempt{Number: i, HTTPStatus: 500, Err: fmt.Sprintf("error %d", i), Status: webhook.DeliveryFailed}
		}
		return webhook.Attempt{Number: i, Err: "no answer", Status: webhook.DeliveryPending, NextAt: &next}
	}

	before := pool.Stat().AcquireCount()
	var wg sync.WaitGroup
	for i := 1; i <= deliveries; i++ {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := ws.RecordAttempt(ctx, mustID(t, ids[fmt.Sprintf("event-%d", i)]), want(i)); err != nil {
				t.Errorf("record attempt %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	statements := pool.Stat().AcquireCount() - before
	t.Logf("%d attempts recorded with %d statements", deliveries, statements)
	if statements >= deliveries {
		t.Errorf("%d attempts took %d statements on a pool of one connection: none were shared", deliveries, statements)
	}

	got, _, err := ws.ListDeliveries(ctx, mustID(t, hook.ID), nil, deliveries)
	if err != nil || len(got) != deliveries {
		t.Fatalf("%d deliveries listed (%v)", len(got), err)
	}
	for _, d := range got {
		var i int
		if _, err := fmt.Sscanf(d.EventID, "event-%d", &i); err != nil {
			t.Fatal(err)
		}
		w := want(i)
		ok := d.Attempts == w.Number && d.Status == w.Status && d.LastStatus == w.HTTPStatus && d.LastError == w.Err &&
			(d.NextAttemptAt == nil) == (w.NextAt == nil) && (d.DeliveredAt != nil) == (w.Status == webhook.DeliverySucceeded)
		if ok && w.NextAt != nil {
			ok = d.NextAttemptAt.Equal(next)
		}
		if !ok {
			t.Errorf("delivery of %s is %+v, want what attempt %+v found", d.EventID, d, w)
		}
	}
}
