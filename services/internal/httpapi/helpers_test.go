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
)

type okPinger struct{ err error }

func (p okPinger) Ping(context.Context) error { return p.err }

type harness struct {
	h     http.Handler
	store *memStore
	ready *Readiness
	logs  *bytes.Buffer
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	logs := new(bytes.Buffer)
	store := newMemStore()
	ready := NewReadiness(okPinger{})
	ready.SetConnected()
	h := New(Options{
		Store:          store,
		Ready:          ready,
		Log:            slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RequestTimeout: 5 * time.Second,
	})
	return &harness{h: h, store: store, ready: ready, logs: logs}
}

// do sends one request; a string body is sent as JSON.
func (h *harness) do(method, target, body string, headers ...string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
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

func decodeTask(t *testing.T, w *httptest.ResponseRecorder) taskJSON {
	t.Helper()
	var tj taskJSON
	if err := json.Unmarshal(w.Body.Bytes(), &tj); err != nil {
		t.Fatalf("task body: %v: %s", err, w.Body)
	}
	return tj
}
