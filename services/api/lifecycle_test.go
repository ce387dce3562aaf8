package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/services/internal/pgtest"
	"github.com/gantry-dev/gantry/services/internal/processtest"
	"github.com/gantry-dev/gantry/services/loopback"
)

func TestAServerStartedBeforeItsDatabaseBecomesReadyOnceTheDatabaseIsUp(t *testing.T) {
	t.Parallel()
	c := pgtest.InitCluster(t)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	url := pgtest.CreateDB(t, c.URL("postgres"))
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}

	s := startServer(t, map[string]string{"DATABASE_URL": url, "DB_CONNECT_TIMEOUT": "60s"})
	s.waitStatus(t, "/readyz", 503, 5*time.Second)
	time.Sleep(1500 * time.Millisecond) // several refused attempts
	if r := s.call(t, "GET", "/readyz", ""); r.status != 503 {
		t.Fatalf("ready without a database: %d", r.status)
	}

	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	s.waitStatus(t, "/readyz", 200, 15*time.Second)
	if !strings.Contains(s.logs.String(), "connect to database failed, retrying") {
		t.Error("the retries were not logged")
	}
}

func TestADatabaseOutageGives503AndTheServerRecoversWithoutARestart(t *testing.T) {
	t.Parallel()
	c := pgtest.NewCluster(t)
	url := pgtest.CreateDB(t, c.URL("postgres"))
	var out bytes.Buffer
	if err := run(context.Background(), []string{"api", "migrate", "up"}, processtest.Env(map[string]string{"DATABASE_URL": url}), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, map[string]string{"DATABASE_URL": url})
	s.waitStatus(t, "/readyz", 200, 10*time.Second)
	loc := s.call(t, "POST", "/v1/tasks", `{"title":"x"}`).header.Get("Location")

	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, req := range []struct{ method, path, body string }{
		{"GET", loc, ""}, {"GET", "/v1/tasks", ""}, {"POST", "/v1/tasks", `{"title":"y"}`}, {"DELETE", loc, ""},
	} {
		if r := s.call(t, req.method, req.path, req.body); r.status != 503 {
			t.Errorf("%s %s during the outage: %d %s", req.method, req.path, r.status, r.body)
		}
	}
	s.waitStatus(t, "/readyz", 503, 5*time.Second)
	if r := s.call(t, "GET", "/healthz", ""); r.status != 200 {
		t.Errorf("liveness failed during a database outage: %d", r.status)
	}

	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	s.waitStatus(t, "/readyz", 200, 15*time.Second)
	if r := s.call(t, "GET", loc, ""); r.status != 200 {
		t.Fatalf("after recovery: %d %s", r.status, r.body)
	}
}

// slowPost starts a POST whose body trickles in over d: a real in-flight
// request without a test-only endpoint. It delivers the status.
func slowPost(t *testing.T, s *server, d time.Duration) <-chan string {
	t.Helper()
	return loopback.SlowPost(strings.TrimPrefix(s.base, "http://"), "/v1/tasks", s.bearer(t), `{"title":"written during shutdown"}`, d)
}

func TestShutdownLetsAnInFlightRequestFinishAndReturnsNil(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"DATABASE_URL": migratedDB(t), "SHUTDOWN_TIMEOUT": "10s"})
	s.waitStatus(t, "/readyz", 200, 10*time.Second)
	status := slowPost(t, s, 2*time.Second)
	time.Sleep(300 * time.Millisecond) // the request is now in flight

	s.stop() // what SIGTERM does to run's context
	refused := false
	for deadline := time.Now().Add(2 * time.Second); !refused && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			_ = resp.Body.Close() // accepted is the finding; the body does not matter
		}
		refused = err != nil
	}
	if !refused {
		t.Error("new connections are still accepted after shutdown began")
	}
	if got := <-status; got != "201 Created" {
		t.Fatalf("in-flight request: %s", got)
	}
	select {
	case err := <-s.result:
		if err != nil {
			t.Fatalf("run returned %v, want nil", err)
		}
		s.result <- nil // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return")
	}
}

func TestDuringTheShutdownDelayReadinessIsFalseWhileRequestsAreStillServed(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"DATABASE_URL": migratedDB(t), "SHUTDOWN_DELAY": "2s", "SHUTDOWN_TIMEOUT": "5s"})
	s.waitStatus(t, "/readyz", 200, 10*time.Second)
	created := s.call(t, "POST", "/v1/tasks", `{"title":"before the signal"}`)
	if created.status != 201 {
		t.Fatalf("create: %d", created.status)
	}
	stopped := time.Now()
	s.stop() // what SIGTERM does to run's context

	s.waitStatus(t, "/readyz", 503, time.Second)
	t.Run("liveness stays true", func(t *testing.T) {
		if got := s.call(t, "GET", "/healthz", "").status; got != 200 {
			t.Errorf("/healthz: %d", got)
		}
	})
	t.Run("the API still answers", func(t *testing.T) {
		if got := s.call(t, "GET", created.header.Get("Location"), "").status; got != 200 {
			t.Errorf("GET %s: %d", created.header.Get("Location"), got)
		}
	})
	select {
	case err := <-s.result:
		if err != nil {
			t.Fatalf("run returned %v, want nil", err)
		}
		if waited := time.Since(stopped); waited < 2*time.Second {
			t.Errorf("run returned %s after the signal, before SHUTDOWN_DELAY (2s) ended", waited)
		}
		s.result <- nil // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return")
	}
}

// The real binary, signalled for real: SIGTERM mid-request, exit status 0.
func TestSIGTERMDrainsAndExitsZero(t *testing.T) {
	t.Parallel()
	url := migratedDB(t)
	port := freePort(t)
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(os.Environ(), "GANTRY_API_MAIN=1", "DATABASE_URL="+url, fmt.Sprintf("PORT=%d", port),
		fmt.Sprintf("ADMIN_PORT=%d", freePort(t)), "SHUTDOWN_TIMEOUT=10s")
	var logs processtest.Output
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }() // fails once the server has exited, as it should have
	s := &server{base: fmt.Sprintf("http://127.0.0.1:%d", port), env: map[string]string{"DATABASE_URL": url}, logs: &logs, result: make(chan error, 1)}
	s.waitStatus(t, "/readyz", 200, 15*time.Second)

	status := slowPost(t, s, 2*time.Second)
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if got := <-status; got != "201 Created" {
		t.Fatalf("in-flight request: %s\n%s", got, logs.String())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, logs.String())
	}
	if d := time.Since(start); d > 8*time.Second { // 2 s of trickle, the rest is slack for a busy machine
		t.Errorf("took %s to exit", d)
	}
	for _, want := range []string{"shutdown requested", `"msg":"stopped"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q", want)
		}
	}
}
