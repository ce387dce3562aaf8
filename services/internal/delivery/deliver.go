package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/gantry-dev/gantry/services/internal/task"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// deliveryWorker makes one attempt per job to send its event to its
// webhook, and records the attempt on the delivery. A 2xx completes the
// job; anything else is an error, which River retries at NextRetry until
// the job's attempts run out, when the delivery is recorded failed.
type deliveryWorker struct {
	river.WorkerDefaults[webhook.DeliveryJob]
	store   Store
	hooks   *hookCache
	sender  *Sender
	backoff Backoff
	timeout time.Duration
	metrics *Metrics
	log     *slog.Logger

	// next hands a failed attempt's retry time from Work, which records it
	// on the delivery, to NextRetry, which River calls right after for the
	// same job: the time the record shows is the time River uses.
	mu   sync.Mutex
	next map[int64]time.Time
}

func newDeliveryWorker(o Options) *deliveryWorker {
	return &deliveryWorker{store: o.Store, hooks: newHookCache(o.Store.GetWebhook), sender: o.Sender, backoff: o.Backoff, timeout: o.Timeout,
		metrics: o.Metrics, log: o.Log, next: map[int64]time.Time{}}
}

// maxErrorText bounds the error kept on a delivery: a receiver chooses its
// status line.
const maxErrorText = 500

// Work makes one attempt.
func (w *deliveryWorker) Work(ctx context.Context, job *river.Job[webhook.DeliveryJob]) error {
	args := job.Args
	hookID, err1 := task.ParseID(args.WebhookID)
	deliveryID, err2 := task.ParseID(args.DeliveryID)
	if err := errors.Join(err1, err2); err != nil {
		return river.JobCancel(fmt.Errorf("a delivery job with unusable IDs (webhook %q, delivery %q): %w", args.WebhookID, args.DeliveryID, err))
	}
	hook, err := w.hooks.get(ctx, hookID, job.Attempt)
	if task.KindOf(err) == task.NotFound {
		w.metrics.outcome(outcomeCancelled)
		w.log.LogAttrs(ctx, slog.LevelInfo, "delivery cancelled: the webhook was deleted", w.jobAttrs(job)...)
		return river.JobCancel(fmt.Errorf("webhook %s was deleted", args.WebhookID))
	}
	if err != nil {
		return fmt.Errorf("load webhook %s: %w", args.WebhookID, err)
	}

	res := w.sender.Send(ctx, hook, args.Event, time.Now())
	if res.Err != nil && errors.Is(ctx.Err(), context.Canceled) {
		// The notifier is stopping and cut the attempt short (or the job
		// was cancelled): River puts a stopped job back without counting
		// the attempt, so there is nothing to record.
		w.log.LogAttrs(ctx, slog.LevelInfo, "delivery interrupted; it will be attempted again", w.jobAttrs(job)...)
		return fmt.Errorf("attempt %d interrupted: %w", job.Attempt, ctx.Err())
	}
	a := w.attempt(job, res)
	w.record(ctx, deliveryID, a)
	w.observe(ctx, job, res, a)
	if res.Err != nil {
		return fmt.Errorf("attempt %d of %d: %w", job.Attempt, job.MaxAttempts, res.Err)
	}
	return nil
}

// attempt is what res means for the delivery: succeeded, failed for good
// on the last attempt, or pending until the next.
func (w *deliveryWorker) attempt(job *river.Job[webhook.DeliveryJob], res Result) webhook.Attempt {
	a := webhook.Attempt{Number: job.Attempt, HTTPStatus: res.Status}
	switch {
	case res.Err == nil:
		a.Status = webhook.DeliverySucceeded
		return a
	case job.Attempt >= job.MaxAttempts:
		a.Status = webhook.DeliveryFailed
	default:
		next := time.Now().Add(w.backoff.Delay(job.ID, job.Attempt)).UTC()
		w.mu.Lock()
		w.next[job.ID] = next
		w.mu.Unlock()
		a.Status, a.NextAt = webhook.DeliveryPending, &next
	}
	a.Err = res.Err.Error()
	if len(a.Err) > maxErrorText {
		a.Err = a.Err[:maxErrorText] + "…"
	}
	return a
}

// NextRetry is when River tries the job again: the time Work recorded, or,
// for a job River's rescuer took back from a notifier that died, the
// backoff's wait from now.
func (w *deliveryWorker) NextRetry(job *river.Job[webhook.DeliveryJob]) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t, ok := w.next[job.ID]; ok {
		delete(w.next, job.ID)
		return t
	}
	return time.Now().Add(w.backoff.Delay(job.ID, job.Attempt))
}

// Timeout bounds the whole job: the attempt has WEBHOOK_TIMEOUT, the rest
// is for loading the webhook.
func (w *deliveryWorker) Timeout(*river.Job[webhook.DeliveryJob]) time.Duration {
	return JobTimeout(w.timeout)
}

// record writes the attempt on the delivery, on a clock of its own: an
// attempt that used up the job's time is still recorded. A failure to
// record is logged and does not fail the job: the receiver's answer, not
// the bookkeeping, decides whether the event is sent again.
func (w *deliveryWorker) record(ctx context.Context, id task.ID, a webhook.Attempt) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := w.store.RecordAttempt(ctx, id, a); err != nil {
		w.log.LogAttrs(ctx, slog.LevelError, "could not record a delivery attempt",
			slog.String("delivery_id", id.String()), slog.Int("attempt", a.Number), slog.Any("err", err))
	}
}

// observe counts the attempt and logs its one line: never the secret,
// never the body.
func (w *deliveryWorker) observe(ctx context.Context, job *river.Job[webhook.DeliveryJob], res Result, a webhook.Attempt) {
	w.metrics.attempt(res.Duration)
	attrs := append(w.jobAttrs(job),
		slog.String("status", string(a.Status)), slog.Int("http_status", res.Status), slog.Duration("duration", res.Duration))
	level := slog.LevelInfo
	switch a.Status {
	case webhook.DeliverySucceeded:
		w.metrics.outcome(outcomeSucceeded)
	case webhook.DeliveryPending:
		w.metrics.outcome(outcomeRetried)
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("err", a.Err), slog.Time("next_attempt_at", *a.NextAt))
	case webhook.DeliveryFailed:
		w.metrics.outcome(outcomeFailed)
		level = slog.LevelError
		attrs = append(attrs, slog.String("err", a.Err))
	}
	w.log.LogAttrs(ctx, level, "delivery attempt", attrs...)
}

func (w *deliveryWorker) jobAttrs(job *river.Job[webhook.DeliveryJob]) []slog.Attr {
	return []slog.Attr{
		slog.String("delivery_id", job.Args.DeliveryID),
		slog.String("webhook_id", job.Args.WebhookID),
		slog.String("event_id", job.Args.Event.ID),
		slog.String("event_type", string(job.Args.Event.Type)),
		slog.Int("attempt", job.Attempt),
		slog.Int("max_attempts", job.MaxAttempts),
	}
}
