package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gantry-dev/gantry/services/internal/auth"
	"github.com/gantry-dev/gantry/services/internal/process"
	"github.com/gantry-dev/gantry/services/internal/task"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

type okPinger struct{ err error }

func (p okPinger) Ping(context.Context) error { return p.err }

type harness struct {
	h        http.Handler
	store    *memStore
	tokens   *memTokens
	webhooks *memWebhooks
	dns      fakeDNS
	policy   webhook.Policy
	token    string // every scope; do sends it unless told otherwise
	ready    *process.Readiness
	reg      *prometheus.Registry
	logs     *bytes.Buffer
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	h := &harness{
		store:    newMemStore(),
		tokens:   newMemTokens(),
		webhooks: newMemWebhooks(),
		dns: fakeDNS{
			"hooks.example.com": {"93.184.215.14"},
			"rebound.example":   {"127.0.0.1"},
			"inside.example":    {"10.0.0.1"},
		},
		ready: process.NewReadiness(okPinger{}),
		logs:  new(bytes.Buffer),
	}
	h.token = h.tokens.issue(auth.Token{Name: "harness", Scopes: auth.Scopes(auth.AllScopes)})
	h.ready.SetConnected()
	h.h = h.handler(nil)
	return h
}

// handler is a new handler on the harness's stores, with cache as its
// token cache (nil: none), and a registry of its own.
func (h *harness) handler(cache *auth.Cache) http.Handler {
	h.reg = prometheus.NewRegistry()
	return New(Options{
		Store:          h.store,
		Tokens:         h.tokens,
		TokenCache:     cache,
		Webhooks:       h.webhooks,
		Policy:         h.policy,
		Resolver:       h.dns,
		Ready:          h.ready,
		Log:            slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RequestTimeout: 5 * time.Second,
		Registry:       h.reg,
	})
}

// authorize gives a request built by hand the harness's token.
func (h *harness) authorize(r *http.Request) *http.Request {
	r.Header.Set("Authorization", "Bearer "+h.token)
	return r
}

// metrics is what the admin listener's /metrics would show.
func (h *harness) metrics() string {
	w := httptest.NewRecorder()
	promhttp.HandlerFor(h.reg, promhttp.HandlerOpts{}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return w.Body.String()
}

// do sends one request; a string body is sent as JSON. It carries the
// harness's token unless headers set Authorization (to "" for none).
func (h *harness) do(method, target, body string, headers ...string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if req.Header.Get("Authorization") == "" {
		req.Header.Del("Authorization")
	}
	w := httptest.NewRecorder()
	h.h.ServeHTTP(w, req)
	return w
}

func decodeProblem(t *testing.T, w *httptest.ResponseRecorder) problem {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json; body %s", ct, w.Body)
	}
	var p problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body: %v: %s", err, w.Body)
	}
	if p.Status != w.Code || p.Title != http.StatusText(w.Code) || p.Detail == "" {
		t.Fatalf("problem %+v does not describe status %d", p, w.Code)
	}
	return p
}

func decodeTask(t *testing.T, w *httptest.ResponseRecorder) task.Document {
	t.Helper()
	var tj task.Document
	if err := json.Unmarshal(w.Body.Bytes(), &tj); err != nil {
		t.Fatalf("task body: %v: %s", err, w.Body)
	}
	return tj
}
