package httpapi

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gantry-dev/gantry/services/internal/task"
)

// FuzzCreateTask feeds arbitrary bodies to POST /v1/tasks. Whatever arrives,
// the answer is a 201 for a valid task or a 4xx problem, never a 5xx, and
// nothing invalid is ever stored. CI runs it briefly:
// go test -run '^$' -fuzz FuzzCreateTask -fuzztime 20s -fuzzminimizetime 100x ./services/internal/httpapi
// (a bounded minimisation keeps a short run fuzzing instead of minimising).
func FuzzCreateTask(f *testing.F) {
	for _, seed := range []string{
		`{"title":"x"}`,
		`{"title":"a","description":"b","status":"doing","due_date":"2026-01-31"}`,
		`{"title":" \u0000 "}`, `{"title":"\ud800"}`, `{"title":null}`, `[]`, `{`, `""`,
		`{"title":"x","status":"done","status":"todo"}`, `{"due_date":"0000-00-00","title":"t"}`,
		"{\"title\":\"\xff\"}", `{"title":"` + strings.Repeat("é", 200) + `"}`,
		`{"title":"a","title":"b"}`, `{"title":"x","t\u0069tle":"y"}`, `{"title":"\udc00"}`,
		`{"title":"\ud83d\ude00"}`, `{"title":"\ud83d\u0041"}`, `{"title":"x","description":"\ud800\ud800"}`,
	} {
		f.Add(seed)
	}
	h := newHarness(f) // one per process: fuzzing wants cheap executions
	f.Fuzz(func(t *testing.T, body string) {
		h.store.reset()
		h.logs.Reset()
		w := h.do("POST", "/v1/tasks", body)
		switch {
		case w.Code == http.StatusCreated:
			tj := decodeTask(t, w)
			checkStoredTask(t, tj)
			if err := checkIJSON([]byte(body)); err != nil {
				t.Fatalf("stored a body RFC 7493 forbids (%v): %q", err, body)
			}
		case w.Code >= 400 && w.Code < 500:
			decodeProblem(t, w)
			if h.store.writeCount() != 0 {
				t.Fatalf("a rejected body was stored: %q", body)
			}
		default:
			t.Fatalf("status %d for body %q: %s", w.Code, body, w.Body)
		}
	})
}

func checkStoredTask(t *testing.T, tj task.Document) {
	t.Helper()
	n := utf8.RuneCountInString(tj.Title)
	switch {
	case n < 1 || n > task.MaxTitle || strings.TrimSpace(tj.Title) != tj.Title:
		t.Fatalf("stored an invalid title %q", tj.Title)
	case !tj.Status.Valid():
		t.Fatalf("stored an invalid status %q", tj.Status)
	case strings.ContainsRune(tj.Description, 0):
		t.Fatalf("stored a NUL")
	}
	if tj.DueDate != nil {
		if _, err := task.ParseDate(*tj.DueDate); err != nil {
			t.Fatalf("stored an invalid date %q", *tj.DueDate)
		}
	}
}
