package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/services/internal/processtest"
	"github.com/gantry-dev/gantry/services/internal/task"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

func TestCreateUpdateDeleteArriveSignedWithTheirTypesAndVersions(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	rc := newReceiver(t, always(http.StatusNoContent))
	hook := s.subscribe(t, rc.URL+"/hooks", rc.Secret)
	n := s.startNotifier(t, nil)

	created := s.createTask(t, "watched")
	title := "renamed"
	if _, err := s.tasks.Update(context.Background(), created.ID, task.Patch{Title: &title}, task.Precondition{}); err != nil {
		t.Fatal(err)
	}
	if err := s.tasks.Delete(context.Background(), created.ID, task.Precondition{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "three deliveries", func() bool { return len(rc.received()) >= 3 })

	want := map[webhook.EventType]int64{webhook.TaskCreated: 1, webhook.TaskUpdated: 2, webhook.TaskDeleted: 3}
	for _, d := range rc.received() {
		e := d.Event
		if !d.Verified || d.MessageID != e.ID || e.Task.ID != created.ID.String() || want[e.Type] != e.Task.Version {
			t.Errorf("got %s v%d of %s, message %s (verified %v); want one of %v for %s with webhook-id = event id",
				e.Type, e.Task.Version, e.Task.ID, d.MessageID, d.Verified, want, created.ID)
		}
		delete(want, e.Type)
	}
	if len(want) != 0 {
		t.Errorf("never delivered: %v", want)
	}
	waitFor(t, 5*time.Second, "three deliveries recorded succeeded", func() bool {
		ds := s.deliveries(t, hook)
		return len(ds) == 3 && ds[0].Status == webhook.DeliverySucceeded && ds[1].Status == webhook.DeliverySucceeded && ds[2].Status == webhook.DeliverySucceeded
	})
	for _, d := range s.deliveries(t, hook) {
		if d.Attempts != 1 || d.LastStatus != http.StatusNoContent || d.LastError != "" || d.NextAttemptAt != nil || d.DeliveredAt == nil {
			t.Errorf("delivery %+v, want one attempt answered 204", d)
		}
	}

	t.Run("the metrics count them, show the queues' lag and the pool's default size", func(t *testing.T) {
		status, body := n.get(t, "/metrics")
		for _, line := range []string{
			"pgxpool_max_conns 16",
			`webhook_deliveries_total{outcome="succeeded"} 3`,
			`webhook_deliveries_total{outcome="failed"} 0`,
			`webhook_attempt_duration_seconds_count 3`,
			`webhook_queue_lag_seconds{queue="deliveries"} 0`,
			`webhook_queue_lag_seconds{queue="events"} 0`,
		} {
			if status != http.StatusOK || !strings.Contains(body, line+"\n") {
				t.Errorf("/metrics (%d) lacks %q", status, line)
			}
		}
	})
	t.Run("the healthcheck subcommand finds it ready", func(t *testing.T) {
		port := strings.TrimPrefix(n.admin, "http://127.0.0.1:")
		if err := run(context.Background(), []string{"notifier", "healthcheck", "-ready"}, processtest.Env(map[string]string{"ADMIN_PORT": port}), nil, nil); err != nil {
			t.Errorf("healthcheck -ready: %v", err)
		}
	})
	t.Run("a log line per attempt, without the secret or the body", func(t *testing.T) {
		// The log is buffered for up to 100 ms.
		waitFor(t, 2*time.Second, "three attempt lines", func() bool {
			return strings.Count(n.logs.String(), `"msg":"delivery attempt"`) == 3
		})
		logs := n.logs.String()
		for _, line := range strings.Split(logs, "\n") {
			if strings.Contains(line, `"msg":"delivery attempt"`) && !strings.Contains(line, `"webhook_id":"`+hook.ID+`"`) {
				t.Errorf("an attempt line without its webhook: %s", line)
			}
		}
		if strings.Contains(logs, hook.Secret) || strings.Contains(logs, `"renamed"`) {
			t.Error("the logs show the secret or an event's body")
		}
	})
}

func TestAReceiverThatRecoversGetsTheDeliveryWhenRiverSaidItWould(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	var (
		hook     webhook.Webhook
		early    atomic.Int64 // a retry that came before the time its delivery recorded, in ns
		promised atomic.Int64
	)
	rc := newReceiver(t, func(n int, _ *http.Request) int {
		if n > 1 {
			ds := s.deliveries(t, hook)
			if len(ds) == 1 && ds[0].NextAttemptAt != nil {
				promised.Add(1)
				if d := time.Until(*ds[0].NextAttemptAt); d > 50*time.Millisecond {
					early.Store(int64(d))
				}
			}
		}
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	hook = s.subscribe(t, rc.URL, rc.Secret)
	s.startNotifier(t, map[string]string{"WEBHOOK_MAX_ATTEMPTS": "5", "WEBHOOK_RETRY_HORIZON": "4s"})
	s.createTask(t, "flaky receiver")

	waitFor(t, 30*time.Second, "the delivery to succeed", func() bool {
		ds := s.deliveries(t, hook)
		return len(ds) == 1 && ds[0].Status == webhook.DeliverySucceeded
	})
	d := s.deliveries(t, hook)[0]
	if d.Attempts != 3 || d.LastStatus != http.StatusOK || d.LastError != "" || d.NextAttemptAt != nil {
		t.Errorf("delivery %+v, want succeeded on attempt 3 with status 200", d)
	}
	if got := rc.byMessage(); len(got) != 1 {
		t.Errorf("requests per webhook-id: %v, want one message ID for every attempt", got)
	}
	if promised.Load() != 2 {
		t.Errorf("%d retries found a next attempt time on their delivery, want 2", promised.Load())
	}
	if e := early.Load(); e != 0 {
		t.Errorf("a retry came %s before the time its delivery showed", time.Duration(e))
	}
}

func TestADeliveryThatAlwaysFailsEndsFailedAfterItsAttempts(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	rc := newReceiver(t, always(http.StatusServiceUnavailable))
	hook := s.subscribe(t, rc.URL, rc.Secret)
	n := s.startNotifier(t, map[string]string{"WEBHOOK_MAX_ATTEMPTS": "3", "WEBHOOK_RETRY_HORIZON": "1s"})
	s.createTask(t, "nobody home")

	waitFor(t, 30*time.Second, "the delivery to fail", func() bool {
		ds := s.deliveries(t, hook)
		return len(ds) == 1 && ds[0].Status == webhook.DeliveryFailed
	})
	d := s.deliveries(t, hook)[0]
	if d.Attempts != 3 || d.LastStatus != http.StatusServiceUnavailable || !strings.Contains(d.LastError, "503") || d.NextAttemptAt != nil || d.DeliveredAt != nil {
		t.Errorf("delivery %+v, want failed after 3 attempts answered 503", d)
	}
	waitFor(t, 5*time.Second, "River to discard the job", func() bool { return s.jobStates(t)["discarded"] == 1 })
	time.Sleep(time.Second) // time for a fourth attempt, were there one
	if got := len(rc.received()); got != 3 {
		t.Errorf("the receiver got %d requests, want 3", got)
	}
	_, metrics := n.get(t, "/metrics")
	for _, line := range []string{`webhook_deliveries_total{outcome="retried"} 2`, `webhook_deliveries_total{outcome="failed"} 1`} {
		if !strings.Contains(metrics, line+"\n") {
			t.Errorf("/metrics lacks %q", line)
		}
	}
}

func TestAWebhookDeletedBeforeItsDeliveryCancelsTheJob(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	var hook webhook.Webhook
	// The first attempt fails, and the webhook is deleted before the retry.
	rc := newReceiver(t, func(int, *http.Request) int {
		id, _ := task.ParseID(hook.ID)
		if err := s.hooks.DeleteWebhook(context.Background(), id); err != nil {
			t.Errorf("delete the webhook: %v", err)
		}
		return http.StatusInternalServerError
	})
	hook = s.subscribe(t, rc.URL, rc.Secret)
	n := s.startNotifier(t, map[string]string{"WEBHOOK_MAX_ATTEMPTS": "3", "WEBHOOK_RETRY_HORIZON": "1s"})
	s.createTask(t, "orphaned")

	waitFor(t, 20*time.Second, "the delivery job to be cancelled", func() bool { return s.jobStates(t)["cancelled"] == 1 })
	if got := len(rc.received()); got != 1 {
		t.Errorf("the receiver got %d requests, want only the one before the deletion", got)
	}
	if _, metrics := n.get(t, "/metrics"); !strings.Contains(metrics, `webhook_deliveries_total{outcome="cancelled"} 1`+"\n") {
		t.Error("/metrics does not count the cancelled delivery")
	}
}

func TestTwoNotifiersOnOneDatabaseDeliverEachEventOnce(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	rc := newReceiver(t, always(http.StatusNoContent))
	s.subscribe(t, rc.URL, rc.Secret)
	a := s.startNotifier(t, nil)
	b := s.startNotifier(t, nil)
	const events = 40
	for i := range events {
		s.createTask(t, fmt.Sprintf("task %d", i))
	}
	waitFor(t, 30*time.Second, fmt.Sprintf("%d events", events), func() bool { return len(rc.byMessage()) == events })
	time.Sleep(time.Second) // time for a duplicate to arrive, were there one
	for id, count := range rc.byMessage() {
		if count != 1 {
			t.Errorf("event %s delivered %d times", id, count)
		}
	}
	t.Logf("attempts by notifier: %d and %d", strings.Count(a.logs.String(), `"msg":"delivery attempt"`), strings.Count(b.logs.String(), `"msg":"delivery attempt"`))
}
