package httpapi

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/gantry-dev/gantry/services/loopback"
)

func TestBadCreateRequestsGetAClearProblemAndStoreNothing(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		contentType string
		status      int
		detail      string // a fragment the person reading it needs
	}{
		{"an empty body", "", "application/json", 400, "empty"},
		{"whitespace only", "  \n", "application/json", 400, "empty"},
		{"malformed JSON", `{"title": "x",}`, "application/json", 400, "not valid JSON"},
		{"truncated JSON", `{"title": "x"`, "application/json", 400, "not valid JSON"},
		{"a JSON array", `[{"title":"x"}]`, "application/json", 400, "must be a JSON object"},
		{"a JSON string", `"x"`, "application/json", 400, "must be a JSON object"},
		{"JSON null", `null`, "application/json", 400, "not null"},
		{"two objects", `{"title":"a"}{"title":"b"}`, "application/json", 400, "not valid JSON"},
		{"invalid UTF-8", "{\"title\": \"\xff\xfe\"}", "application/json", 400, "UTF-8"},
		{"a member given twice (RFC 7493)", `{"title":"a","title":"b"}`, "application/json", 400, `the member "title" more than once`},
		{"a member given twice, once escaped", `{"title":"a","t\u0069tle":"b"}`, "application/json", 400, `the member "title" more than once`},
		{"a lone surrogate escape (RFC 7493)", `{"title":"\ud800"}`, "application/json", 400, "lone UTF-16 surrogate"},
		{"a lone low surrogate in the description", `{"title":"x","description":"a\udfffb"}`, "application/json", 400, "lone UTF-16 surrogate"},
		{"a form body", "title=x", "application/x-www-form-urlencoded", 415, "application/json"},
		{"an unknown field", `{"title":"x","owner":"me"}`, "application/json", 422, "owner: is not a known field"},
		{"a missing title", `{"description":"x"}`, "application/json", 422, "title: is required"},
		{"a null title", `{"title":null}`, "application/json", 422, "title: is required"},
		{"a blank title", `{"title":"   "}`, "application/json", 422, "title: must not be empty"},
		{"a 201-character title", `{"title":"` + strings.Repeat("é", 201) + `"}`, "application/json", 422, "at most 200"},
		{"a title with a newline", `{"title":"a\nb"}`, "application/json", 422, "control characters"},
		{"a numeric title", `{"title":42}`, "application/json", 422, "must be a string, not a number"},
		{"an object title", `{"title":{"$ne":""}}`, "application/json", 422, "must be a string, not an object"},
		{"a boolean status", `{"title":"x","status":true}`, "application/json", 422, "must be a string, not a boolean"},
		{"a status outside the enum", `{"title":"x","status":"later"}`, "application/json", 422, `"todo", "doing", "done"`},
		{"a status that looks like SQL", `{"title":"x","status":"todo' OR '1'='1"}`, "application/json", 422, "status"},
		{"an impossible due date", `{"title":"x","due_date":"2026-02-30"}`, "application/json", 422, "YYYY-MM-DD"},
		{"a due date with a time", `{"title":"x","due_date":"2026-02-03T10:00:00Z"}`, "application/json", 422, "YYYY-MM-DD"},
		{"a NUL in the description", `{"title":"x","description":"a\u0000b"}`, "application/json", 422, "NUL"},
		{"several broken fields at once", `{"title":"","status":"x"}`, "application/json", 422, "invalid fields"},
		{"a body over 1 MiB", `{"title":"x","description":"` + strings.Repeat("a", MaxBody) + `"}`, "application/json", 413, "larger than"},
	}
	for _, tt := range tests {
		t.Run("rejects "+tt.name+" with "+http.StatusText(tt.status), func(t *testing.T) {
			h := newHarness(t)
			w := h.do("POST", "/v1/tasks", tt.body, "Content-Type", tt.contentType)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			p := decodeProblem(t, w)
			if !strings.Contains(p.Detail, tt.detail) && !problemFieldsContain(p, tt.detail) {
				t.Errorf("detail %q (errors %v) lacks %q", p.Detail, p.Errors, tt.detail)
			}
			if n := h.store.writeCount(); n != 0 {
				t.Errorf("%d writes reached the store", n)
			}
		})
	}
}

func problemFieldsContain(p problem, s string) bool {
	for _, f := range p.Errors {
		if strings.Contains(f.Field+": "+f.Message, s) {
			return true
		}
	}
	return false
}

func TestSeveralBrokenFieldsAreAllListed(t *testing.T) {
	h := newHarness(t)
	w := h.do("POST", "/v1/tasks", `{"title":"","status":"x","due_date":"soon","extra":1}`)
	p := decodeProblem(t, w)
	got := map[string]bool{}
	for _, f := range p.Errors {
		got[f.Field] = true
	}
	for _, f := range []string{"title", "status", "due_date", "extra"} {
		if !got[f] {
			t.Errorf("errors %v do not mention %s", p.Errors, f)
		}
	}
}

func TestBadPatchRequestsStoreNothing(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status int
	}{
		{"a null title", `{"title":null}`, 422},
		{"a null status", `{"status":null}`, 422},
		{"an unknown field", `{"done":true}`, 422},
		{"a wrong type", `{"description":7}`, 422},
		{"malformed JSON", `{`, 400},
	}
	for _, tt := range tests {
		t.Run("rejects "+tt.name, func(t *testing.T) {
			h := newHarness(t)
			id := decodeTask(t, h.do("POST", "/v1/tasks", `{"title":"x"}`)).ID
			w := h.do("PATCH", "/v1/tasks/"+id, tt.body)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			decodeProblem(t, w)
			if n := h.store.writeCount(); n != 1 {
				t.Errorf("%d writes, want only the create", n)
			}
		})
	}
}

func TestBadQueryAndPathInputIsA400(t *testing.T) {
	tests := []struct{ name, target, detail string }{
		{"an id that is not a UUID", "/v1/tasks/42", "not a task ID"},
		{"an id that looks like SQL", "/v1/tasks/1'%20OR%20'1'='1", "not a task ID"},
		{"a status filter outside the enum", "/v1/tasks?status=open", "not one of"},
		{"a status filter that looks like SQL", "/v1/tasks?status=todo'%3B%20DROP%20TABLE%20tasks%3B--", "not one of"},
		{"a limit that is not a number", "/v1/tasks?limit=ten", "whole number"},
		{"a limit of zero", "/v1/tasks?limit=0", "at least 1"},
		{"a negative limit", "/v1/tasks?limit=-5", "at least 1"},
		{"a malformed query string", "/v1/tasks?cursor=%%%", "query string is malformed"},
		{"a cursor that is not base64", "/v1/tasks?cursor=***", "cursor is malformed"},
		{"a cursor of the wrong length", "/v1/tasks?cursor=AAAA", "cursor"},
		{"two limits, the second not a number", "/v1/tasks?limit=1&limit=abc", `"limit" is given more than once`},
		{"two statuses", "/v1/tasks?status=todo&status=done", `"status" is given more than once`},
		{"the same cursor twice", "/v1/tasks?cursor=a&cursor=a", `"cursor" is given more than once`},
		{"an empty repeat", "/v1/tasks?limit=5&limit=", `"limit" is given more than once`},
	}
	for _, tt := range tests {
		t.Run("rejects "+tt.name, func(t *testing.T) {
			w := newHarness(t).do("GET", tt.target, "")
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", w.Code, w.Body)
			}
			if p := decodeProblem(t, w); !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("detail %q lacks %q", p.Detail, tt.detail)
			}
		})
	}
}

func TestAMisspelledQueryParameterIsA400(t *testing.T) {
	w := newHarness(t).do("GET", "/v1/tasks?stauts=done", "")
	if p := decodeProblem(t, w); w.Code != 400 || !strings.Contains(p.Detail, `"stauts"`) {
		t.Fatalf("status %d detail %q", w.Code, p.Detail)
	}
}

// lateBody is a request body that arrives whole, but only after delay.
type lateBody struct {
	body  io.Reader
	delay time.Duration
}

func (l *lateBody) Read(p []byte) (int, error) {
	time.Sleep(l.delay)
	l.delay = 0
	return l.body.Read(p)
}

func TestABodyTooSlowForTheDeadlineIsA408NotA503(t *testing.T) {
	const taskURL = "/v1/tasks/0b6cbe5e-8b47-4c84-9d6c-3f1e1d3b2c11"
	tests := []struct {
		name, method, target string
		body                 func() io.Reader
	}{
		{"a create whose body ends after the deadline", "POST", "/v1/tasks",
			func() io.Reader { return &lateBody{strings.NewReader(`{"title":"x"}`), 60 * time.Millisecond} }},
		{"a patch whose body ends after the deadline", "PATCH", taskURL,
			func() io.Reader { return &lateBody{strings.NewReader(`{"title":"x"}`), 60 * time.Millisecond} }},
		{"a create whose body read timed out", "POST", "/v1/tasks",
			func() io.Reader { return iotest.ErrReader(os.ErrDeadlineExceeded) }},
		{"a create whose body read hit a network timeout", "POST", "/v1/tasks",
			func() io.Reader {
				return iotest.ErrReader(&net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded})
			}},
	}
	for _, tt := range tests {
		t.Run("answers "+tt.name+" with 408", func(t *testing.T) {
			h := newHarness(t)
			h.h = New(Options{Store: h.store, Tokens: h.tokens, Ready: h.ready, Log: discardLogger(), RequestTimeout: 20 * time.Millisecond})
			req := h.authorize(httptest.NewRequest(tt.method, tt.target, tt.body()))
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			h.h.ServeHTTP(w, req)
			if w.Code != http.StatusRequestTimeout {
				t.Fatalf("status %d, want 408: %s", w.Code, w.Body)
			}
			if w.Header().Get("Retry-After") != "" || w.Header().Get("Connection") != "close" {
				t.Errorf("headers %v, want Connection: close and no Retry-After, which would blame the server", w.Header())
			}
			if p := decodeProblem(t, w); !strings.Contains(p.Detail, "in time") {
				t.Errorf("detail %q does not say the request was too slow", p.Detail)
			}
			if n := h.store.writeCount(); n != 0 {
				t.Errorf("%d writes reached the store", n)
			}
		})
	}
}

// Over a real connection: the reported case, a body trickled past
// REQUEST_TIMEOUT, used to be a 503 blaming the database.
func TestABodyTrickledPastTheDeadlineOverTheNetworkIsA408(t *testing.T) {
	h := newHarness(t)
	store := h.store
	srv := httptest.NewServer(New(Options{Store: store, Tokens: h.tokens, Ready: h.ready, Log: discardLogger(), RequestTimeout: 200 * time.Millisecond}))
	defer srv.Close()
	status := <-loopback.SlowPost(srv.Listener.Addr().String(), "/v1/tasks", h.token, `{"title":"slow"}`, 600*time.Millisecond)
	if status != "408 Request Timeout" {
		t.Fatalf("got %q, want 408 Request Timeout", status)
	}
	if n := store.writeCount(); n != 0 {
		t.Fatalf("%d writes reached the store", n)
	}
}
