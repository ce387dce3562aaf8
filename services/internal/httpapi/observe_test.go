package httpapi

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gantry-dev/gantry/services/internal/process"
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
	h.do("GET", "/metrics", "")
	body := h.metrics()
	for _, want := range []string{
		`http_requests_total{method="GET",route="/v1/tasks/{id}",status="404"} 2`,
		`http_requests_total{method="GET",route="unmatched",status="404"} 2`, // the scanner, and /metrics: not served here
		`http_request_duration_seconds_count{method="GET",route="/v1/tasks/{id}",status="404"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestAPanickingHandlerIsA500ProblemAndTheServerLives(t *testing.T) {
	h := newHarness(t)
	h.store.failing = nil
	a := &api{log: discardLogger(), metrics: newMetrics(prometheus.NewRegistry()), ids: newIDSource(), requestTimeout: 1e9}
	handler := a.observe(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	h.h = handler
	w := h.do("GET", "/x", "")
	if w.Code != 500 {
		t.Fatalf("status %d", w.Code)
	}
	decodeProblem(t, w)

	// The panic was the handler's alone: the next request is served.
	calls := 0
	h.h = a.observe(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls++; calls == 1 {
			panic("boom")
		}
		process.Healthz(w, r)
	}))
	h.do("GET", "/x", "")
	if w := h.do("GET", "/x", ""); w.Code != 200 || w.Body.String() != `{"status":"ok"}`+"\n" {
		t.Fatalf("the request after a panic got %d %q", w.Code, w.Body)
	}
}

func TestTheCanonicalHeaderKeysAreRight(t *testing.T) {
	if http.CanonicalHeaderKey(requestIDHeader) != requestIDKey || http.CanonicalHeaderKey("ETag") != "Etag" {
		t.Fatal("a header set directly in the map would be invisible to Header.Get")
	}
}

func TestMetricsLabelOnlyStandardMethods(t *testing.T) {
	tests := []struct{ method, label string }{
		{"GET", "GET"},
		{"HEAD", "HEAD"},
		{"POST", "POST"},
		{"PUT", "PUT"},
		{"PATCH", "PATCH"},
		{"DELETE", "DELETE"},
		{"OPTIONS", "OPTIONS"},
		{"CONNECT", "CONNECT"},
		{"TRACE", "TRACE"},
		{"get", "other"},
		{"PROPFIND", "other"},
		{"X-MADE-UP-1", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" is labelled "+tt.label, func(t *testing.T) {
			if got := methodLabel(tt.method); got != tt.label {
				t.Fatalf("methodLabel(%q) = %q", tt.method, got)
			}
		})
	}
}

func TestMadeUpMethodsCannotGrowTheMetrics(t *testing.T) {
	h := newHarness(t)
	series := func() int {
		return strings.Count(h.metrics(), "\nhttp_requests_total{")
	}
	h.do("GET", "/healthz", "")
	before := series()
	for i := range 50 {
		h.do(fmt.Sprintf("MADEUP%d", i), "/v1/tasks", "")
		h.do(fmt.Sprintf("MADEUP%d", i), "/no/such/route", "")
	}
	body := h.metrics()
	if strings.Contains(body, "MADEUP") {
		t.Fatal("a made-up method became a label value")
	}
	for _, want := range []string{
		`http_requests_total{method="other",route="unmatched",status="405"} 50`,
		`http_requests_total{method="other",route="unmatched",status="404"} 50`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Two new series for the made-up methods.
	if grown := series() - before; grown > 2 {
		t.Fatalf("100 requests with made-up methods added %d series", grown)
	}
}

func TestTheAccessLogKeepsTheRealMethod(t *testing.T) {
	h := newHarness(t)
	h.do("MADEUP", "/v1/tasks", "")
	if !contains(h.logs.String(), `"method":"MADEUP"`) {
		t.Fatalf("access log lost the method: %s", h.logs)
	}
}

func TestA405ListsTheAllowedMethods(t *testing.T) {
	const task = "/v1/tasks/0b6cbe5e-8b47-4c84-9d6c-3f1e1d3b2c11"
	tests := []struct{ name, method, target, allow string }{
		{"OPTIONS on the collection allows GET and POST", "OPTIONS", "/v1/tasks", "GET, POST"},
		{"DELETE on the collection allows GET and POST", "DELETE", "/v1/tasks", "GET, POST"},
		{"PUT on a task allows DELETE, GET and PATCH", "PUT", task, "DELETE, GET, PATCH"},
		{"POST on a task with a malformed ID still lists the task's methods", "POST", "/v1/tasks/42", "DELETE, GET, PATCH"},
		{"HEAD on the liveness probe allows GET", "HEAD", "/healthz", "GET"},
		{"a made-up method on the OpenAPI document allows GET", "MADEUP", "/openapi.yaml", "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newHarness(t).do(tt.method, tt.target, "")
			if w.Code != http.StatusMethodNotAllowed {
				t.Fatalf("status %d, want 405", w.Code)
			}
			if got := w.Header().Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
			if p := decodeProblem(t, w); !contains(p.Detail, tt.allow) {
				t.Errorf("detail %q does not name the allowed methods", p.Detail)
			}
		})
	}
}
