package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/services/internal/auth"
	"github.com/gantry-dev/gantry/services/internal/process"
	"github.com/gantry-dev/gantry/services/internal/task"
)

// BenchmarkGetTask measures the handler path of GET /v1/tasks/{id} without
// the network or the database: the middleware, routing, metrics, access
// log and JSON. go test -run '^$' -bench GetTask -benchmem ./services/internal/httpapi
func BenchmarkGetTask(b *testing.B) {
	store := newMemStore()
	tk, _ := store.Create(context.Background(), task.New{Title: "benchmark", Status: task.StatusTodo})
	ready := process.NewReadiness(okPinger{})
	ready.SetConnected()
	tokens := newMemTokens()
	token := tokens.issue(auth.Token{Name: "bench", Scopes: auth.Scopes{auth.TasksRead}})
	cache := NewTokenCache()
	cache.SetLive(true) // as when the change feed is connected: no lookup per request
	h := New(Options{
		Store: store, Tokens: tokens, TokenCache: cache, Ready: ready, RequestTimeout: 5 * time.Second,
		// info: the access log is on, and formatting it is part of the cost
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), //nolint:sloglint // see above: slog.DiscardHandler would skip it
	})
	req := httptest.NewRequest(http.MethodGet, "/v1/tasks/"+tk.ID.String(), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
