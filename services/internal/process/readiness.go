package process

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Pinger is the one thing readiness needs from the database.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Readiness says whether this instance should get traffic: only once the
// database has answered, and never again once shutdown has begun, so a load
// balancer drains it before the listener closes.
type Readiness struct {
	db        Pinger
	connected atomic.Bool
	draining  atomic.Bool

	mu      sync.Mutex // guards the cached ping below
	checked time.Time
	lastErr error
}

// Probe costs: at most one database round trip per pingCacheFor however
// often /readyz is hit, each bounded by pingTimeout.
const (
	pingTimeout  = time.Second
	pingCacheFor = 500 * time.Millisecond
)

// NewReadiness starts not ready: the database has not answered yet.
func NewReadiness(db Pinger) *Readiness {
	return &Readiness{db: db}
}

// SetConnected records that the database answered at start-up.
func (rd *Readiness) SetConnected() { rd.connected.Store(true) }

// SetDraining turns readiness off for good.
func (rd *Readiness) SetDraining() { rd.draining.Store(true) }

// Check returns why the instance is not ready, or "" when it is.
func (rd *Readiness) Check(ctx context.Context) string {
	switch {
	case rd.draining.Load():
		return "the server is shutting down"
	case !rd.connected.Load():
		return "the server is still waiting for the database"
	}
	if err := rd.ping(ctx); err != nil {
		return "the database is not answering"
	}
	return ""
}

func (rd *Readiness) ping(ctx context.Context) error {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if time.Since(rd.checked) < pingCacheFor {
		return rd.lastErr
	}
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	rd.lastErr = rd.db.Ping(ctx)
	rd.checked = time.Now()
	return rd.lastErr
}
