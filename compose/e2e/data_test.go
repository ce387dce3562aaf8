package e2e

import (
	"strings"
	"testing"
)

// 7. Tasks survive `down` and `up` (the named volume), and `down -v`
// removes them.
func TestDataSurvivesDownAndUpButNotDownV(t *testing.T) {
	s := newStack(t, Password)
	s.up()
	loc := mustCall(t, s.base(), "POST", "/v1/tasks", `{"title":"persistent"}`, 201).header.Get("Location")

	s.must("down")
	s.up()
	if got := mustCall(t, s.base(), "GET", loc, "", 200); got.body["title"] != "persistent" {
		t.Fatalf("after down/up: %v", got.body)
	}

	s.must("down", "--volumes")
	s.up()
	mustCall(t, s.base(), "GET", loc, "", 404)
}

// 8. Two API replicas and two migrate runs started together: both runs
// succeed, the migration is applied exactly once, and both replicas serve.
func TestTwoReplicasAndTwoMigrationsApplyTheSchemaOnce(t *testing.T) {
	s := newStack(t, Password)
	s.port = portPair(t)
	s.up("--scale", "api=2", "--scale", "migrate=2")

	migrations := s.containers("migrate")
	if len(migrations) != 2 {
		t.Fatalf("%d migrate containers", len(migrations))
	}
	applied := 0
	for _, m := range migrations {
		if m.State.ExitCode != 0 {
			t.Errorf("%s exited %d", m.Name, m.State.ExitCode)
		}
		out := s.dockerLogs(m.ID)
		applied += strings.Count(out, "1/u create_tasks")
		if !strings.Contains(out, "version 1 (clean)") {
			t.Errorf("%s did not end at version 1:\n%s", m.Name, out)
		}
	}
	if applied != 1 {
		t.Fatalf("the first migration ran %d times, want exactly once", applied)
	}

	apis := s.containers("api")
	if len(apis) != 2 {
		t.Fatalf("%d api containers", len(apis))
	}
	for _, port := range strings.Split(s.port, "-") {
		base := "http://127.0.0.1:" + port
		mustCall(t, base, "POST", "/v1/tasks", `{"title":"replica"}`, 201)
	}
}
