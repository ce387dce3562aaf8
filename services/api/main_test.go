package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/services/internal/pgtest"
	"github.com/gantry-dev/gantry/services/internal/processtest"
	"github.com/gantry-dev/gantry/services/loopback"
)

// TestMain doubles as the real program when GANTRY_API_MAIN is set, so
// tests can start the binary as a child process and signal it.
func TestMain(m *testing.M) {
	if os.Getenv("GANTRY_API_MAIN") == "1" {
		os.Args = append([]string{"api"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	pgtest.Main(m)
}

func freePort(t *testing.T) int {
	t.Helper()
	port, err := loopback.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// server is the real program serving in-process.
type server struct {
	base   string // the API's listener
	admin  string // the admin listener: metrics and probes
	env    map[string]string
	logs   *processtest.Output
	stop   context.CancelFunc // what SIGTERM does
	result chan error

	tokenOnce sync.Once
	token     string // every scope; made on first use, in env's database
}

// bearer is an API token with every scope in the server's database, which
// must be migrated; call sends it to every /v1 path.
func (s *server) bearer(t *testing.T) string {
	t.Helper()
	s.tokenOnce.Do(func() { s.token = newToken(t, s.env["DATABASE_URL"], "all") })
	if s.token == "" {
		t.Fatal("no token: the first attempt to make one failed")
	}
	return s.token
}

// newToken makes a token in the database at url through `api token create`.
func newToken(t *testing.T, url, scopes string) string {
	t.Helper()
	var out, errs bytes.Buffer
	name := fmt.Sprintf("test-%d", time.Now().UnixNano())
	args := []string{"api", "token", "create", "--name", name, "--scopes", scopes}
	if err := run(context.Background(), args, processtest.Env(map[string]string{"DATABASE_URL": url}), &out, &errs); err != nil {
		t.Fatalf("token create: %v\n%s", err, errs.String())
	}
	return strings.TrimSpace(out.String())
}

// servingEnv fills in free ports for both listeners: tests run servers in
// parallel, and the admin port's default would collide.
func servingEnv(t *testing.T, env map[string]string) (port, adminPort int) {
	t.Helper()
	port, adminPort = freePort(t), freePort(t)
	env["PORT"], env["ADMIN_PORT"] = strconv.Itoa(port), strconv.Itoa(adminPort)
	return port, adminPort
}

// startServer runs `api serve` with env (the ports are filled in) and waits
// until it answers /healthz.
func startServer(t *testing.T, env map[string]string) *server {
	t.Helper()
	port, adminPort := servingEnv(t, env)
	if env["LOG_LEVEL"] == "" {
		env["LOG_LEVEL"] = "debug"
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{base: fmt.Sprintf("http://127.0.0.1:%d", port), admin: fmt.Sprintf("http://127.0.0.1:%d", adminPort),
		env: env, logs: &processtest.Output{}, stop: cancel, result: make(chan error, 1)}
	go func() { s.result <- run(ctx, []string{"api", "serve"}, processtest.Env(env), &bytes.Buffer{}, s.logs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-s.result:
			if err != nil { // tests that expect a clean stop check it themselves
				t.Logf("serve returned: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("server did not stop")
		}
		if t.Failed() {
			t.Logf("server logs:\n%s", s.logs)
		}
	})
	s.waitStatus(t, "/healthz", 200, 10*time.Second)
	return s
}

// waitStatus polls path until it answers status.
func (s *server) waitStatus(t *testing.T, path string, status int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	last := 0
	for time.Now().Before(deadline) {
		select {
		case err := <-s.result:
			t.Fatalf("server exited early: %v\n%s", err, s.logs)
		default:
		}
		resp, err := http.Get(s.base + path)
		if err == nil {
			_ = resp.Body.Close() // the status is the answer
			if last = resp.StatusCode; last == status {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not answer %d within %s (last %d)", path, status, within, last)
}

// migratedDB returns the URL of a fresh database with the schema applied,
// through the real migrate subcommand.
func migratedDB(t *testing.T) string {
	t.Helper()
	url := pgtest.DB(t)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"api", "migrate", "up"}, processtest.Env(map[string]string{"DATABASE_URL": url}), &out, &bytes.Buffer{}); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	return url
}
