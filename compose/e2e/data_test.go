package e2e

import (
	"regexp"
	"strings"
	"testing"
)

// 7. Tasks survive `down` and `up` (the named volume), and `down -v`
// removes them.
func TestDataSurvivesDownAndUpButNotDownV(t *testing.T) {
	s := newStack(t, Password)
	s.up()
	loc := mustCall(t, s.api(), "POST", "/v1/tasks", `{"title":"persistent"}`, 201).header.Get("Location")

	s.must("down")
	s.up()
	if got := mustCall(t, s.api(), "GET", loc, "", 200); got.body["title"] != "persistent" {
		t.Fatalf("after down/up: %v", got.body)
	}

	s.must("down", "--volumes")
	s.up()
	mustCall(t, s.api(), "GET", loc, "", 404)
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
	applied := map[string]int{}
	created := 0
	for _, m := range migrations {
		if m.State.ExitCode != 0 {
			t.Errorf("%s exited %d", m.Name, m.State.ExitCode)
		}
		out := s.dockerLogs(m.ID)
		for _, name := range []string{"1/u create_tasks", "2/u create_api_tokens"} {
			applied[name] += strings.Count(out, name)
		}
		created += strings.Count(out, "bootstrap token stored")
		if v := latestVersion.FindStringSubmatch(out); v == nil || v[1] != v[2] {
			t.Errorf("%s did not end clean at the binary's latest version:\n%s", m.Name, out)
		}
	}
	for name, n := range applied {
		if n != 1 {
			t.Errorf("migration %s ran %d times, want exactly once", name, n)
		}
	}
	if created != 1 {
		t.Errorf("the bootstrap token was stored %d times, want once (the other run finds it present)", created)
	}

	apis := s.containers("api")
	if len(apis) != 2 {
		t.Fatalf("%d api containers", len(apis))
	}
	for _, replica := range s.replicas() {
		mustCall(t, replica, "POST", "/v1/tasks", `{"title":"replica"}`, 201)
	}
}

// latestVersion is what `migrate up` prints last: the version it left and
// the newest the binary knows, which a clean run makes the same.
var latestVersion = regexp.MustCompile(`version (\d+) \(clean\); this binary's latest is (\d+)`)

// replicas are the API replicas of a stack published on a port range, one
// endpoint per port, each with the stack's token.
func (s *stack) replicas() []endpoint {
	var eps []endpoint
	for _, port := range strings.Split(s.port, "-") {
		eps = append(eps, endpoint{"http://127.0.0.1:" + port, s.token()})
	}
	return eps
}
