package httpapi

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

var errFake = errors.New("secret cause: connection to 10.0.0.5 reset")

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestEveryResponseCarriesARequestID(t *testing.T) {
	tests := []struct {
		name, given string
		keep        bool
	}{
		{"a caller's ID is echoed", "abc-123", true},
		{"a missing ID is generated", "", false},
		{"an ID with spaces is replaced", "a b", false},
		{"an overlong ID is replaced", strings.Repeat("x", 129), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			for _, target := range []string{"/healthz", "/v1/tasks/nope", "/no/such/route"} {
				w := h.do("GET", target, "", "X-Request-ID", tt.given)
				got := w.Header().Get("X-Request-ID")
				if got == "" || (tt.keep && got != tt.given) || (!tt.keep && got == tt.given) {
					t.Fatalf("%s: X-Request-ID %q for given %q", target, got, tt.given)
				}
			}
		})
	}
}

func TestEachRequestLogsOneLineWithRouteTemplateAndStatus(t *testing.T) {
	h := newHarness(t)
	h.do("GET", "/v1/tasks/0b6cbe5e-8b47-4c84-9d6c-3f1e1d3b2c11", "", "X-Request-ID", "req-7")
	var lines []map[string]any
	sc := bufio.NewScanner(h.logs)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("%d access log lines, want 1", len(lines))
	}
	l := lines[0]
	if l["method"] != "GET" || l["route"] != "/v1/tasks/{id}" || l["status"] != float64(404) || l["request_id"] != "req-7" || l["duration"] == nil {
		t.Fatalf("access log %v", l)
	}
}

func TestUnroutedRequestsAreProblems(t *testing.T) {
	h := newHarness(t)
	if w := h.do("GET", "/nope", ""); w.Code != 404 {
		t.Fatalf("unknown path: %d", w.Code)
	} else {
		decodeProblem(t, w)
	}
	if w := h.do("PUT", "/v1/tasks", ""); w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("wrong method: %d", w.Code)
	} else {
		decodeProblem(t, w)
	}
}

func TestMetricsCountRequestsByRouteTemplateAndStatus(t *testing.T) {
	h := newHarness(t)
	h.do("GET", "/v1/tasks/0b6cbe5e-8b47-4c84-9d6c-3f1e1d3b2c11", "")
	h.do("GET", "/v1/tasks/0b6cbe5e-8b47-4c84-9d6c-3f1e1d3b2c12", "")
	h.do("GET", "/random/scanner/path", "")
	body := h.do("GET", "/metrics", "").Body.String()
	for _, want := range []string{
		`http_requests_total{method="GET",route="/v1/tasks/{id}",status="404"} 2`,
		`http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`http_request_duration_seconds_count{method="GET",route="/v1/tasks/{id}",status="404"} 2`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestAPanickingHandlerIsA500ProblemAndTheServerLives(t *testing.T) {
	h := newHarness(t)
	h.store.failing = nil
	a := &api{log: discardLogger(), metrics: newMetrics(nil), ids: newIDSource(), requestTimeout: 1e9}
	handler := a.observe(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	h.h = handler
	w := h.do("GET", "/x", "")
	if w.Code != 500 {
		t.Fatalf("status %d", w.Code)
	}
	decodeProblem(t, w)
}

func TestTheCanonicalHeaderKeysAreRight(t *testing.T) {
	if http.CanonicalHeaderKey(requestIDHeader) != requestIDKey || http.CanonicalHeaderKey("ETag") != "Etag" {
		t.Fatal("a header set directly in the map would be invisible to Header.Get")
	}
}
