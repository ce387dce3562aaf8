package main

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestTheAPIEndToEndOnPostgreSQL(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"DATABASE_URL": migratedDB(t)})
	s.waitStatus(t, "/readyz", 200, 10e9)

	created := s.call(t, "POST", "/v1/tasks", `{"title":"ship Gantry","status":"doing","due_date":"2026-12-24"}`, "X-Request-ID", "e2e-1")
	if created.status != 201 || created.header.Get("X-Request-ID") != "e2e-1" {
		t.Fatalf("create: %d %s", created.status, created.body)
	}
	loc, etag := created.header.Get("Location"), created.header.Get("ETag")

	got := s.call(t, "GET", loc, "")
	if got.status != 200 || got.header.Get("ETag") != etag || got.json(t)["title"] != "ship Gantry" {
		t.Fatalf("get: %d %s", got.status, got.body)
	}

	upd := s.call(t, "PATCH", loc, `{"status":"done","due_date":null}`, "If-Match", etag)
	if upd.status != 200 || upd.json(t)["status"] != "done" || upd.json(t)["due_date"] != nil {
		t.Fatalf("patch: %d %s", upd.status, upd.body)
	}
	if stale := s.call(t, "PATCH", loc, `{"title":"lost update"}`, "If-Match", etag); stale.status != 412 {
		t.Fatalf("patch with a stale ETag: %d %s", stale.status, stale.body)
	}

	list := s.call(t, "GET", "/v1/tasks?status=done&limit=10", "")
	if items := list.json(t)["items"].([]any); list.status != 200 || len(items) != 1 {
		t.Fatalf("list: %d %s", list.status, list.body)
	}

	if del := s.call(t, "DELETE", loc, "", "If-Match", upd.header.Get("ETag")); del.status != 204 {
		t.Fatalf("delete: %d %s", del.status, del.body)
	}
	if again := s.call(t, "DELETE", loc, ""); again.status != 404 {
		t.Fatalf("second delete: %d", again.status)
	}
	if gone := s.call(t, "GET", loc, ""); gone.status != 404 {
		t.Fatalf("get after delete: %d", gone.status)
	}

	metrics := string(send(t, "GET", s.admin+"/metrics", "").body)
	for _, want := range []string{`route="/v1/tasks/{id}",status="412"`, "pgxpool_total_conns", "go_goroutines"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("the admin listener's metrics lack %s", want)
		}
	}
	if r := s.call(t, "GET", "/metrics", ""); r.status != 404 {
		t.Errorf("GET /metrics on the API's port: %d, want 404: metrics are the admin port's", r.status)
	}
	for _, probe := range []string{"/healthz", "/readyz"} {
		if r := send(t, "GET", s.admin+probe, ""); r.status != 200 {
			t.Errorf("GET %s on the admin port: %d", probe, r.status)
		}
	}
}

func TestPagingThroughTheRealAPIVisitsEveryTaskOnce(t *testing.T) {
	t.Parallel()
	url := migratedDB(t)
	s := startServer(t, map[string]string{"DATABASE_URL": url})
	for range 25 {
		if r := s.call(t, "POST", "/v1/tasks", `{"title":"t"}`); r.status != 201 {
			t.Fatal(r.status)
		}
	}
	seen := map[string]bool{}
	path := "/v1/tasks?limit=7"
	for pages := 0; path != ""; pages++ {
		page := s.call(t, "GET", path, "").json(t)
		for _, it := range page["items"].([]any) {
			id := it.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("%s seen twice", id)
			}
			seen[id] = true
		}
		path = ""
		if c, ok := page["next_cursor"].(string); ok {
			path = "/v1/tasks?limit=7&cursor=" + c
		}
	}
	if len(seen) != 25 {
		t.Fatalf("saw %d of 25", len(seen))
	}
}

// Every request here is wrong in some way; none may produce a 5xx, and the
// table must be empty afterwards.
func TestBadInputThroughTheRealStackIsNeverA5xxAndStoresNothing(t *testing.T) {
	t.Parallel()
	url := migratedDB(t)
	s := startServer(t, map[string]string{"DATABASE_URL": url})
	requests := []struct{ method, path, body string }{
		{"POST", "/v1/tasks", `{"title":`},
		{"POST", "/v1/tasks", `{"title":"x","extra":true}`},
		{"POST", "/v1/tasks", `{"title":["x"]}`},
		{"POST", "/v1/tasks", `{"title":"x","status":"todo'); DELETE FROM tasks;--"}`},
		{"POST", "/v1/tasks", "{\"title\":\"\xc3\x28\"}"},
		{"POST", "/v1/tasks", `{"title":"x","description":"\u0000"}`},
		{"POST", "/v1/tasks", `{"title":"x","due_date":"99999-01-01"}`},
		{"POST", "/v1/tasks", `{"title":"` + strings.Repeat("x", 2<<20) + `"}`},
		{"GET", "/v1/tasks/' OR 1=1 --", ""},
		{"GET", "/v1/tasks?cursor=AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ""},
		{"GET", "/v1/tasks?limit=99999999999999999999", ""},
		{"PATCH", "/v1/tasks/00000000-0000-0000-0000-000000000000", `{"title":"x"}`},
		{"DELETE", "/v1/tasks/not-a-uuid", ""},
	}
	for _, r := range requests {
		resp := s.call(t, r.method, r.path, r.body)
		if resp.status >= 500 {
			t.Errorf("%s %s %.40q: %d %s", r.method, r.path, r.body, resp.status, resp.body)
		}
	}
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM tasks").Scan(&n); err != nil {
		t.Fatalf("counting the stored tasks: %v", err)
	}
	if n != 0 {
		t.Fatalf("%d rows stored from bad input", n)
	}
}
