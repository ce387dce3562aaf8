package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/gantry-dev/gantry/services/internal/task"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// Store is what the workers need of the database.
type Store interface {
	// GetWebhook returns the webhook, or an error of kind task.NotFound
	// once it is deleted.
	GetWebhook(ctx context.Context, id task.ID) (webhook.Webhook, error)
	// FanOut inserts the event's deliveries and their jobs (each with
	// maxAttempts) in one transaction; run again for the same event, it
	// makes nothing new.
	FanOut(ctx context.Context, client *river.Client[pgx.Tx], e webhook.Event, maxAttempts int) (int, error)
	// RecordAttempt writes what an attempt found on its delivery.
	RecordAttempt(ctx context.Context, deliveryID task.ID, a webhook.Attempt) error
	// FailAbandoned records failed, with reason, the pending deliveries
	// whose job River discarded within the last window, and counts them.
	FailAbandoned(ctx context.Context, window time.Duration, reason string) (int, error)
}

// Options are what the workers are made of.
type Options struct {
	Store   Store
	Sender  *Sender
	Backoff Backoff       // its Attempts is every delivery's; the fan-out gives each job that many
	Timeout time.Duration // one attempt (WEBHOOK_TIMEOUT), as the Sender's client has it
	Metrics *Metrics
	Log     *slog.Logger
}

// NewWorkers registers the event, delivery and sweep workers, for a River
// client that works QueueEvents and QueueDeliveries and runs Sweep.
func NewWorkers(o Options) *river.Workers {
	workers := river.NewWorkers()
	river.AddWorker(workers, &eventWorker{store: o.Store, maxAttempts: o.Backoff.Attempts, log: o.Log})
	river.AddWorker(workers, newDeliveryWorker(o))
	river.AddWorker(workers, newSweepWorker(o))
	return workers
}

// fanOutTimeout bounds one fan-out: a transaction of a few statements.
const fanOutTimeout = 30 * time.Second

// eventWorker turns each event into one delivery job per webhook that
// wants it.
type eventWorker struct {
	river.WorkerDefaults[webhook.EventJob]
	store       Store
	maxAttempts int
	log         *slog.Logger
}

// Work fans the event out. River completes the job after Work returns; a
// crash between the fan-out's commit and that completion runs the event
// again, and the deliveries already made (unique per event and webhook)
// are not made twice.
func (w *eventWorker) Work(ctx context.Context, job *river.Job[webhook.EventJob]) error {
	n, err := w.store.FanOut(ctx, river.ClientFromContext[pgx.Tx](ctx), job.Args.Event, w.maxAttempts)
	if err != nil {
		return fmt.Errorf("fan out event %s: %w", job.Args.ID, err)
	}
	w.log.LogAttrs(ctx, slog.LevelDebug, "event fanned out",
		slog.String("event_id", job.Args.ID), slog.String("event_type", string(job.Args.Type)), slog.Int("deliveries", n))
	return nil
}

// Timeout bounds a fan-out.
func (w *eventWorker) Timeout(*river.Job[webhook.EventJob]) time.Duration { return fanOutTimeout }

// Time a delivery job has beyond its HTTP attempt: loading the webhook
// before it and recording the attempt after it (recordTimeout, on its own
// clock, so an attempt that ran out of time is still recorded).
const (
	jobSlack      = 5 * time.Second
	recordTimeout = 5 * time.Second
)

// JobTimeout is how long a delivery job may run, given one attempt's
// timeout: River cancels its context then.
func JobTimeout(attempt time.Duration) time.Duration { return attempt + jobSlack }

// RescueAfter is when River's rescuer may take back a delivery job still
// marked running, which happens when its notifier died mid-attempt: only
// once the job's time and its record's are surely over, so a live
// attempt is not sent twice. The rescued job is retried by the backoff, or,
// on its last attempt, discarded, and the sweep records its delivery failed.
func RescueAfter(attempt time.Duration) time.Duration {
	return JobTimeout(attempt) + recordTimeout + jobSlack
}
