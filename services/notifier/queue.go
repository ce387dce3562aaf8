package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/gantry-dev/gantry/services/internal/config"
	"github.com/gantry-dev/gantry/services/internal/delivery"
	"github.com/gantry-dev/gantry/services/internal/postgres"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// queue is River's client working the events and deliveries queues.
type queue struct {
	client  *river.Client[pgx.Tx]
	pool    *pgxpool.Pool
	log     *slog.Logger
	running atomic.Bool
}

// fetchCooldown is how often, at most, River fetches a queue's jobs (100
// ms by default), taking as many as the queue has free workers; it is also
// how often, at most, this notifier announces the delivery jobs it
// inserts. With 10 fan-out workers and the default, two notifiers
// delivered about 590 a second, whatever NOTIFIER_WORKERS said; with 20 ms
// and NOTIFIER_WORKERS for both queues, 705 to 757. At 10 ms, deliveries
// at 200 events a second waited a median 5 to 26 ms to be fetched instead
// of 27 to 74 (docs/benchmarks.md). An idle queue is not fetched more
// often: fetches follow River's notifications of new jobs, and fetchPoll.
const fetchCooldown = 10 * time.Millisecond

// fetchPoll is how often a queue is fetched with no notification (1 s by
// default). Inserters announce new jobs at most once per their cooldown,
// so the last jobs of a burst may have no announcement after them: with
// the default they waited up to a second. Idle, it costs a notifier about
// 3 ms of CPU a second more than the default (8 to 12 ms).
const fetchPoll = 250 * time.Millisecond

func newQueue(pool *pgxpool.Pool, log *slog.Logger, hooks config.Webhooks, workers *river.Workers) (*queue, error) {
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues: map[string]river.QueueConfig{
			webhook.QueueEvents:     {MaxWorkers: hooks.Workers},
			webhook.QueueDeliveries: {MaxWorkers: hooks.Workers},
		},
		FetchCooldown:       fetchCooldown,
		FetchPollInterval:   fetchPoll,
		ReindexerIndexNames: postgres.RiverReindexed(),
		Workers:             workers,
		MaxAttempts:         hooks.MaxAttempts,
		// Each worker sets its own timeout; this is River's default for
		// them and the floor of RescueStuckJobsAfter, which it must not
		// exceed. A notifier killed mid-delivery leaves its job running;
		// the rescuer hands it to another once that job surely ended.
		JobTimeout:           delivery.JobTimeout(hooks.Timeout),
		RescueStuckJobsAfter: delivery.RescueAfter(hooks.Timeout),
		PeriodicJobs:         []*river.PeriodicJob{delivery.Sweep(hooks.Timeout)},
		Logger:               log.With("component", "river"),
	})
	if err != nil {
		return nil, fmt.Errorf("prepare the job queue: %w", err)
	}
	return &queue{client: client, pool: pool, log: log}, nil
}

var errNotWorking = errors.New("the job queue is not being worked")

// Ping is what /readyz asks: the queues are worked and the database
// answers.
func (q *queue) Ping(ctx context.Context) error {
	if !q.running.Load() {
		return errNotWorking
	}
	return q.pool.Ping(ctx)
}

// work starts the client and works the queues until ctx ends; then it
// stops fetching and lets the deliveries in flight finish within
// timeout (SHUTDOWN_TIMEOUT), after which it cancels them: River puts a
// cancelled job back without counting the attempt.
func (q *queue) work(ctx context.Context, timeout time.Duration) error {
	// Stopping is this function's, with its own deadline: a cancelled start
	// context would cancel the deliveries in flight at once.
	if err := q.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start the job queue: %w", err)
	}
	q.running.Store(true)
	q.log.Info("working the queues", "queues", []string{webhook.QueueEvents, webhook.QueueDeliveries})
	select {
	case <-ctx.Done():
	case <-q.client.Stopped():
		q.running.Store(false)
		return errors.New("the job queue stopped by itself")
	}
	q.running.Store(false)
	return q.stop(timeout)
}

func (q *queue) stop(timeout time.Duration) error {
	q.log.Info("stopping the queues; deliveries in flight may finish", "timeout", timeout)
	soft, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := q.client.Stop(soft); err == nil {
		q.log.Info("the queues stopped")
		return nil
	}
	q.log.Warn("deliveries still in flight after SHUTDOWN_TIMEOUT are cancelled, to be attempted again", "timeout", timeout)
	hard, cancelHard := context.WithTimeout(context.Background(), hardStopTimeout)
	defer cancelHard()
	if err := q.client.StopAndCancel(hard); err != nil {
		return fmt.Errorf("the queues did not stop: %w", err)
	}
	return nil
}

// hardStopTimeout is how long cancelled deliveries get to return and put
// their jobs back.
const hardStopTimeout = 5 * time.Second
