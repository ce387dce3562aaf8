package delivery

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gantry-dev/gantry/services/internal/task"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// memStore keeps one webhook (or none) and the attempts recorded, and
// finds abandoned deliveries as told.
type memStore struct {
	hook      *webhook.Webhook
	mu        sync.Mutex
	attempts  []webhook.Attempt
	abandoned int
	sweepErr  error
	swept     []time.Duration // the window of each sweep
}

func (s *memStore) GetWebhook(_ context.Context, id task.ID) (webhook.Webhook, error) {
	if s.hook == nil || s.hook.ID != id.String() {
		return webhook.Webhook{}, task.Errorf(task.NotFound, "webhook not found")
	}
	return *s.hook, nil
}

func (s *memStore) FanOut(context.Context, *river.Client[pgx.Tx], webhook.Event, int) (int, error) {
	return 0, errors.New("no fan-out in these tests")
}

func (s *memStore) RecordAttempt(_ context.Context, _ task.ID, a webhook.Attempt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts = append(s.attempts, a)
	return nil
}

func (s *memStore) FailAbandoned(_ context.Context, window time.Duration, reason string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if reason == "" {
		return 0, errors.New("a sweep without a reason to show")
	}
	s.swept = append(s.swept, window)
	return s.abandoned, s.sweepErr
}

func deliveryJob(hook webhook.Webhook, attempt, maxAttempts int) *river.Job[webhook.DeliveryJob] {
	return &river.Job[webhook.DeliveryJob]{
		JobRow: &rivertype.JobRow{ID: 7, Attempt: attempt, MaxAttempts: maxAttempts},
		Args:   webhook.DeliveryJob{DeliveryID: "00000000-0000-0000-0000-0000000000d1", WebhookID: hook.ID, Event: testEvent()},
	}
}

func TestADeliveryAttemptIsRecordedAsWhatItFound(t *testing.T) {
	t.Parallel()
	status := map[string]int{"/ok": http.StatusNoContent, "/broken": http.StatusInternalServerError}
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status[r.URL.Path]) })
	tests := []struct {
		name        string
		path        string
		attempt     int
		deleted     bool
		wantErr     bool
		wantStatus  webhook.DeliveryStatus // "" for nothing recorded
		wantOutcome string
	}{
		{"a 2xx completes the job and records success", "/ok", 1, false, false, webhook.DeliverySucceeded, outcomeSucceeded},
		{"a 500 before the last attempt is retried and records when", "/broken", 1, false, true, webhook.DeliveryPending, outcomeRetried},
		{"a 500 on the last attempt records the delivery failed", "/broken", 3, false, true, webhook.DeliveryFailed, outcomeFailed},
		{"a deleted webhook cancels the job and records nothing", "/ok", 1, true, true, "", outcomeCancelled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hook := testHook(srv.URL + tc.path)
			store := &memStore{hook: &hook}
			job := deliveryJob(hook, tc.attempt, 3)
			if tc.deleted {
				store.hook = nil
			}
			var logs bytes.Buffer
			reg := prometheus.NewRegistry()
			backoff := Backoff{Attempts: 3, Horizon: time.Minute}
			w := newDeliveryWorker(Options{Store: store, Sender: NewSender(ClientOptions{Policy: loopbackAllowed, Timeout: 5 * time.Second}),
				Backoff: backoff, Timeout: 5 * time.Second, Metrics: NewMetrics(reg), Log: slog.New(slog.NewJSONHandler(&logs, nil))})

			err := w.Work(context.Background(), job)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Work = %v", err)
			}
			var cancel *river.JobCancelError
			if errors.As(err, &cancel) != tc.deleted {
				t.Errorf("Work = %v: cancelled is %v, want %v", err, !tc.deleted, tc.deleted)
			}
			if got := counterValue(t, reg, "webhook_deliveries_total", tc.wantOutcome); got != 1 {
				t.Errorf("outcome %s counted %v times", tc.wantOutcome, got)
			}
			if strings.Contains(logs.String(), hook.Secret) || strings.Contains(logs.String(), "ship it") {
				t.Errorf("the log shows the secret or the body:\n%s", logs.String())
			}
			if tc.wantStatus == "" {
				if len(store.attempts) != 0 {
					t.Errorf("recorded %+v", store.attempts)
				}
				return
			}
			if len(store.attempts) != 1 {
				t.Fatalf("recorded %d attempts, want 1", len(store.attempts))
			}
			a := store.attempts[0]
			if a.Number != tc.attempt || a.Status != tc.wantStatus || strings.Contains(a.Err, hook.Secret) {
				t.Errorf("recorded %+v", a)
			}
			if (a.NextAt != nil) != (tc.wantStatus == webhook.DeliveryPending) {
				t.Errorf("next attempt %v for a %s delivery", a.NextAt, a.Status)
			}
			if a.NextAt != nil {
				if next := w.NextRetry(job); !next.Equal(*a.NextAt) {
					t.Errorf("River retries at %s, the delivery says %s", next, a.NextAt)
				}
				if wait := time.Until(*a.NextAt); wait > backoff.Delay(job.ID, 1) || wait < backoff.Delay(job.ID, 1)-time.Second {
					t.Errorf("the retry is due in %s, want the backoff's %s", wait, backoff.Delay(job.ID, 1))
				}
			}
		})
	}
}

func counterValue(t *testing.T, reg *prometheus.Registry, name, outcome string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{outcome=%q}", name, outcome)
	return 0
}
