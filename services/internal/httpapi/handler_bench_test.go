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

// BenchmarkAuthentication measures the work authentication adds to each
// request, so its cost can be read apart from the noise of a whole
// request: the token checked, hashed and found in the cache (the use
// already recorded this minute), and the access log's token_id.
// go test -run '^$' -bench Authentication -benchmem ./services/internal/httpapi
func BenchmarkAuthentication(b *testing.B) {
	b.Run("authenticate a cached token", func(b *testing.B) {
		tokens := newMemTokens()
		token := tokens.issue(auth.Token{Name: "bench", Scopes: auth.Scopes{auth.TasksRead}})
		cache := NewTokenCache()
		cache.SetLive(true)
		a := &authenticator{store: tokens, cache: cache, log: slog.New(slog.DiscardHandler), now: time.Now, touched: map[int64]time.Time{}}
		header := "Bearer " + token
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.authenticate(context.Background(), header); err != nil {
				b.Fatal(err)
			}
		}
	})
	log := slog.New(slog.NewJSONHandler(io.Discard, nil)) //nolint:sloglint // formatting the line is what is measured
	attrs := []slog.Attr{slog.String("method", "GET"), slog.String("route", routeTask), slog.Int("status", 200),
		slog.Duration("duration", time.Millisecond), slog.String("request_id", "0123456789ab-1")}
	for _, tc := range []struct {
		name  string
		attrs []slog.Attr
	}{
		{"an access log line without a token id", attrs},
		{"an access log line with a token id", append(attrs[:len(attrs):len(attrs)], slog.Int64("token_id", 1))},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				log.LogAttrs(context.Background(), slog.LevelInfo, "request", tc.attrs...)
			}
		})
	}
}
