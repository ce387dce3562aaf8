package main

import (
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/services/internal/processtest"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// stopped waits for serve to return and puts its result back for the
// cleanup.
func (n *notifier) stopped(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case err := <-n.result:
		n.result <- err
		return err
	case <-time.After(within):
		t.Fatalf("serve did not return within %s", within)
		return nil
	}
}

// awaitStart waits for the receiver to say a delivery has begun.
func awaitStart(t *testing.T, started <-chan struct{}) {
	t.Helper()
	select {
	case <-started:
	case <-time.After(15 * time.Second):
		t.Fatal("the delivery never started")
	}
}

func TestAStopDuringASlowDeliveryLetsItFinishAndServeReturnsNil(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	started := make(chan struct{}, 1)
	rc := newReceiver(t, func(int, *http.Request) int {
		started <- struct{}{}
		time.Sleep(1500 * time.Millisecond)
		return http.StatusNoContent
	})
	hook := s.subscribe(t, rc.URL, rc.Secret)
	n := s.startNotifier(t, map[string]string{"WEBHOOK_TIMEOUT": "5s", "SHUTDOWN_TIMEOUT": "10s"})
	s.createTask(t, "in flight at shutdown")
	awaitStart(t, started)

	stop := time.Now()
	n.stop() // what SIGTERM does to run's context
	n.waitStatus(t, "/readyz", http.StatusServiceUnavailable, time.Second)
	if err := n.stopped(t, 15*time.Second); err != nil {
		t.Fatalf("serve returned %v, want nil", err)
	}
	if waited := time.Since(stop); waited < time.Second {
		t.Errorf("serve returned %s after the stop: it did not wait for the delivery", waited)
	}
	ds := s.deliveries(t, hook)
	if len(ds) != 1 || ds[0].Status != webhook.DeliverySucceeded || ds[0].Attempts != 1 {
		t.Fatalf("deliveries %+v, want one succeeded on its first attempt", ds)
	}
	if states := s.jobStates(t); states["completed"] != 1 {
		t.Errorf("delivery jobs by state %v, want the one completed", states)
	}
}

func TestADeliveryStillRunningAtTheShutdownTimeoutIsCutAndSentAgainUncounted(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	started := make(chan struct{}, 1)
	rc := newReceiver(t, func(n int, r *http.Request) int {
		if n == 1 {
			started <- struct{}{}
			<-r.Context().Done() // held until the notifier gives up on it
		}
		return http.StatusNoContent
	})
	hook := s.subscribe(t, rc.URL, rc.Secret)
	n := s.startNotifier(t, map[string]string{"WEBHOOK_TIMEOUT": "20s", "SHUTDOWN_TIMEOUT": "1s"})
	s.createTask(t, "too slow for the shutdown")
	awaitStart(t, started)
	n.stop()
	if err := n.stopped(t, 10*time.Second); err != nil {
		t.Fatalf("serve returned %v, want nil", err)
	}
	if ds := s.deliveries(t, hook); len(ds) != 1 || ds[0].Status != webhook.DeliveryPending || ds[0].Attempts != 0 {
		t.Fatalf("deliveries %+v, want one pending with no attempt counted", ds)
	}
	if states := s.jobStates(t); states["available"] != 1 {
		t.Fatalf("delivery jobs by state %v, want the cut one available again", states)
	}

	s.startNotifier(t, nil)
	waitFor(t, 15*time.Second, "the next notifier to deliver it", func() bool {
		ds := s.deliveries(t, hook)
		return len(ds) == 1 && ds[0].Status == webhook.DeliverySucceeded
	})
	if ds := s.deliveries(t, hook); ds[0].Attempts != 1 {
		t.Errorf("the delivery took %d attempts, want 1: the cut one does not count", ds[0].Attempts)
	}
}

// The real binary, killed for real in the middle of a delivery: its job
// stays "running" until River's rescuer, in the next notifier, hands it
// on, and the event arrives again under the same webhook-id.
func TestANotifierKilledMidDeliveryLeavesTheEventToTheNext(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	settings := map[string]string{"WEBHOOK_TIMEOUT": "2s"}
	rc, hook, killed := killDuringFirstAttempt(t, s, settings)

	s.startNotifier(t, settings)
	waitFor(t, 120*time.Second, "the event to arrive again", func() bool {
		ds := s.deliveries(t, hook)
		return len(ds) == 1 && ds[0].Status == webhook.DeliverySucceeded
	})
	t.Logf("delivered again %s after the kill", time.Since(killed).Round(time.Second))
	counts := rc.byMessage()
	if len(counts) != 1 {
		t.Fatalf("requests per webhook-id %v, want every request to carry the one event's ID", counts)
	}
	for id, c := range counts {
		// At least once: the killed attempt reached the receiver, which
		// drops the repeat by its webhook-id.
		t.Logf("event %s reached the receiver %d times (%d duplicate)", id, c, c-1)
	}
	if d := s.deliveries(t, hook)[0]; d.Attempts != 2 {
		t.Errorf("the delivery shows %d attempts, want 2 (the killed one counts)", d.Attempts)
	}
}

// Killed during the last attempt, the job has none left: River's rescuer
// discards it, and the next notifier's sweep records the delivery failed
// rather than leaving it pending for ever.
func TestANotifierKilledDuringTheLastAttemptLeavesTheDeliveryFailed(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	settings := map[string]string{"WEBHOOK_TIMEOUT": "2s", "WEBHOOK_MAX_ATTEMPTS": "1"}
	rc, hook, killed := killDuringFirstAttempt(t, s, settings)

	n := s.startNotifier(t, settings)
	waitFor(t, 120*time.Second, "the delivery to end failed", func() bool {
		ds := s.deliveries(t, hook)
		return len(ds) == 1 && ds[0].Status == webhook.DeliveryFailed
	})
	t.Logf("recorded failed %s after the kill", time.Since(killed).Round(time.Second))
	d := s.deliveries(t, hook)[0]
	if d.Attempts != 1 || !strings.Contains(d.LastError, "did not report") || d.NextAttemptAt != nil || d.DeliveredAt != nil {
		t.Errorf("delivery %+v, want failed after its one attempt, saying it never reported", d)
	}
	if states := s.jobStates(t); states["discarded"] != 1 {
		t.Errorf("delivery jobs by state %v, want the killed one discarded", states)
	}
	if got := len(rc.received()); got != 1 {
		t.Errorf("the receiver got %d requests, want only the killed attempt's", got)
	}
	_, metrics := n.get(t, "/metrics")
	if line := `webhook_deliveries_total{outcome="failed"} 1`; !strings.Contains(metrics, line+"\n") {
		t.Errorf("/metrics lacks %q", line)
	}
}

// killDuringFirstAttempt runs the real binary with settings, makes one
// event for a receiver that holds its first request, and kills the
// binary with SIGKILL while it waits for the answer. The delivery's job
// is left running, as a crash leaves it.
func killDuringFirstAttempt(t *testing.T, s *stack, settings map[string]string) (*receiver, webhook.Webhook, time.Time) {
	t.Helper()
	first := make(chan struct{})
	var once sync.Once
	rc := newReceiver(t, func(n int, r *http.Request) int {
		if n == 1 {
			once.Do(func() { close(first) })
			<-r.Context().Done() // the notifier dies holding this request
		}
		return http.StatusNoContent
	})
	hook := s.subscribe(t, rc.URL, rc.Secret)
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(os.Environ(), "GANTRY_NOTIFIER_MAIN=1")
	for k, v := range s.notifierEnv(t, settings) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var logs processtest.Output
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }() // fails once it is dead, as it should be
	s.createTask(t, "survives a crash")
	select {
	case <-first:
	case <-time.After(30 * time.Second):
		t.Fatalf("the first notifier never delivered\n%s", logs.String())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // "signal: killed", as intended
	killed := time.Now()
	if states := s.jobStates(t); states["running"] != 1 {
		t.Fatalf("delivery jobs by state %v after the kill, want the one it held running", states)
	}
	return rc, hook, killed
}
