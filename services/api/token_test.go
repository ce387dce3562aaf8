package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/services/internal/auth"
)

func TestTokenCreatePrintsTheTokenAloneAndListNeverShowsIt(t *testing.T) {
	t.Parallel()
	env := []string{"DATABASE_URL=" + migratedDB(t)}
	code, stdout, stderr := runBinary(t, env, "token", "create", "--name", "ci", "--scopes", "tasks:read,tasks:write", "--expires-in", "720h")
	token := strings.TrimSuffix(stdout, "\n")
	if code != 0 || auth.Check(token) != nil || strings.Count(stdout, "\n") != 1 {
		t.Fatalf("exit %d stdout %q stderr %s: want the token alone on stdout", code, stdout, stderr)
	}
	if !strings.Contains(stderr, `created token 1 "ci" with tasks:read,tasks:write, expiring`) || strings.Contains(stderr, token) {
		t.Errorf("stderr %q: want what was made, and never the token", stderr)
	}

	list := mustRun(t, env, "token", "list")
	for _, want := range []string{"ID", "NAME", "SCOPES", "ci", "tasks:read,tasks:write", "live"} {
		if !strings.Contains(list, want) {
			t.Errorf("list lacks %q:\n%s", want, list)
		}
	}
	var tokens []tokenJSON
	if err := json.Unmarshal([]byte(mustRun(t, env, "token", "list", "-json")), &tokens); err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 1 || tokens[0].Name != "ci" || tokens[0].ExpiresAt == nil || time.Until(*tokens[0].ExpiresAt) < 719*time.Hour {
		t.Errorf("list -json = %+v", tokens)
	}
	for _, out := range []string{list, mustRun(t, env, "token", "list", "-json")} {
		if strings.Contains(out, token) || strings.Contains(out, token[len(auth.Prefix):20]) {
			t.Errorf("list shows the token:\n%s", out)
		}
	}

	if out := mustRun(t, env, "token", "revoke", "ci"); !strings.Contains(out, `revoked token 1 "ci"`) {
		t.Errorf("revoke said %q", out)
	}
	if list := mustRun(t, env, "token", "list"); !strings.Contains(list, "revoked") {
		t.Errorf("list does not show the revocation:\n%s", list)
	}
}

func TestTokenCommandsRefuseBadInputWithOneLineAndAnExitCode(t *testing.T) {
	t.Parallel()
	env := []string{"DATABASE_URL=" + migratedDB(t)}
	mustRun(t, env, "token", "create", "--name", "taken", "--scopes", "all")
	tests := []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"no subcommand is a usage error", []string{"token"}, 2, "token needs a subcommand"},
		{"an unknown subcommand is a usage error", []string{"token", "mint"}, 2, `unknown token subcommand "mint"`},
		{"create without a name is a usage error", []string{"token", "create", "--scopes", "all"}, 2, "--name is required"},
		{"create without scopes is a usage error", []string{"token", "create", "--name", "x"}, 2, "no scope given"},
		{"an unknown scope is a usage error naming the scopes", []string{"token", "create", "--name", "x", "--scopes", "admin"}, 2, `unknown scope "admin"`},
		{"a bad duration is a usage error", []string{"token", "create", "--name", "x", "--scopes", "all", "--expires-in", "soon"}, 2, "expires-in"},
		{"a taken name fails", []string{"token", "create", "--name", "taken", "--scopes", "all"}, 1, `a live token is already named "taken"`},
		{"a name with spaces fails", []string{"token", "create", "--name", "my token", "--scopes", "all"}, 1, "is not allowed"},
		{"revoking nothing is a usage error", []string{"token", "revoke"}, 2, "takes one token ID or name"},
		{"revoking an unknown name fails", []string{"token", "revoke", "nobody"}, 1, `no live token is named "nobody"`},
		{"revoking an unknown ID fails", []string{"token", "revoke", "404"}, 1, "there is no token 404"},
		{"list takes no arguments", []string{"token", "list", "extra"}, 2, "takes no arguments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runBinary(t, env, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) || stdout != "" {
				t.Fatalf("exit %d (want %d) stdout %q stderr %q (want %q)", code, tc.code, stdout, stderr, tc.want)
			}
			if tc.code == 1 && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("want one line, got:\n%s", stderr)
			}
		})
	}
}

func TestMigrateUpStoresTheBootstrapTokenOnceAndRotatesIt(t *testing.T) {
	t.Parallel()
	url := migratedDB(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "api_token")
	env := []string{"DATABASE_URL=" + url, "BOOTSTRAP_TOKEN_FILE=" + file}
	first, _ := auth.NewToken()
	if err := os.WriteFile(file, []byte(first+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for range 2 { // a second run finds it and changes nothing
		_, _, stderr := runBinary(t, env, "migrate", "up")
		if strings.Contains(stderr, first) {
			t.Fatalf("migrate logged the token:\n%s", stderr)
		}
	}
	s := startServer(t, map[string]string{"DATABASE_URL": url})
	s.waitStatus(t, "/readyz", 200, 10*time.Second)
	if r := s.call(t, "GET", "/v1/tasks", "", "Authorization", "Bearer "+first); r.status != 200 {
		t.Fatalf("the bootstrap token: %d %s", r.status, r.body)
	}
	if n := strings.Count(mustRun(t, env[:1], "token", "list"), "bootstrap"); n != 1 {
		t.Fatalf("two runs of migrate up stored %d bootstrap tokens, want 1", n)
	}

	rotated, _ := auth.NewToken()
	if err := os.WriteFile(file, []byte(rotated+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, env, "migrate", "up")
	if r := s.call(t, "GET", "/v1/tasks", "", "Authorization", "Bearer "+rotated); r.status != 200 {
		t.Errorf("the rotated token: %d", r.status)
	}
	awaitStatus(t, s, "Bearer "+first, 401, time.Second)

	if err := os.WriteFile(file, []byte("not a token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runBinary(t, env, "migrate", "up")
	if code != 1 || !strings.Contains(stderr, "BOOTSTRAP_TOKEN_FILE: the file") {
		t.Errorf("a file with no token: exit %d %q", code, stderr)
	}
}

// awaitStatus polls GET /v1/tasks with authorization until it answers
// status, failing after within.
func awaitStatus(t *testing.T, s *server, authorization string, status int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r := s.call(t, "GET", "/v1/tasks", "", "Authorization", authorization)
		if r.status == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %d after %s, want %d", s.base, r.status, within, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Two replicas on one database: both have the token cached; a revocation
// through the CLI reaches both within a second, through LISTEN/NOTIFY.
func TestARevocationReachesEveryReplicaWithinASecond(t *testing.T) {
	t.Parallel()
	url := migratedDB(t)
	a := startServer(t, map[string]string{"DATABASE_URL": url})
	b := startServer(t, map[string]string{"DATABASE_URL": url})
	env := []string{"DATABASE_URL=" + url}
	token := strings.TrimSpace(mustRun(t, env, "token", "create", "--name", "replicas", "--scopes", "tasks:read"))
	for _, s := range []*server{a, b} {
		s.waitStatus(t, "/readyz", 200, 10*time.Second)
		for range 3 { // the first fills the cache, the others are served from it
			if r := s.call(t, "GET", "/v1/tasks", "", "Authorization", "Bearer "+token); r.status != 200 {
				t.Fatalf("%s: %d", s.base, r.status)
			}
		}
	}
	mustRun(t, env, "token", "revoke", "replicas")
	start := time.Now()
	for _, s := range []*server{a, b} {
		awaitStatus(t, s, "Bearer "+token, 401, time.Second-time.Since(start))
	}
	t.Logf("both replicas refused the revoked token %s after the revoke returned", time.Since(start).Round(time.Millisecond))
}
