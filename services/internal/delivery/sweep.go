package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// abandonedReason is the last error of a delivery whose last attempt never
// reported.
const abandonedReason = "the last attempt did not report its outcome: its notifier stopped during it"

// sweepEvery is how often the leading notifier sweeps for abandoned
// deliveries: as often as River's rescuer may discard one (RescueAfter).
func sweepEvery(attempt time.Duration) time.Duration { return RescueAfter(attempt) }

// sweepWindow is how far back a sweep looks, in sweeps: enough to cover a
// leader that died between a discard and its next sweep, and the election
// of the next, which sweeps when it starts leading. Not further, for
// every delivery that failed the ordinary way in the window is read too.
const sweepWindow = 10

// Sweep is River's periodic job for the sweep: inserted by the leader
// when it starts leading, then every sweepEvery. Behind a backlog of
// deliveries sweeps queue up; each then finds little and ends at once.
func Sweep(attempt time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(sweepEvery(attempt)), func() (river.JobArgs, *river.InsertOpts) {
		return webhook.SweepJob{}, &river.InsertOpts{Queue: webhook.QueueDeliveries}
	}, &river.PeriodicJobOpts{RunOnStart: true})
}

// sweepWorker records failed the deliveries whose job River discarded
// while they were still pending: their notifier died during the last
// attempt, and River's rescuer took the job back with no attempt left.
type sweepWorker struct {
	river.WorkerDefaults[webhook.SweepJob]
	store   Store
	window  time.Duration
	metrics *Metrics
	log     *slog.Logger
}

func newSweepWorker(o Options) *sweepWorker {
	return &sweepWorker{store: o.Store, window: sweepWindow * sweepEvery(o.Timeout), metrics: o.Metrics, log: o.Log}
}

// Work runs one sweep; each delivery it ends counts as a failed attempt.
func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[webhook.SweepJob]) error {
	n, err := w.store.FailAbandoned(ctx, w.window, abandonedReason)
	if err != nil {
		return fmt.Errorf("sweep abandoned deliveries: %w", err)
	}
	if n > 0 {
		w.metrics.add(outcomeFailed, n)
		w.log.LogAttrs(ctx, slog.LevelWarn, "deliveries failed: their last attempt never reported", slog.Int("deliveries", n))
	}
	return nil
}

// Timeout bounds a sweep: one statement.
func (w *sweepWorker) Timeout(*river.Job[webhook.SweepJob]) time.Duration { return fanOutTimeout }
