package httpapi

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/services/internal/process"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestReadiness(t *testing.T) {
	tests := []struct {
		name      string
		connected bool
		draining  bool
		pingErr   error
		status    int
	}{
		{"is 503 before the database first answers", false, false, nil, 503},
		{"is 200 once connected and the ping succeeds", true, false, nil, 200},
		{"is 503 while the database does not answer", true, false, errFake, 503},
		{"is 503 once draining, even with a healthy database", true, true, nil, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			rd := process.NewReadiness(okPinger{tt.pingErr})
			if tt.connected {
				rd.SetConnected()
			}
			if tt.draining {
				rd.SetDraining()
			}
			h.h = New(Options{Store: h.store, Tokens: h.tokens, Ready: rd, Log: discardLogger(), RequestTimeout: time.Second})
			w := h.do("GET", "/readyz", "")
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			if tt.status == 503 {
				decodeProblem(t, w)
			}
			if w := h.do("GET", "/healthz", ""); w.Code != 200 {
				t.Fatalf("liveness must not depend on readiness: %d", w.Code)
			}
		})
	}
}

func TestReadinessPingsTheDatabaseAtMostTwicePerSecond(t *testing.T) {
	p := &countPinger{}
	rd := process.NewReadiness(p)
	rd.SetConnected()
	for range 100 {
		rd.Check(t.Context())
	}
	if p.n != 1 {
		t.Fatalf("%d pings for 100 checks within the cache window", p.n)
	}
}

type countPinger struct{ n int }

func (c *countPinger) Ping(_ context.Context) error { c.n++; return nil }
