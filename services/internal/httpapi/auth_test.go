package httpapi

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/services/internal/auth"
	"github.com/gantry-dev/gantry/services/internal/task"
)

func TestEveryV1RouteRefusesARequestWithoutAUsableToken(t *testing.T) {
	h := newHarness(t)
	past := time.Now().Add(-time.Minute)
	expired := h.tokens.issue(auth.Token{Name: "expired", Scopes: auth.Scopes(auth.AllScopes), ExpiresAt: &past})
	revoked := h.tokens.issue(auth.Token{Name: "revoked", Scopes: auth.Scopes(auth.AllScopes)})
	h.tokens.revoke(revoked)
	unknown, _ := auth.NewToken()
	mistyped := mistype(h.token, 20)
	const invalid = `Bearer realm="gantry", error="invalid_token"`
	tests := []struct {
		name, header, challenge string
		lookup                  bool // whether the refusal may cost a database lookup
	}{
		{"no Authorization header", "", `Bearer realm="gantry"`, false},
		{"another scheme", "Basic dXNlcjpwYXNz", `Bearer realm="gantry"`, false},
		{"a bearer token of another format", "Bearer ghp_abcdefghijklmnopqrstuvwxyz0123456789", invalid, false},
		{"a mistyped token, whose checksum fails", "Bearer " + mistyped, invalid, false},
		{"an unknown token", "Bearer " + unknown, invalid, true},
		{"an expired token", "Bearer " + expired, invalid, true},
		{"a revoked token", "Bearer " + revoked, invalid, true},
	}
	routes := [][2]string{{"GET", "/v1/tasks"}, {"POST", "/v1/tasks"}, {"GET", "/v1/tasks/0b6cbe5e-8b47-4c84-9d6c-3f1e1d3b2c11"},
		{"PATCH", "/v1/tasks/0b6cbe5e-8b47-4c84-9d6c-3f1e1d3b2c11"}, {"DELETE", "/v1/tasks/0b6cbe5e-8b47-4c84-9d6c-3f1e1d3b2c11"}}
	var details []string
	for _, tc := range tests {
		for _, rt := range routes {
			t.Run(rt[0]+" "+rt[1]+" with "+tc.name+" is a 401 that stores nothing", func(t *testing.T) {
				before, _ := h.tokens.counts()
				w := h.do(rt[0], rt[1], `{"title":"x"}`, "Authorization", tc.header)
				if w.Code != http.StatusUnauthorized {
					t.Fatalf("status %d, want 401: %s", w.Code, w.Body)
				}
				if got := w.Header().Get("WWW-Authenticate"); got != tc.challenge {
					t.Errorf("WWW-Authenticate %q, want %q", got, tc.challenge)
				}
				details = append(details, decodeProblem(t, w).Detail)
				if after, _ := h.tokens.counts(); !tc.lookup && after != before {
					t.Errorf("refusing %s cost a database lookup", tc.name)
				}
				if n := h.store.writeCount(); n != 0 {
					t.Errorf("%d writes reached the store", n)
				}
			})
		}
	}
	t.Run("the problem never says which of those it was", func(t *testing.T) {
		for _, d := range details {
			if d != details[0] {
				t.Fatalf("two refusals differ: %q and %q", details[0], d)
			}
		}
	})
	t.Run("the probes and the contract need no token", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/readyz", "/openapi.yaml"} {
			if w := h.do("GET", path, "", "Authorization", ""); w.Code != http.StatusOK {
				t.Errorf("GET %s without a token: %d", path, w.Code)
			}
		}
	})
}

// mistype replaces the character at i with another letter.
func mistype(token string, i int) string {
	c := "a"
	if token[i] == 'a' {
		c = "b"
	}
	return token[:i] + c + token[i+1:]
}

func TestATokenWithoutTheScopeIsA403NamingIt(t *testing.T) {
	h := newHarness(t)
	reader := h.tokens.issue(auth.Token{Name: "reader", Scopes: auth.Scopes{auth.TasksRead}})
	writer := h.tokens.issue(auth.Token{Name: "writer", Scopes: auth.Scopes{auth.TasksWrite}})
	id := decodeTask(t, h.do("POST", "/v1/tasks", `{"title":"x"}`)).ID
	tests := []struct {
		name, token, method, target string
		want                        int
		scope                       string
	}{
		{"a read token may list", reader, "GET", "/v1/tasks", 200, ""},
		{"a read token may get", reader, "GET", "/v1/tasks/" + id, 200, ""},
		{"a read token may not create", reader, "POST", "/v1/tasks", 403, "tasks:write"},
		{"a read token may not update", reader, "PATCH", "/v1/tasks/" + id, 403, "tasks:write"},
		{"a read token may not delete", reader, "DELETE", "/v1/tasks/" + id, 403, "tasks:write"},
		{"a write token may not read", writer, "GET", "/v1/tasks/" + id, 403, "tasks:read"},
		{"a write token may create", writer, "POST", "/v1/tasks", 201, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := h.do(tc.method, tc.target, `{"title":"y"}`, "Authorization", "Bearer "+tc.token)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
			if tc.want != 403 {
				return
			}
			want := `Bearer realm="gantry", error="insufficient_scope", scope="` + tc.scope + `"`
			if got := w.Header().Get("WWW-Authenticate"); got != want {
				t.Errorf("WWW-Authenticate %q, want %q", got, want)
			}
			if p := decodeProblem(t, w); !strings.Contains(p.Detail, tc.scope) {
				t.Errorf("the problem does not name the scope: %q", p.Detail)
			}
		})
	}
}

func TestAFedCacheSavesTheLookupAndForgetsARevocation(t *testing.T) {
	h := newHarness(t)
	cache := NewTokenCache()
	h.h = h.handler(cache)
	get := func() int { return h.do("GET", "/v1/tasks", "").Code }

	for range 2 {
		if get() != 200 {
			t.Fatal("the token was refused")
		}
	}
	if lookups, _ := h.tokens.counts(); lookups != 2 {
		t.Fatalf("%d lookups for two requests before the feed is live, want 2: nothing may be cached unheard", lookups)
	}
	cache.SetLive(true)
	for range 10 {
		get()
	}
	if lookups, _ := h.tokens.counts(); lookups != 3 {
		t.Fatalf("%d lookups after ten more requests with a live feed, want 3 (one to fill the cache)", lookups)
	}
	h.tokens.revoke(h.token)
	cache.Forget(1) // what the feed does when PostgreSQL notifies the revocation
	if code := get(); code != http.StatusUnauthorized {
		t.Fatalf("a revoked token heard of: %d, want 401", code)
	}
}

func TestALookupTheDatabaseCannotAnswerIsA503NotA401(t *testing.T) {
	h := newHarness(t)
	h.tokens.failing = task.Wrap(task.Unavailable, errors.New("connection refused"), "the database is unavailable; try again shortly")
	w := h.do("GET", "/v1/tasks", "")
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("WWW-Authenticate") != "" {
		t.Fatalf("status %d WWW-Authenticate %q, want 503 without a challenge: the token may be fine", w.Code, w.Header().Get("WWW-Authenticate"))
	}
}

func TestALastUseIsRecordedAtMostOnceAMinute(t *testing.T) {
	h := newHarness(t)
	for range 20 {
		h.do("GET", "/v1/tasks", "")
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, touches := h.tokens.counts(); touches == 1 {
			break
		} else if touches > 1 || time.Now().After(deadline) {
			t.Fatalf("%d writes of last_used_at for 20 requests within a minute, want 1", touches)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTheAccessLogNamesTheTokenByIDAndNeverShowsIt(t *testing.T) {
	h := newHarness(t)
	h.do("GET", "/v1/tasks", "")
	logs := h.logs.String()
	if !strings.Contains(logs, `"token_id":1`) {
		t.Errorf("the access log does not name the token: %s", logs)
	}
	if strings.Contains(logs, h.token) || strings.Contains(logs, h.token[len(auth.Prefix):20]) {
		t.Errorf("the access log shows the token: %s", logs)
	}
}
