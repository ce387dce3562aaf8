package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-dev/gantry/services/internal/pgtest"
	"github.com/gantry-dev/gantry/services/internal/postgres"
)

// runBinary runs the real program as a child process and returns its exit
// status and output, for what only a process can show: exit codes.
func runBinary(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append([]string{"GANTRY_API_MAIN=1", "PATH=" + os.Getenv("PATH")}, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

func TestBadConfigurationExitsNonZeroWithOneLineNamingTheVariable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"no database URL", nil, "DATABASE_URL: is not set"},
		{"a port that is not a number", []string{"DATABASE_URL=postgres://a@b/c", "PORT=eighty"}, `PORT: must be a port number`},
		{"an unreadable URL file", []string{"DATABASE_URL_FILE=/nonexistent"}, "DATABASE_URL_FILE: cannot read the file"},
		{"an unknown log format", []string{"DATABASE_URL=postgres://a@b/c", "LOG_FORMAT=yaml"}, "LOG_FORMAT: must be one of json, text"},
		{"a pool setting pgx refuses, from the URL file", []string{"DATABASE_URL_FILE=" + urlFile(t, "postgres://app:s3cret@db/app?pool_max_conns=lots")},
			"DATABASE_URL_FILE: is not a valid PostgreSQL connection string: parse database URL: cannot parse `postgres://app:xxxxx@db/app?pool_max_conns=lots`: cannot parse pool_max_conns"},
	}
	for _, tt := range tests {
		t.Run("serve with "+tt.name, func(t *testing.T) {
			code, _, stderr := runBinary(t, tt.env, "serve")
			if code != 1 {
				t.Fatalf("exit %d, want 1", code)
			}
			if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
				t.Fatalf("stderr %q, want one line containing %q", stderr, tt.want)
			}
			if strings.Contains(stderr, "s3cret") {
				t.Fatalf("stderr shows the password: %q", stderr)
			}
		})
	}
}

func urlFile(t *testing.T, url string) string {
	path := filepath.Join(t.TempDir(), "database_url")
	if err := os.WriteFile(path, []byte(url+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestUsageMistakesExitWithStatus2(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{}, {"serve", "now"}, {"launch"}, {"migrate"}, {"migrate", "down"}, {"migrate", "down", "x"}, {"migrate", "sideways"}, {"healthcheck", "-bogus"}} {
		t.Run(strings.Join(append([]string{"api"}, args...), " "), func(t *testing.T) {
			code, _, stderr := runBinary(t, nil, args...)
			if code != 2 || !strings.Contains(stderr, "usage:") {
				t.Fatalf("exit %d stderr %q", code, stderr)
			}
		})
	}
}

func TestVersionPrintsVersionCommitAndGo(t *testing.T) {
	t.Parallel()
	code, stdout, _ := runBinary(t, nil, "version")
	if code != 0 || !strings.Contains(stdout, "gantry-api dev (commit unknown, go1.") {
		t.Fatalf("exit %d stdout %q", code, stdout)
	}
}

func TestThePasswordNeverReachesTheLogs(t *testing.T) {
	t.Parallel()
	url := migratedDB(t) // its password is pgtest.Password, full of specials
	s := startServer(t, map[string]string{"DATABASE_URL": url, "LOG_LEVEL": "debug"})
	s.waitStatus(t, "/readyz", 200, 10e9)
	s.call(t, "GET", "/v1/tasks", "")
	s.stop()
	if err := <-s.result; err != nil {
		t.Fatalf("serve: %v", err)
	}
	s.result <- nil // for the cleanup
	logs := s.logs.String()
	for _, secret := range []string{pgtest.Password, pgxEscape(pgtest.Password), "w0rd"} {
		if strings.Contains(logs, secret) {
			t.Fatalf("logs contain %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, "xxxxx") {
		t.Fatal("the masked URL was not logged; is the test looking at the right logs?")
	}
}

func pgxEscape(s string) string { return url.UserPassword("u", s).String() }

func TestMigrateSubcommands(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.DB(t)
	env := []string{"DATABASE_URL=" + dbURL}
	vs := postgres.Versions()
	latest, before := vs[len(vs)-1], 0
	if len(vs) > 1 {
		before = int(vs[len(vs)-2])
	}
	steps := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"migrate", "version"}, 0, "version 0 (clean)"},
		{[]string{"migrate", "up"}, 0, fmt.Sprintf("version %d (clean)", latest)},
		{[]string{"migrate", "up"}, 0, fmt.Sprintf("version %d (clean)", latest)},
		{[]string{"migrate", "down", "1"}, 0, fmt.Sprintf("version %d (clean)", before)},
		{[]string{"migrate", "up"}, 0, fmt.Sprintf("version %d (clean)", latest)},
	}
	for _, s := range steps {
		t.Run(strings.Join(s.args, " "), func(t *testing.T) {
			code, stdout, stderr := runBinary(t, env, s.args...)
			if code != s.code || !strings.Contains(stdout, s.out) {
				t.Fatalf("exit %d stdout %q stderr %s", code, stdout, stderr)
			}
		})
	}

	t.Run("up on a dirty database exits 1 with the way out", func(t *testing.T) {
		conn, err := pgx.Connect(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(context.Background(), "UPDATE schema_migrations SET dirty = true"); err != nil {
			t.Fatal(err)
		}
		conn.Close(context.Background())
		code, _, stderr := runBinary(t, env, "migrate", "up")
		last := lastLine(stderr)
		dirty, force := fmt.Sprintf("dirty at version %d", latest), fmt.Sprintf("api migrate force %d", latest)
		if code != 1 || !strings.Contains(last, dirty) || !strings.Contains(last, force) {
			t.Fatalf("exit %d, last line %q", code, last)
		}
		clean := fmt.Sprintf("version %d (clean)", latest)
		if code, stdout, _ := runBinary(t, env, "migrate", "force", fmt.Sprint(latest)); code != 0 || !strings.Contains(stdout, clean) {
			t.Fatalf("force: exit %d %q", code, stdout)
		}
	})
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestHealthcheckSubcommand(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"DATABASE_URL": migratedDB(t)})
	s.waitStatus(t, "/readyz", 200, 10e9)
	port := []string{"PORT=" + s.env["PORT"]}
	if code, _, stderr := runBinary(t, port, "healthcheck"); code != 0 {
		t.Fatalf("live server: exit %d %s", code, stderr)
	}
	if code, _, stderr := runBinary(t, port, "healthcheck", "-ready"); code != 0 {
		t.Fatalf("ready server: exit %d %s", code, stderr)
	}
	if code, _, stderr := runBinary(t, []string{fmt.Sprintf("PORT=%d", freePort(t))}, "healthcheck"); code != 1 || !strings.Contains(stderr, "healthcheck:") {
		t.Fatalf("no server: exit %d %q", code, stderr)
	}
}
