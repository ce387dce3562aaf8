package e2e

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// 11. Every /v1 route needs the bearer token, and the one init-secrets
// wrote works as soon as `up --wait` returns; metrics and the probes of the
// admin listener stay inside the container.
func TestOnlyAValidTokenGetsInAndMetricsStayInside(t *testing.T) {
	s := newStack(t, Password)
	s.up()
	mustCall(t, s.api(), "GET", "/v1/tasks", "", 200)

	t.Run("no token or a bad one is a 401 with a Bearer challenge that does not say which", func(t *testing.T) {
		tests := []struct {
			name, authorization, challenge string
		}{
			{"no Authorization header", "", `Bearer realm="gantry"`},
			{"another scheme", "Basic Z2FudHJ5OnBhc3M=", `Bearer realm="gantry"`},
			{"not a token", "Bearer not-a-token", `Bearer realm="gantry", error="invalid_token"`},
			{"the token mistyped", "Bearer " + mistyped(s.token()), `Bearer realm="gantry", error="invalid_token"`},
			{"a well-formed token never stored", "Bearer " + unissuedToken(t), `Bearer realm="gantry", error="invalid_token"`},
		}
		var details []any
		for _, tc := range tests {
			r := mustCall(t, endpoint{base: s.base()}, "GET", "/v1/tasks", "", 401, "Authorization", tc.authorization)
			if got := r.header.Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("%s: WWW-Authenticate %q, want %q", tc.name, got, tc.challenge)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s: Content-Type %q", tc.name, ct)
			}
			details = append(details, r.body["detail"])
		}
		if details[0] == nil || len(slices.Compact(details)) != 1 {
			t.Errorf("the problems differ or say nothing: %v", details)
		}
	})

	t.Run("a token made with api token create in the container works within its scopes", func(t *testing.T) {
		out := s.must("exec", "-T", "api", "/usr/local/bin/api", "token", "create", "--name", "reader", "--scopes", "tasks:read")
		tokens := anyToken.FindAllString(out, -1)
		if len(tokens) != 1 {
			t.Fatalf("want the one new token in the output, got %d:\n%s", len(tokens), out)
		}
		reader := endpoint{s.base(), tokens[0]}
		mustCall(t, reader, "GET", "/v1/tasks", "", 200)
		r := mustCall(t, reader, "POST", "/v1/tasks", `{"title":"not allowed"}`, 403)
		if got, want := r.header.Get("WWW-Authenticate"), `Bearer realm="gantry", error="insufficient_scope", scope="tasks:write"`; got != want {
			t.Errorf("WWW-Authenticate %q, want %q", got, want)
		}
	})

	t.Run("the probes answer without a token", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/readyz"} {
			mustCall(t, endpoint{base: s.base()}, "GET", path, "", 200)
		}
	})

	t.Run("the published port has no /metrics, with or without a token", func(t *testing.T) {
		mustCall(t, endpoint{base: s.base()}, "GET", "/metrics", "", 404)
		mustCall(t, s.api(), "GET", "/metrics", "", 404)
	})

	t.Run("the admin listener answers inside the container and is not published", func(t *testing.T) {
		// The healthcheck probes 127.0.0.1:$PORT in the container: 9090
		// is the admin listener, and 9091 nothing (so the probe does aim).
		for _, args := range [][]string{{"healthcheck"}, {"healthcheck", "-ready"}} {
			s.must(append([]string{"exec", "-T", "-e", "PORT=9090", "api", "/usr/local/bin/api"}, args...)...)
		}
		if out, err := s.run("exec", "-T", "-e", "PORT=9091", "api", "/usr/local/bin/api", "healthcheck"); err == nil {
			t.Fatalf("a probe of port 9091, where nothing listens, passed:\n%s", out)
		}
		if out, err := s.run("port", "api", "9090"); err == nil {
			t.Errorf("compose publishes the admin port: %s", out)
		}
		bindings := s.one("api").HostConfig.PortBindings
		if _, ok := bindings["8080/tcp"]; !ok || len(bindings) != 1 {
			t.Errorf("published ports %v, want 8080/tcp alone", bindings)
		}
	})
}

// mistyped is token with its last character changed: a token the API
// refuses (its checksum fails) that still holds most of the real one.
func mistyped(token string) string {
	last := byte('a')
	if token[len(token)-1] == last {
		last = 'b'
	}
	return token[:len(token)-1] + string(last)
}

var anyToken = regexp.MustCompile(`gantry_[0-9A-Za-z]{49}`)

// unissuedToken is a token in the right format, with a valid checksum,
// that no stack has stored: one more from init-secrets.
func unissuedToken(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "secrets")
	if out, err := runInitSecrets(t, dir, "", "--rotate-token"); err != nil {
		t.Fatalf("init-secrets: %v\n%s", err, out)
	}
	return strings.TrimSpace(readFile(t, filepath.Join(dir, "api_token")))
}

// 12. Two replicas, each having served (and cached) the bootstrap token:
// revoked with the CLI in one of them, it is refused by both within a
// second of the command returning, and stays refused.
func TestARevokedTokenIsRefusedByBothReplicasWithinASecond(t *testing.T) {
	s := newStack(t, Password)
	s.port = portPair(t)
	s.up("--scale", "api=2")
	replicas := s.replicas()
	for _, r := range replicas {
		mustCall(t, r, "GET", "/v1/tasks?limit=1", "", 200)
	}

	polls := make([][]poll, len(replicas))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, r := range replicas {
		wg.Go(func() { polls[i] = pollUntil(t, r, stop) })
	}
	time.Sleep(300 * time.Millisecond) // polls while the token is live
	issued := time.Now()
	out := s.must("exec", "-T", "api", "/usr/local/bin/api", "token", "revoke", "bootstrap")
	returned := time.Now()
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()

	t.Logf("`api token revoke` ran %s: %s", returned.Sub(issued).Round(time.Millisecond), strings.TrimSpace(out))
	for i, ps := range polls {
		refused, err := refusedWithin(ps, returned, time.Second)
		if err != nil {
			t.Errorf("replica %d (%s): %v", i+1, replicas[i].base, err)
			continue
		}
		t.Logf("replica %d (%s): first refusal %s after the revoke command started, %s after it returned (%d polls)",
			i+1, replicas[i].base, refused.Sub(issued).Round(time.Millisecond), max(0, refused.Sub(returned)).Round(time.Millisecond), len(ps))
	}
}

// poll is one request of a poller: when it was sent and how it ended.
type poll struct {
	sent, got time.Time
	status    int
}

// pollUntil asks the replica for tasks until stop is closed.
func pollUntil(t *testing.T, to endpoint, stop <-chan struct{}) []poll {
	var ps []poll
	for {
		select {
		case <-stop:
			return ps
		default:
		}
		sent := time.Now()
		status := call(t, to, "GET", "/v1/tasks?limit=1", "").status
		ps = append(ps, poll{sent, time.Now(), status})
		time.Sleep(5 * time.Millisecond)
	}
}

// refusedWithin checks that the polls turned from 200 to 401 once, that no
// request sent more than within after returned was let in, and that some
// were sent then. It returns when the first 401 arrived.
func refusedWithin(ps []poll, returned time.Time, within time.Duration) (time.Time, error) {
	first, late := -1, 0
	for i, p := range ps {
		switch {
		case p.status != 200 && p.status != 401:
			return time.Time{}, fmt.Errorf("a poll got status %d (0 is a network error)", p.status)
		case p.status == 401 && first < 0:
			first = i
		case p.status == 200 && first >= 0:
			return time.Time{}, fmt.Errorf("a poll got 200 after a 401, %s after the revoke returned", p.got.Sub(returned))
		}
		if p.sent.After(returned.Add(within)) {
			late++
		}
	}
	switch {
	case first < 0:
		return time.Time{}, fmt.Errorf("never refused the revoked token in %d polls", len(ps))
	case first == 0:
		return time.Time{}, fmt.Errorf("refused the token before the revoke: the check proves nothing")
	case ps[first-1].sent.After(returned.Add(within)):
		return time.Time{}, fmt.Errorf("still let the token in %s after the revoke returned", ps[first-1].sent.Sub(returned))
	case late == 0:
		return time.Time{}, fmt.Errorf("no poll was sent more than %s after the revoke returned", within)
	}
	return ps[first].got, nil
}

// 13. Rotation as docs/compose.md gives it: a new api_token, then the
// one-shot migrate again. The new token works, the old one is refused, and
// a bootstrap token revoked by hand is not brought back by the next run.
func TestRotatingTheTokenSwitchesWhichOneWorks(t *testing.T) {
	s := newStack(t, Password)
	s.up()
	old := s.api()
	mustCall(t, old, "GET", "/v1/tasks", "", 200)

	if out, err := runInitSecrets(t, filepath.Join(s.dir, "secrets"), "", "--rotate-token"); err != nil {
		t.Fatalf("init-secrets --rotate-token: %v\n%s", err, out)
	}
	rotated := s.api()
	if rotated.token == old.token {
		t.Fatal("--rotate-token kept the token")
	}
	mustCall(t, rotated, "GET", "/v1/tasks", "", 401) // written, not yet stored
	mustCall(t, old, "GET", "/v1/tasks", "", 200)

	start := time.Now()
	s.must("run", "--rm", "migrate")
	t.Logf("docker compose run --rm migrate took %s", time.Since(start).Round(time.Millisecond))
	mustCall(t, rotated, "GET", "/v1/tasks", "", 200)
	waitStatus(t, old, "/v1/tasks", 401, time.Second)

	t.Run("running migrate again changes nothing", func(t *testing.T) {
		if out := s.must("run", "--rm", "migrate"); !strings.Contains(out, "bootstrap token already present") {
			t.Errorf("migrate did not find the token present:\n%s", out)
		}
		mustCall(t, rotated, "GET", "/v1/tasks", "", 200)
		mustCall(t, old, "GET", "/v1/tasks", "", 401)
	})

	t.Run("a bootstrap token revoked by hand stays revoked", func(t *testing.T) {
		s.must("exec", "-T", "api", "/usr/local/bin/api", "token", "revoke", "bootstrap")
		if out := s.must("run", "--rm", "migrate"); !strings.Contains(out, "was revoked and stays so") {
			t.Errorf("migrate did not say the token stays revoked:\n%s", out)
		}
		waitStatus(t, rotated, "/v1/tasks", 401, time.Second)
	})
}
