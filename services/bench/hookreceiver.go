package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// hookReceiver is the webhook receiver of the delivery measurements, in the
// bench's own process on loopback: it checks each delivery's signature with
// the Standard Webhooks library, as a user's receiver would, answers 204,
// and notes when the delivery arrived and when its event occurred.
type hookReceiver struct {
	srv  *http.Server
	addr string

	mu        sync.Mutex
	verifiers map[string]*standardwebhooks.Webhook // by hook name
	got       []hookArrival
	bad       int // deliveries that were not signed right, or not an event
}

// hookArrival is one delivery: to which hook, which event, and when.
type hookArrival struct {
	hook, id          string
	occurred, arrived time.Time
}

func newHookReceiver() (*hookReceiver, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rc := &hookReceiver{addr: ln.Addr().String(), verifiers: map[string]*standardwebhooks.Webhook{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hooks/{name}", rc.hook)
	rc.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = rc.srv.Serve(ln) }() // Serve ends with ErrServerClosed when close is called
	return rc, nil
}

func (rc *hookReceiver) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = rc.srv.Shutdown(ctx) // the notifiers are stopped by then; whatever is left is theirs to retry
}

// url is where a webhook named name reaches this receiver; add must be
// given its secret before a delivery arrives.
func (rc *hookReceiver) url(name string) string { return "http://" + rc.addr + "/hooks/" + name }

func (rc *hookReceiver) add(name, secret string) error {
	v, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return fmt.Errorf("the secret of webhook %s: %w", name, err)
	}
	rc.mu.Lock()
	rc.verifiers[name] = v
	rc.mu.Unlock()
	return nil
}

func (rc *hookReceiver) hook(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	name := r.PathValue("name")
	rc.mu.Lock()
	v := rc.verifiers[name]
	rc.mu.Unlock()
	var e struct {
		ID         string    `json:"id"`
		OccurredAt time.Time `json:"occurred_at"`
	}
	if err != nil || v == nil || v.Verify(body, r.Header) != nil || json.Unmarshal(body, &e) != nil || e.ID != r.Header.Get("webhook-id") {
		rc.mu.Lock()
		rc.bad++
		rc.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	rc.mu.Lock()
	rc.got = append(rc.got, hookArrival{hook: name, id: e.ID, occurred: e.OccurredAt, arrived: arrived})
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// take returns the deliveries so far and forgets them, with the count of
// bad ones, which it keeps.
func (rc *hookReceiver) take() ([]hookArrival, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	got := rc.got
	rc.got = nil
	return got, rc.bad
}

func (rc *hookReceiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

var errNotAllDelivered = errors.New("not every delivery arrived")

// waitCount waits until at least n deliveries have arrived, polling.
func (rc *hookReceiver) waitCount(ctx context.Context, n int, within time.Duration) error {
	deadline := time.Now().Add(within)
	for rc.count() < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %d of %d within %s", errNotAllDelivered, rc.count(), n, within)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// deliveryStats sums deliveries up: each (hook, event) counted once, at its
// first arrival, and the repeats counted apart.
type deliveryStats struct {
	deliveries, repeats int
	first, last         time.Time       // arrivals
	p50, p90, p99, max  time.Duration   // occurred_at to arrival
	latencies           []time.Duration // sorted
}

func summarize(got []hookArrival) deliveryStats {
	var s deliveryStats
	seen := map[[2]string]bool{}
	for _, a := range got {
		key := [2]string{a.hook, a.id}
		if seen[key] {
			s.repeats++
			continue
		}
		seen[key] = true
		s.latencies = append(s.latencies, a.arrived.Sub(a.occurred))
		if s.first.IsZero() || a.arrived.Before(s.first) {
			s.first = a.arrived
		}
		if a.arrived.After(s.last) {
			s.last = a.arrived
		}
	}
	s.deliveries = len(s.latencies)
	if s.deliveries == 0 {
		return s
	}
	slices.Sort(s.latencies)
	l := s.latencies
	s.p50, s.p90, s.p99, s.max = percentile(l, .50), percentile(l, .90), percentile(l, .99), l[len(l)-1]
	return s
}
