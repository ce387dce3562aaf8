package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/gantry-dev/gantry/services/internal/postgres"
	"github.com/gantry-dev/gantry/services/internal/task"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

func webhookStore(t *testing.T) (*postgres.WebhookStore, *postgres.Store, *pgxpool.Pool) {
	t.Helper()
	s, pool := migratedStore(t)
	return postgres.NewWebhookStore(pool), s, pool
}

func mustCreateWebhook(t *testing.T, ws *postgres.WebhookStore, url string, events ...webhook.EventType) webhook.Webhook {
	t.Helper()
	w, err := ws.CreateWebhook(context.Background(), webhook.Webhook{URL: url, Events: events, Secret: webhook.NewSecret()})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func mustID(t *testing.T, s string) task.ID {
	t.Helper()
	id, err := task.ParseID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestWebhooksAreStoredListedInPagesAndDeleted(t *testing.T) {
	t.Parallel()
	ws, _, _ := webhookStore(t)
	ctx := context.Background()
	var made []webhook.Webhook
	for range 5 {
		made = append(made, mustCreateWebhook(t, ws, "https://example.com/hook", webhook.TaskCreated, webhook.TaskDeleted))
	}
	got, err := ws.GetWebhook(ctx, mustID(t, made[0].ID))
	if err != nil || got.URL != "https://example.com/hook" || !got.Wants(webhook.TaskDeleted) || got.Wants(webhook.TaskUpdated) || got.Secret != made[0].Secret {
		t.Fatalf("GetWebhook = %+v, %v", got, err)
	}
	var seen []string
	page, next, err := ws.ListWebhooks(ctx, nil, 2)
	for err == nil {
		for _, w := range page {
			seen = append(seen, w.ID)
		}
		if next == nil {
			break
		}
		page, next, err = ws.ListWebhooks(ctx, next, 2)
	}
	if err != nil || len(seen) != 5 {
		t.Fatalf("listing in pages of 2 saw %d webhooks (%v)", len(seen), err)
	}
	for i, w := range made {
		if seen[i] != w.ID {
			t.Fatalf("listing order %v, want creation order", seen)
		}
	}
	if err := ws.DeleteWebhook(ctx, mustID(t, made[0].ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.GetWebhook(ctx, mustID(t, made[0].ID)); task.KindOf(err) != task.NotFound {
		t.Errorf("a deleted webhook: %v, want NotFound", err)
	}
	if err := ws.DeleteWebhook(ctx, mustID(t, made[0].ID)); task.KindOf(err) != task.NotFound {
		t.Errorf("deleting it again: %v, want NotFound", err)
	}
}

// fanOutWorker fans each event out with FanOut.
type fanOutWorker struct {
	river.WorkerDefaults[webhook.EventJob]
	ws *postgres.WebhookStore
}

func (w *fanOutWorker) Work(ctx context.Context, job *river.Job[webhook.EventJob]) error {
	_, err := w.ws.FanOut(ctx, river.ClientFromContext[pgx.Tx](ctx), job.Args.Event, 5)
	return err
}

// parkedDeliveries lets the client insert delivery jobs (River inserts
// only kinds it has a worker for); its queue is not worked here.
type parkedDeliveries struct {
	river.WorkerDefaults[webhook.DeliveryJob]
}

func (parkedDeliveries) Work(context.Context, *river.Job[webhook.DeliveryJob]) error { return nil }

// workEvents fans out n queued events in ws with River's client on pool.
func workEvents(t *testing.T, ws *postgres.WebhookStore, pool *pgxpool.Pool, n int) {
	t.Helper()
	workers := river.NewWorkers()
	river.AddWorker(workers, &fanOutWorker{ws: ws})
	river.AddWorker(workers, parkedDeliveries{})
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:  map[string]river.QueueConfig{webhook.QueueEvents: {MaxWorkers: 2}},
		Workers: workers,
	})
	if err != nil {
		t.Fatal(err)
	}
	done, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancel()
	if err := client.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Stop(context.Background()) }() // the events are done
	for range n {
		select {
		case ev := <-done:
			if ev.Kind != river.EventKindJobCompleted {
				t.Fatalf("an event job ended %s: %v", ev.Kind, ev.Job.Errors)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("the events were not worked")
		}
	}
}

func TestFanOutMakesOneDeliveryPerWantingWebhookAndCompletesTheEvent(t *testing.T) {
	t.Parallel()
	ws, s, pool := webhookStore(t)
	ctx := context.Background()
	all := mustCreateWebhook(t, ws, "https://a.example/hook", webhook.EventTypes...)
	onlyDeletes := mustCreateWebhook(t, ws, "https://b.example/hook", webhook.TaskDeleted)
	created, err := s.Create(ctx, task.New{Title: "fan me out", Status: task.StatusTodo})
	if err != nil {
		t.Fatal(err)
	}

	workEvents(t, ws, pool, 1)

	ds, _, err := ws.ListDeliveries(ctx, mustID(t, all.ID), nil, 10)
	if err != nil || len(ds) != 1 || ds[0].EventType != webhook.TaskCreated || ds[0].Status != webhook.DeliveryPending {
		t.Fatalf("the webhook that wants every event has deliveries %+v (%v), want one pending task.created", ds, err)
	}
	if ds, _, _ := ws.ListDeliveries(ctx, mustID(t, onlyDeletes.ID), nil, 10); len(ds) != 0 {
		t.Fatalf("the webhook that wants only deletions got %+v", ds)
	}
	var jobs int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE queue = $1 AND args->>'webhook_id' = $2 AND args->'event'->'task'->>'id' = $3`,
		webhook.QueueDeliveries, all.ID, created.ID.String()).Scan(&jobs); err != nil || jobs != 1 {
		t.Fatalf("%d delivery jobs queued (%v), want 1", jobs, err)
	}

	t.Run("an attempt is recorded on its delivery", func(t *testing.T) {
		next := time.Now().Add(time.Minute).Truncate(time.Microsecond)
		id := mustID(t, ds[0].ID)
		if err := ws.RecordAttempt(ctx, id, webhook.Attempt{Number: 1, HTTPStatus: 500, Err: "the receiver answered 500", Status: webhook.DeliveryPending, NextAt: &next}); err != nil {
			t.Fatal(err)
		}
		if err := ws.RecordAttempt(ctx, id, webhook.Attempt{Number: 2, HTTPStatus: 204, Status: webhook.DeliverySucceeded}); err != nil {
			t.Fatal(err)
		}
		got, _, _ := ws.ListDeliveries(ctx, mustID(t, all.ID), nil, 10)
		d := got[0]
		if d.Status != webhook.DeliverySucceeded || d.Attempts != 2 || d.LastStatus != 204 || d.LastError != "" || d.NextAttemptAt != nil || d.DeliveredAt == nil {
			t.Errorf("after a 500 and a 204: %+v", d)
		}
	})
}

// insertOnlyClient is a River client on pool that inserts jobs and works
// nothing: without workers, River inserts any kind.
func insertOnlyClient(t *testing.T, pool *pgxpool.Pool) *river.Client[pgx.Tx] {
	t.Helper()
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// River completes an event's job after the fan-out commits, so a crash in
// between runs the event again: that run makes no second delivery or job.
func TestAFanOutRunAgainMakesNothingNew(t *testing.T) {
	t.Parallel()
	ws, s, pool := webhookStore(t)
	ctx := context.Background()
	for _, url := range []string{"https://a.example/hook", "https://b.example/hook"} {
		mustCreateWebhook(t, ws, url, webhook.EventTypes...)
	}
	if _, err := s.Create(ctx, task.New{Title: "fanned twice", Status: task.StatusTodo}); err != nil {
		t.Fatal(err)
	}
	event := eventsIn(t, pool)[0]
	client := insertOnlyClient(t, pool)

	for run, want := range []int{2, 0} {
		made, err := ws.FanOut(ctx, client, event, 5)
		if err != nil || made != want {
			t.Fatalf("fan-out run %d made %d deliveries (%v), want %d", run+1, made, err, want)
		}
	}
	var deliveries, jobs int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM webhook_deliveries WHERE event_id = $1),
	    (SELECT count(*) FROM river_job WHERE queue = $2 AND args->'event'->>'id' = $1)`,
		event.ID, webhook.QueueDeliveries).Scan(&deliveries, &jobs); err != nil {
		t.Fatal(err)
	}
	if deliveries != 2 || jobs != 2 {
		t.Errorf("after two runs: %d deliveries and %d delivery jobs, want 2 and 2", deliveries, jobs)
	}
}
