package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/gorilla/mux"

	"github.com/gantry-dev/gantry/services/internal/keyset"
	"github.com/gantry-dev/gantry/services/internal/task"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// WebhookStore is what the webhook endpoints need from the database.
type WebhookStore interface {
	CreateWebhook(ctx context.Context, w webhook.Webhook) (webhook.Webhook, error)
	GetWebhook(ctx context.Context, id task.ID) (webhook.Webhook, error)
	ListWebhooks(ctx context.Context, after *keyset.Cursor, limit int) ([]webhook.Webhook, *keyset.Cursor, error)
	DeleteWebhook(ctx context.Context, id task.ID) error
	ListDeliveries(ctx context.Context, id task.ID, after *keyset.Cursor, limit int) ([]webhook.Delivery, *keyset.Cursor, error)
}

// Resolver finds the addresses a webhook's host has now; net.Resolver is
// one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// resolveTimeout bounds the DNS lookup a webhook's creation makes.
const resolveTimeout = 5 * time.Second

// webhookJSON is a webhook on the wire; Secret only in the answer to its
// creation, the one time it is shown.
type webhookJSON struct {
	ID        string              `json:"id"`
	URL       string              `json:"url"`
	Events    []webhook.EventType `json:"events"`
	Secret    string              `json:"secret,omitempty"`
	CreatedAt time.Time           `json:"created_at"`
}

func webhookDoc(w webhook.Webhook) webhookJSON {
	return webhookJSON{ID: w.ID, URL: w.URL, Events: w.Events, CreatedAt: w.CreatedAt.UTC()}
}

func (a *api) createWebhook(w http.ResponseWriter, r *http.Request) {
	hook, err := a.decodeWebhook(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	hook.Secret = webhook.NewSecret()
	created, err := a.webhooks.CreateWebhook(r.Context(), hook)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	doc := webhookDoc(created)
	doc.Secret = created.Secret
	w.Header().Set("Location", "/v1/webhooks/"+created.ID)
	w.Header().Set("Cache-Control", "no-store") // the secret is in it
	a.write(w, r, http.StatusCreated, doc)
}

var webhookFields = []string{"url", "events"}

// decodeWebhook reads {url, events} and checks the URL against the policy
// with the addresses its host resolves to now; the notifier checks again
// the address it dials, every time.
func (a *api) decodeWebhook(r *http.Request) (webhook.Webhook, error) {
	obj, err := readObject(r)
	if err != nil {
		return webhook.Webhook{}, err
	}
	var v task.Validator
	f := fields{obj, &v}
	f.allowOnly(webhookFields...)
	var hook webhook.Webhook
	switch s, p := f.str("url"); p {
	case set:
		hook.URL = s
	case absent, null:
		v.Fail("url", "is required")
	}
	hook.Events = decodeEvents(obj["events"], &v)
	if err := v.Err(); err != nil {
		return webhook.Webhook{}, err
	}
	u, err := webhook.ParseURL(hook.URL)
	if err != nil {
		return webhook.Webhook{}, badRequest("url: %s", err.Error())
	}
	addrs, err := a.resolve(r.Context(), u.Hostname())
	if err != nil {
		return webhook.Webhook{}, badRequest("url: the host %q cannot be resolved: %s", truncate(u.Hostname(), 255), err.Error())
	}
	if _, err := a.policy.CheckURL(hook.URL, addrs); err != nil {
		return webhook.Webhook{}, badRequest("url: %s", err.Error())
	}
	return hook, nil
}

// decodeEvents reads the events member: a non-empty list of event types,
// each once.
func decodeEvents(raw json.RawMessage, v *task.Validator) []webhook.EventType {
	if raw == nil || string(raw) == "null" {
		v.Fail("events", "is required: a list of event types, such as [\"task.created\"]")
		return nil
	}
	var names []string
	if err := json.Unmarshal(raw, &names); err != nil {
		v.Fail("events", "must be a list of strings, not "+jsonKind(raw))
		return nil
	}
	var events []webhook.EventType
	for _, n := range names {
		e := webhook.EventType(n)
		switch {
		case !e.Valid():
			v.Fail("events", "has "+truncate(n, 64)+", which is no event type; the types are task.created, task.updated, task.deleted")
		case slices.Contains(events, e):
			v.Fail("events", "has "+n+" more than once")
		default:
			events = append(events, e)
		}
	}
	if len(names) == 0 {
		v.Fail("events", "must name at least one event type")
	}
	return events
}

// resolve returns host's addresses: itself if it is one.
func (a *api) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if addr, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{addr}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	addrs, err := a.resolver.LookupNetIP(ctx, "ip", host)
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return nil, errors.New(dnsErr.Err) // not the resolver's address, which the client need not know
	}
	return addrs, err
}

func (a *api) getWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := pathUUID(r, "webhook")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	hook, err := a.webhooks.GetWebhook(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.write(w, r, http.StatusOK, webhookDoc(hook))
}

func (a *api) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := pathUUID(r, "webhook")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.webhooks.DeleteWebhook(r.Context(), id); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type webhookPage struct {
	Items      []webhookJSON `json:"items"`
	NextCursor *string       `json:"next_cursor"`
}

func (a *api) listWebhooks(w http.ResponseWriter, r *http.Request) {
	after, limit, err := parsePage(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	hooks, next, err := a.webhooks.ListWebhooks(r.Context(), after, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := webhookPage{Items: make([]webhookJSON, len(hooks)), NextCursor: cursorString(next)}
	for i, h := range hooks {
		out.Items[i] = webhookDoc(h)
	}
	a.write(w, r, http.StatusOK, out)
}

// deliveryJSON is a delivery on the wire.
type deliveryJSON struct {
	ID             string                 `json:"id"`
	EventID        string                 `json:"event_id"`
	EventType      webhook.EventType      `json:"event_type"`
	Status         webhook.DeliveryStatus `json:"status"`
	Attempts       int                    `json:"attempts"`
	LastError      *string                `json:"last_error"`
	LastHTTPStatus *int                   `json:"last_http_status"`
	NextAttemptAt  *time.Time             `json:"next_attempt_at"`
	CreatedAt      time.Time              `json:"created_at"`
	DeliveredAt    *time.Time             `json:"delivered_at"`
}

func deliveryDoc(d webhook.Delivery) deliveryJSON {
	j := deliveryJSON{ID: d.ID, EventID: d.EventID, EventType: d.EventType, Status: d.Status, Attempts: d.Attempts,
		NextAttemptAt: utcPtr(d.NextAttemptAt), CreatedAt: d.CreatedAt.UTC(), DeliveredAt: utcPtr(d.DeliveredAt)}
	if d.LastError != "" {
		j.LastError = &d.LastError
	}
	if d.LastStatus != 0 {
		j.LastHTTPStatus = &d.LastStatus
	}
	return j
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

type deliveryPage struct {
	Items      []deliveryJSON `json:"items"`
	NextCursor *string        `json:"next_cursor"`
}

func (a *api) listDeliveries(w http.ResponseWriter, r *http.Request) {
	id, err := pathUUID(r, "webhook")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	after, limit, err := parsePage(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ds, next, err := a.webhooks.ListDeliveries(r.Context(), id, after, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := deliveryPage{Items: make([]deliveryJSON, len(ds)), NextCursor: cursorString(next)}
	for i, d := range ds {
		out.Items[i] = deliveryDoc(d)
	}
	a.write(w, r, http.StatusOK, out)
}

func cursorString(c *keyset.Cursor) *string {
	if c == nil {
		return nil
	}
	s := c.String()
	return &s
}

// pathUUID reads the {id} of a route whose records are named by UUIDs.
func pathUUID(r *http.Request, what string) (task.ID, error) {
	s := mux.Vars(r)["id"]
	id, err := task.ParseID(s)
	if err != nil {
		return id, badRequest("%q is not a %s ID; IDs are UUIDs such as 0b6cbe5e-8b47-4c84-9d6c-3f1e1d3b2c11", truncate(s, 64), what)
	}
	return id, nil
}
