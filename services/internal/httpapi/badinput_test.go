package httpapi

import (
	"net/http"
	"strings"
	"testing"
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
