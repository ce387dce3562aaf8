package httpapi

import (
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/services/internal/task"
)

func TestCreateReturns201WithLocationAndETag(t *testing.T) {
	h := newHarness(t)
	w := h.do("POST", "/v1/tasks", `{"title":"  buy milk  ","description":"2 l","status":"doing","due_date":"2026-12-01"}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	tj := decodeTask(t, w)
	if tj.Title != "buy milk" || tj.Status != task.StatusDoing || tj.DueDate == nil || *tj.DueDate != "2026-12-01" {
		t.Fatalf("body %+v", tj)
	}
	if loc := w.Header().Get("Location"); loc != "/v1/tasks/"+tj.ID {
		t.Errorf("Location %q", loc)
	}
	if et := w.Header().Get("ETag"); et != `"1"` {
		t.Errorf("ETag %q, want \"1\"", et)
	}
}

func TestCreateDefaultsStatusToTodo(t *testing.T) {
	tj := decodeTask(t, newHarness(t).do("POST", "/v1/tasks", `{"title":"x"}`))
	if tj.Status != task.StatusTodo || tj.DueDate != nil {
		t.Fatalf("%+v", tj)
	}
}

func TestCreateStoresSQLLookingTitlesVerbatim(t *testing.T) {
	h := newHarness(t)
	title := `Robert'); DROP TABLE tasks;--`
	body, _ := json.Marshal(map[string]string{"title": title})
	tj := decodeTask(t, h.do("POST", "/v1/tasks", string(body)))
	if got := decodeTask(t, h.do("GET", "/v1/tasks/"+tj.ID, "")); got.Title != title {
		t.Fatalf("title %q, want it verbatim", got.Title)
	}
}

func TestGetHonoursIfNoneMatch(t *testing.T) {
	tests := []struct {
		name        string
		ifNoneMatch string
		status      int
	}{
		{"the current ETag is not modified", `"1"`, 304},
		{"a weak tag with the current version is not modified", `W/"1"`, 304},
		{"a star matches any current task", `*`, 304},
		{"a list holding the current ETag is not modified", `"7", "1"`, 304},
		{"a list without spaces holding a weak match is not modified", `"7",W/"1"`, 304},
		{"a list with empty elements is read past them", `, "7",, "1" ,`, 304},
		{"another version is sent in full", `"0"`, 200},
		{"a list of other versions is sent in full", `"0", W/"2"`, 200},
		{"a tag that merely contains the version is sent in full", `"11"`, 200},
		{"an empty header is sent in full", ``, 200},
		{"an unquoted tag is a 400", `1`, 400},
		{"an unterminated tag is a 400", `"1`, 400},
		{"a star inside a list is a 400", `*, "1"`, 400},
		{"two tags without a comma are a 400", `"7" "1"`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			tj := decodeTask(t, h.do("POST", "/v1/tasks", `{"title":"x"}`))
			w := h.do("GET", "/v1/tasks/"+tj.ID, "", "If-None-Match", tt.ifNoneMatch)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			switch tt.status {
			case 304:
				if w.Body.Len() != 0 || w.Header().Get("ETag") != `"1"` {
					t.Fatalf("body %q ETag %q, want an empty 304 with the current ETag", w.Body, w.Header().Get("ETag"))
				}
			case 400:
				if p := decodeProblem(t, w); !contains(p.Detail, "If-None-Match") {
					t.Fatalf("detail %q does not name the header", p.Detail)
				}
			}
		})
	}
}

func TestIfNoneMatchSentOnSeveralLinesIsOneList(t *testing.T) {
	h := newHarness(t)
	tj := decodeTask(t, h.do("POST", "/v1/tasks", `{"title":"x"}`))
	req := h.authorize(httptest.NewRequest(http.MethodGet, "/v1/tasks/"+tj.ID, nil))
	req.Header.Add("If-None-Match", `"5"`)
	req.Header.Add("If-None-Match", `"1"`)
	w := httptest.NewRecorder()
	h.h.ServeHTTP(w, req)
	if w.Code != http.StatusNotModified {
		t.Fatalf("status %d, want 304", w.Code)
	}
}

func TestPatchAndDeleteHonourIfMatch(t *testing.T) {
	tests := []struct {
		name    string
		ifMatch string
		status  int
	}{
		{"no If-Match updates unconditionally", "", 200},
		{"the current ETag updates", `"1"`, 200},
		{"a stale ETag is refused with 412", `"7"`, 412},
		{"a weak ETag never matches", `W/"1"`, 412},
		{"a foreign ETag never matches", `"abc"`, 412},
		{"a star updates any existing task", `*`, 200},
		{"an unquoted ETag is a 400", `1`, 400},
		{"several ETags are a 400", `"1", "2"`, 400},
	}
	for _, method := range []string{"PATCH", "DELETE"} {
		for _, tt := range tests {
			t.Run(method+": "+tt.name, func(t *testing.T) {
				h := newHarness(t)
				id := decodeTask(t, h.do("POST", "/v1/tasks", `{"title":"x"}`)).ID
				status := tt.status
				if method == "DELETE" && status == 200 {
					status = 204
				}
				var hdr []string
				if tt.ifMatch != "" {
					hdr = []string{"If-Match", tt.ifMatch}
				}
				w := h.do(method, "/v1/tasks/"+id, `{"status":"done"}`, hdr...)
				if w.Code != status {
					t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
				}
				if status >= 400 {
					decodeProblem(t, w)
				}
			})
		}
	}
}

func TestPatchReturnsTheNewETag(t *testing.T) {
	h := newHarness(t)
	id := decodeTask(t, h.do("POST", "/v1/tasks", `{"title":"x"}`)).ID
	w := h.do("PATCH", "/v1/tasks/"+id, `{"title":"y"}`, "If-Match", `"1"`)
	if w.Code != 200 || w.Header().Get("ETag") != `"2"` || decodeTask(t, w).Title != "y" {
		t.Fatalf("status %d ETag %q body %s", w.Code, w.Header().Get("ETag"), w.Body)
	}
}

func TestUnknownTasksAre404(t *testing.T) {
	const missing = "/v1/tasks/0b6cbe5e-8b47-4c84-9d6c-3f1e1d3b2c11"
	for _, method := range []string{"GET", "PATCH", "DELETE"} {
		t.Run(method+" of an unknown task is 404", func(t *testing.T) {
			w := newHarness(t).do(method, missing, `{"title":"x"}`)
			if w.Code != http.StatusNotFound {
				t.Fatalf("status %d", w.Code)
			}
			decodeProblem(t, w)
		})
	}
}

func TestListCapsTheLimitAt100(t *testing.T) {
	h := newHarness(t)
	for i := range 105 {
		h.do("POST", "/v1/tasks", `{"title":"t`+strconv.Itoa(i)+`"}`)
	}
	var page listJSON
	w := h.do("GET", "/v1/tasks?limit=1000", "")
	if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 100 {
		t.Fatalf("%d items, want the cap of 100", len(page.Items))
	}
}

func TestListAlwaysHasAnItemsArray(t *testing.T) {
	w := newHarness(t).do("GET", "/v1/tasks", "")
	if w.Code != 200 || w.Body.String() != `{"items":[],"next_cursor":null}`+"\n" {
		t.Fatalf("status %d body %q", w.Code, w.Body)
	}
}

func TestDatabaseOutagesAre503NotA500(t *testing.T) {
	h := newHarness(t)
	h.store.failing = task.Wrap(task.Unavailable, errFake, "the database is unavailable; try again shortly")
	w := h.do("GET", "/v1/tasks", "")
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	decodeProblem(t, w)
}

func TestInternalErrorsHideTheirCause(t *testing.T) {
	h := newHarness(t)
	h.store.failing = task.Wrap(task.Internal, errFake, "list tasks failed")
	w := h.do("GET", "/v1/tasks", "")
	p := decodeProblem(t, w)
	if w.Code != 500 || p.RequestID == "" {
		t.Fatalf("status %d problem %+v", w.Code, p)
	}
	if contains(w.Body.String(), errFake.Error()) {
		t.Fatal("the cause leaked to the client")
	}
	if !contains(h.logs.String(), errFake.Error()) || !contains(h.logs.String(), p.RequestID) {
		t.Fatalf("the cause and request ID must be logged: %s", h.logs)
	}
}

func TestADatabaseSlowerThanTheDeadlineIsStillA503(t *testing.T) {
	h := newHarness(t)
	h.store.slow = time.Second
	h.h = New(Options{Store: h.store, Tokens: h.tokens, Ready: h.ready, Log: discardLogger(), RequestTimeout: 20 * time.Millisecond})
	for _, method := range []string{"POST", "GET"} {
		w := h.do(method, "/v1/tasks", `{"title":"x"}`)
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
			t.Fatalf("%s: status %d Retry-After %q, want 503 with Retry-After", method, w.Code, w.Header().Get("Retry-After"))
		}
	}
}

// brokenConn is a client that went away after the request: every body
// write fails, and it records each status the handler tries to send.
type brokenConn struct {
	header   http.Header
	statuses []int
}

func (b *brokenConn) Header() http.Header { return b.header }

func (b *brokenConn) WriteHeader(status int) { b.statuses = append(b.statuses, status) }

func (b *brokenConn) Write([]byte) (int, error) {
	if len(b.statuses) == 0 {
		b.WriteHeader(http.StatusOK)
	}
	return 0, syscall.EPIPE
}

func TestAFailedResponseWriteSendsNoSecondStatus(t *testing.T) {
	h := newHarness(t)
	id := decodeTask(t, h.do("POST", "/v1/tasks", `{"title":"x"}`)).ID
	h.logs.Reset()
	for _, target := range []string{"/v1/tasks/" + id, "/v1/tasks"} {
		t.Run("GET "+target+" answers 200 once and logs the disconnect at debug", func(t *testing.T) {
			h.logs.Reset()
			conn := &brokenConn{header: http.Header{}}
			h.h.ServeHTTP(conn, h.authorize(httptest.NewRequest(http.MethodGet, target, nil)))
			if !slices.Equal(conn.statuses, []int{200}) {
				t.Fatalf("statuses sent %v, want only 200", conn.statuses)
			}
			logs := h.logs.String()
			if contains(logs, `"level":"ERROR"`) || contains(logs, "request failed") {
				t.Fatalf("a disconnect was logged as a server error: %s", logs)
			}
			if n := strings.Count(logs, `"level":"DEBUG","msg":"response not delivered"`); n != 1 {
				t.Fatalf("%d debug lines about the lost response, want 1: %s", n, logs)
			}
			if !contains(logs, `"msg":"request","method":"GET","route":"`) || !contains(logs, `"status":200`) {
				t.Fatalf("the access log must say 200, what was sent: %s", logs)
			}
		})
	}
}

func TestAValueThatCannotBeEncodedIsA500BeforeAnyHeader(t *testing.T) {
	h := newHarness(t)
	a := &api{log: slog.New(slog.NewJSONHandler(h.logs, nil))}
	w := httptest.NewRecorder()
	a.write(w, httptest.NewRequest(http.MethodGet, "/v1/tasks", nil), http.StatusOK, math.Inf(1))
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", w.Code)
	}
	decodeProblem(t, w)
	if !contains(h.logs.String(), `"level":"ERROR"`) {
		t.Fatalf("an encoding failure is a bug and must be logged as an error: %s", h.logs)
	}
}
