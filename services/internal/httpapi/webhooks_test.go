package httpapi

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/services/internal/auth"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

func TestAWebhookIsCreatedShownWithoutItsSecretListedAndDeleted(t *testing.T) {
	h := newHarness(t)
	w := h.do("POST", "/v1/webhooks", `{"url":"https://hooks.example.com/gantry","events":["task.created","task.deleted"]}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	var created webhookJSON
	if err := json.Unmarshal(w.Body.Bytes(), &created); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.Secret, webhook.SecretPrefix) || created.ID == "" || w.Header().Get("Location") != "/v1/webhooks/"+created.ID {
		t.Fatalf("create answered %+v, Location %q: want the ID, the location and the secret", created, w.Header().Get("Location"))
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Error("the answer with the secret may be cached")
	}
	for _, path := range []string{"/v1/webhooks/" + created.ID, "/v1/webhooks"} {
		w := h.do("GET", path, "")
		if w.Code != 200 || strings.Contains(w.Body.String(), created.Secret) || strings.Contains(w.Body.String(), `"secret"`) {
			t.Errorf("GET %s: %d %s: the secret is shown once, at creation", path, w.Code, w.Body)
		}
	}
	if w := h.do("GET", "/v1/webhooks/"+created.ID+"/deliveries", ""); w.Code != 200 || !strings.Contains(w.Body.String(), `"items":[]`) {
		t.Errorf("deliveries: %d %s", w.Code, w.Body)
	}
	if w := h.do("DELETE", "/v1/webhooks/"+created.ID, ""); w.Code != http.StatusNoContent {
		t.Fatalf("delete: %d", w.Code)
	}
	for _, path := range []string{"/v1/webhooks/" + created.ID, "/v1/webhooks/" + created.ID + "/deliveries"} {
		if w := h.do("GET", path, ""); w.Code != http.StatusNotFound {
			t.Errorf("GET %s after delete: %d, want 404", path, w.Code)
		}
	}
}

func TestAWebhookThatWouldReachInsideIsRefusedAtCreation(t *testing.T) {
	tests := []struct {
		name, url, detail string
	}{
		{"loopback by address", "https://127.0.0.1/hook", "127.0.0.1 is not a public address"},
		{"a private address", "https://10.0.0.1/hook", "10.0.0.1 is not a public address"},
		{"the metadata service", "http://169.254.169.254/latest/meta-data", "169.254.169.254 is not a public address"},
		{"IPv6 loopback", "https://[::1]:8443/hook", "::1 is not a public address"},
		{"a name that resolves inside", "https://inside.example/hook", "10.0.0.1 is not a public address"},
		{"a name that resolves to loopback", "https://rebound.example/hook", "127.0.0.1 is not a public address"},
		{"a name that resolves to nothing", "https://nowhere.example/hook", "cannot be resolved: no such host"},
		{"plain http to a public host", "http://hooks.example.com/hook", "use https"},
		{"another scheme", "gopher://hooks.example.com/hook", "the scheme must be https"},
	}
	for _, tc := range tests {
		t.Run("refuses "+tc.name+" with 400", func(t *testing.T) {
			h := newHarness(t)
			w := h.do("POST", "/v1/webhooks", `{"url":"`+tc.url+`","events":["task.created"]}`)
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", w.Code, w.Body)
			}
			if p := decodeProblem(t, w); !strings.Contains(p.Detail, tc.detail) || strings.Contains(p.Detail, "10.0.0.53") {
				t.Errorf("detail %q lacks %q (or names the resolver)", p.Detail, tc.detail)
			}
			if len(h.webhooks.hooks) != 0 {
				t.Error("the webhook was stored")
			}
		})
	}
	t.Run("allows a network WEBHOOK_ALLOW_CIDRS names, over http too", func(t *testing.T) {
		h := newHarness(t)
		h.policy = webhook.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
		h.h = h.handler(nil)
		if w := h.do("POST", "/v1/webhooks", `{"url":"http://inside.example:8080/hook","events":["task.created"]}`); w.Code != http.StatusCreated {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}

func TestBadWebhookRequestsListEveryProblem(t *testing.T) {
	tests := []struct {
		name, body, detail string
		status             int
	}{
		{"no url", `{"events":["task.created"]}`, "url: is required", 422},
		{"no events", `{"url":"https://hooks.example.com/x"}`, "events: is required", 422},
		{"an empty list of events", `{"url":"https://hooks.example.com/x","events":[]}`, "at least one event type", 422},
		{"an unknown event", `{"url":"https://hooks.example.com/x","events":["task.archived"]}`, "task.archived, which is no event type", 422},
		{"an event twice", `{"url":"https://hooks.example.com/x","events":["task.created","task.created"]}`, "more than once", 422},
		{"events as a string", `{"url":"https://hooks.example.com/x","events":"task.created"}`, "must be a list of strings", 422},
		{"an unknown field", `{"url":"https://hooks.example.com/x","events":["task.created"],"secret":"mine"}`, "secret: is not a known field", 422},
		{"a member twice", `{"url":"https://hooks.example.com/x","url":"https://127.0.0.1/","events":["task.created"]}`, `the member "url" more than once`, 400},
	}
	for _, tc := range tests {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			h := newHarness(t)
			w := h.do("POST", "/v1/webhooks", tc.body)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if p := decodeProblem(t, w); !strings.Contains(p.Detail, tc.detail) && !problemFieldsContain(p, tc.detail) {
				t.Errorf("problem %q %v lacks %q", p.Detail, p.Errors, tc.detail)
			}
		})
	}
}

func TestWebhooksNeedTheirScope(t *testing.T) {
	h := newHarness(t)
	tasksOnly := h.tokens.issue(auth.Token{Name: "tasks", Scopes: auth.Scopes{auth.TasksRead, auth.TasksWrite}})
	for _, rt := range [][2]string{{"POST", "/v1/webhooks"}, {"GET", "/v1/webhooks"}, {"GET", "/v1/webhooks/0b6cbe5e-8b47-4c84-9d6c-3f1e1d3b2c11"},
		{"DELETE", "/v1/webhooks/0b6cbe5e-8b47-4c84-9d6c-3f1e1d3b2c11"}, {"GET", "/v1/webhooks/0b6cbe5e-8b47-4c84-9d6c-3f1e1d3b2c11/deliveries"}} {
		w := h.do(rt[0], rt[1], `{"url":"https://hooks.example.com/x","events":["task.created"]}`, "Authorization", "Bearer "+tasksOnly)
		if w.Code != http.StatusForbidden || !strings.Contains(w.Header().Get("WWW-Authenticate"), `scope="webhooks:manage"`) {
			t.Errorf("%s %s with a tasks token: %d %q, want 403 naming webhooks:manage", rt[0], rt[1], w.Code, w.Header().Get("WWW-Authenticate"))
		}
	}
}
