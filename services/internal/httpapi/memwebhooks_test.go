package httpapi

import (
	"context"
	"crypto/rand"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/services/internal/keyset"
	"github.com/gantry-dev/gantry/services/internal/task"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// memWebhooks is an in-memory WebhookStore for handler tests; the real one
// is tested against PostgreSQL in package postgres.
type memWebhooks struct {
	mu         sync.Mutex
	hooks      []webhook.Webhook
	deliveries map[string][]webhook.Delivery // by webhook ID
}

func newMemWebhooks() *memWebhooks { return &memWebhooks{deliveries: map[string][]webhook.Delivery{}} }

var errNoWebhook = task.Errorf(task.NotFound, "webhook not found")

func (m *memWebhooks) CreateWebhook(_ context.Context, w webhook.Webhook) (webhook.Webhook, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var id task.ID
	_, _ = rand.Read(id[:])
	w.ID, w.CreatedAt = id.String(), time.Now().Add(time.Duration(len(m.hooks))*time.Millisecond)
	m.hooks = append(m.hooks, w)
	return w, nil
}

func (m *memWebhooks) find(id task.ID) int {
	return slices.IndexFunc(m.hooks, func(w webhook.Webhook) bool { return w.ID == id.String() })
}

func (m *memWebhooks) GetWebhook(_ context.Context, id task.ID) (webhook.Webhook, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i := m.find(id); i >= 0 {
		return m.hooks[i], nil
	}
	return webhook.Webhook{}, errNoWebhook
}

func (m *memWebhooks) ListWebhooks(_ context.Context, after *keyset.Cursor, limit int) ([]webhook.Webhook, *keyset.Cursor, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	start := 0
	if after != nil {
		start = slices.IndexFunc(m.hooks, func(w webhook.Webhook) bool { return w.CreatedAt.After(after.CreatedAt) })
		if start < 0 {
			start = len(m.hooks)
		}
	}
	page := m.hooks[start:min(start+limit, len(m.hooks))]
	if start+limit >= len(m.hooks) {
		return slices.Clone(page), nil, nil
	}
	last := page[len(page)-1]
	id, _ := task.ParseID(last.ID)
	return slices.Clone(page), &keyset.Cursor{CreatedAt: last.CreatedAt, ID: id}, nil
}

func (m *memWebhooks) DeleteWebhook(_ context.Context, id task.ID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.find(id)
	if i < 0 {
		return errNoWebhook
	}
	m.hooks = slices.Delete(m.hooks, i, i+1)
	return nil
}

func (m *memWebhooks) ListDeliveries(_ context.Context, id task.ID, _ *keyset.Cursor, limit int) ([]webhook.Delivery, *keyset.Cursor, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.find(id) < 0 {
		return nil, nil, errNoWebhook
	}
	ds := m.deliveries[id.String()]
	return ds[:min(limit, len(ds))], nil, nil
}

// fakeDNS answers from a table, as a resolver would; an unknown name is
// "no such host".
type fakeDNS map[string][]string

func (f fakeDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	addrs, ok := f[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, Server: "10.0.0.53:53", IsNotFound: true}
	}
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}
