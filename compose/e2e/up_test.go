package e2e

import (
	"testing"
)

// 1. From nothing to a working API: the database healthy, the migration
// done, the API healthy, and a task through its whole life.
func TestUpFromNothingGivesAWorkingStack(t *testing.T) {
	s := newStack(t, Password)
	s.up()
	s.healthy()
	crud(t, s.api())
}

// crud walks a task through create, read, list, update and delete.
func crud(t *testing.T, to endpoint) {
	t.Helper()
	created := mustCall(t, to, "POST", "/v1/tasks", `{"title":"through compose","due_date":"2026-12-24"}`, 201)
	loc, etag := created.header.Get("Location"), created.header.Get("ETag")
	if got := mustCall(t, to, "GET", loc, "", 200); got.body["title"] != "through compose" {
		t.Fatalf("read back %v", got.body)
	}
	if list := mustCall(t, to, "GET", "/v1/tasks?limit=5", "", 200); len(list.body["items"].([]any)) == 0 {
		t.Fatal("the list is empty")
	}
	updated := mustCall(t, to, "PATCH", loc, `{"status":"done"}`, 200, "If-Match", etag)
	mustCall(t, to, "PATCH", loc, `{"status":"todo"}`, 412, "If-Match", etag)
	mustCall(t, to, "DELETE", loc, "", 204, "If-Match", updated.header.Get("ETag"))
	mustCall(t, to, "GET", loc, "", 404)
}

// 5. The password holds $ ! # quotes, spaces, % / and \: it goes through
// init-secrets, a file, the Postgres entrypoint and a percent-encoded URL.
func TestPasswordsWithSpecialCharactersWorkEndToEnd(t *testing.T) {
	for _, pw := range []string{`a$b!c#d'e"f g`, `%2F\\$(id)` + "`x`", `ünïcødé pass`} {
		t.Run(pw, func(t *testing.T) {
			s := newStack(t, pw)
			s.up()
			mustCall(t, s.api(), "POST", "/v1/tasks", `{"title":"authenticated"}`, 201)
		})
	}
}
