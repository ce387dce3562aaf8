package delivery

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/gantry-dev/gantry/services/internal/task"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

var loopbackAllowed = webhook.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}

func testEvent() webhook.Event {
	return webhook.NewEvent(webhook.TaskCreated, task.Task{ID: task.ID{1}, Title: "ship it", Status: task.StatusTodo, Version: 1}, time.Now())
}

func testHook(url string) webhook.Webhook {
	return webhook.Webhook{ID: "00000000-0000-0000-0000-000000000001", URL: url, Events: webhook.EventTypes, Secret: webhook.NewSecret()}
}

// receiver counts requests and answers with h.
func receiver(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func noContent(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }

func TestADeliveryIsSignedSoThatTheLibraryVerifiesIt(t *testing.T) {
	t.Parallel()
	ev, hook := testEvent(), testHook("")
	verifier, err := standardwebhooks.NewWebhook(hook.Secret)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan http.Header, 2)
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var sent webhook.Event
		switch {
		case verifier.Verify(body, r.Header) != nil:
			w.WriteHeader(http.StatusUnauthorized)
		case json.Unmarshal(body, &sent) != nil || sent.ID != ev.ID || sent.Task.Title != "ship it":
			w.WriteHeader(http.StatusBadRequest)
		default:
			got <- r.Header
			w.WriteHeader(http.StatusNoContent)
		}
	})
	hook.URL = srv.URL + "/hooks"
	s := NewSender(ClientOptions{Policy: loopbackAllowed, Timeout: 5 * time.Second})

	first := s.Send(context.Background(), hook, ev, time.Now())
	again := s.Send(context.Background(), hook, ev, time.Now().Add(2*time.Second))
	for _, res := range []Result{first, again} {
		if res.Err != nil || res.Status != http.StatusNoContent {
			t.Fatalf("Send = %d, %v", res.Status, res.Err)
		}
	}
	h1, h2 := <-got, <-got
	t.Run("the message ID is the event's, on a redelivery too", func(t *testing.T) {
		if h1.Get("webhook-id") != ev.ID || h2.Get("webhook-id") != ev.ID {
			t.Errorf("webhook-id %q then %q, want %q", h1.Get("webhook-id"), h2.Get("webhook-id"), ev.ID)
		}
		if h1.Get("webhook-timestamp") == h2.Get("webhook-timestamp") {
			t.Error("each attempt should carry its own timestamp")
		}
	})
	t.Run("the body is JSON and the sender names itself", func(t *testing.T) {
		if ct := h1.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		if ua := h1.Get("User-Agent"); !strings.HasPrefix(ua, "gantry-notifier/") {
			t.Errorf("User-Agent %q", ua)
		}
	})
}

func TestTheGuardedClient(t *testing.T) {
	t.Parallel()
	ok, okHits := receiver(t, noContent)
	port := strconv.Itoa(ok.Listener.Addr().(*net.TCPAddr).Port)
	tests := []struct {
		name   string
		policy webhook.Policy
		url    string
		want   string // a part of the error, "" for a delivery
	}{
		{"delivers to loopback when the allow list has it", loopbackAllowed, ok.URL, ""},
		{"refuses loopback without the allow list, naming the address", webhook.Policy{}, ok.URL, "dial tcp 127.0.0.1:" + port + ": 127.0.0.1 is not a public address"},
		{"refuses loopback beside an allowed network", webhook.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, ok.URL, "127.0.0.1 is not a public address"},
		{"refuses a name that resolves to loopback, at the address it dials", webhook.Policy{}, "http://localhost:" + port + "/", "is not a public address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := okHits.Load()
			res := NewSender(ClientOptions{Policy: tc.policy, Timeout: 5 * time.Second}).Send(context.Background(), testHook(tc.url), testEvent(), time.Now())
			switch {
			case tc.want == "" && res.Err != nil:
				t.Fatalf("refused: %v", res.Err)
			case tc.want != "" && (res.Err == nil || !strings.Contains(res.Err.Error(), tc.want)):
				t.Fatalf("got %d, %v; want an error with %q", res.Status, res.Err, tc.want)
			case tc.want != "" && okHits.Load() != before:
				t.Fatal("the receiver got the request it should never have seen")
			}
		})
	}
}

func TestARedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	target, targetHits := receiver(t, noContent)
	redirect, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	})
	res := NewSender(ClientOptions{Policy: loopbackAllowed, Timeout: 5 * time.Second}).Send(context.Background(), testHook(redirect.URL), testEvent(), time.Now())
	if res.Status != http.StatusTemporaryRedirect || res.Err == nil || !strings.Contains(res.Err.Error(), "redirects are not followed") {
		t.Fatalf("got %d, %v; want a failed attempt saying redirects are not followed", res.Status, res.Err)
	}
	if targetHits.Load() != 0 {
		t.Fatal("the redirect was followed")
	}
}

func TestAnEndlessAnswerIsReadOnlyUpToTheLimit(t *testing.T) {
	t.Parallel()
	var written atomic.Int64
	srv, _ := receiver(t, func(w http.ResponseWriter, _ *http.Request) {
		chunk := []byte(strings.Repeat("x", 32<<10))
		for {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return // the sender hung up: what this test wants
			}
		}
	})
	const timeout = 10 * time.Second
	res := NewSender(ClientOptions{Policy: loopbackAllowed, Timeout: timeout}).Send(context.Background(), testHook(srv.URL), testEvent(), time.Now())
	if res.Err != nil || res.Status != http.StatusOK {
		t.Fatalf("got %d, %v; want a delivery (the answer is 200, whatever follows)", res.Status, res.Err)
	}
	if res.Duration > timeout/2 {
		t.Fatalf("the attempt took %s: the body was read on and on", res.Duration)
	}
	// The receiver stops once its writes fail: what it got out is the
	// limit plus what the sockets' buffers held, not the endless rest.
	srv.CloseClientConnections()
	time.Sleep(100 * time.Millisecond)
	if w := written.Load(); w > 64<<20 {
		t.Errorf("the receiver wrote %d bytes before the sender hung up", w)
	}
}

func TestASlowReceiverTimesOut(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusNoContent)
	})
	defer close(release)
	const timeout = 300 * time.Millisecond
	res := NewSender(ClientOptions{Policy: loopbackAllowed, Timeout: timeout}).Send(context.Background(), testHook(srv.URL), testEvent(), time.Now())
	if res.Err == nil || !strings.Contains(res.Err.Error(), "no answer within 300ms (WEBHOOK_TIMEOUT)") {
		t.Fatalf("got %d, %v; want a timeout", res.Status, res.Err)
	}
	if res.Duration > 5*timeout {
		t.Errorf("the attempt took %s with a timeout of %s", res.Duration, timeout)
	}
}

func TestHTTPSIsVerified(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(noContent))
	t.Cleanup(srv.Close)
	trusted := x509.NewCertPool()
	trusted.AddCert(srv.Certificate())
	tests := []struct {
		name   string
		policy webhook.Policy
		roots  *x509.CertPool
		want   string
	}{
		{"a certificate the client trusts is accepted", loopbackAllowed, trusted, ""},
		{"an unknown certificate is refused", loopbackAllowed, x509.NewCertPool(), "certificate"},
		{"https is no way around the address check", webhook.Policy{}, trusted, "127.0.0.1 is not a public address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := NewSender(ClientOptions{Policy: tc.policy, Timeout: 5 * time.Second, RootCAs: tc.roots}).Send(context.Background(), testHook(srv.URL), testEvent(), time.Now())
			switch {
			case tc.want == "" && res.Err != nil:
				t.Fatalf("refused: %v", res.Err)
			case tc.want != "" && (res.Err == nil || !strings.Contains(res.Err.Error(), tc.want)):
				t.Fatalf("got %d, %v; want an error with %q", res.Status, res.Err, tc.want)
			}
		})
	}
}

func TestTheClientIgnoresTheEnvironmentsProxy(t *testing.T) {
	tr, ok := NewHTTPClient(ClientOptions{Timeout: time.Second}).Transport.(*http.Transport)
	if !ok || tr.Proxy != nil {
		t.Fatalf("the transport (%T) has a proxy function: HTTPS_PROXY would be dialled instead of the receiver", tr)
	}
}
