package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// receiver is a webhook receiver on loopback that checks every delivery's
// signature with the Standard Webhooks library, as a user's would, and
// keeps what it got. answer decides the status of the nth request (from
// 1); it may block, as a slow receiver does.
type receiver struct {
	*httptest.Server
	Secret string
	answer func(n int, r *http.Request) int

	mu  sync.Mutex
	got []delivered
}

// delivered is one request the receiver got.
type delivered struct {
	MessageID string // webhook-id
	Event     webhook.Event
	Verified  bool
}

func newReceiver(t *testing.T, answer func(n int, r *http.Request) int) *receiver {
	t.Helper()
	rc := &receiver{Secret: webhook.NewSecret(), answer: answer}
	verifier, err := standardwebhooks.NewWebhook(rc.Secret)
	if err != nil {
		t.Fatal(err)
	}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		d := delivered{MessageID: r.Header.Get("webhook-id"), Verified: err == nil && verifier.Verify(body, r.Header) == nil}
		if json.Unmarshal(body, &d.Event) != nil {
			d.Verified = false
		}
		rc.mu.Lock()
		rc.got = append(rc.got, d)
		n := len(rc.got)
		rc.mu.Unlock()
		if !d.Verified {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(rc.answer(n, r))
	}))
	t.Cleanup(rc.Close)
	return rc
}

func always(status int) func(int, *http.Request) int {
	return func(int, *http.Request) int { return status }
}

// received is a copy of every request so far.
func (rc *receiver) received() []delivered {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivered(nil), rc.got...)
}

// byMessage counts the requests per webhook-id.
func (rc *receiver) byMessage() map[string]int {
	counts := map[string]int{}
	for _, d := range rc.received() {
		counts[d.MessageID]++
	}
	return counts
}
