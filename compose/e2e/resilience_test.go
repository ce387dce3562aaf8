package e2e

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// 2. An API started while Postgres is down waits (start-up retry) and turns
// healthy once Postgres is up, in the same container.
func TestAnAPIStartedBeforePostgresBecomesHealthyWithoutARestart(t *testing.T) {
	s := newStack(t, Password)
	s.up()
	s.must("stop", "api")
	s.must("stop", "db")
	s.must("up", "--detach", "--no-deps", "api")
	before := s.one("api")

	time.Sleep(5 * time.Second) // several failed connection attempts
	if r := call(t, s.api(), "GET", "/readyz", ""); r.status != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with no database: %d", r.status)
	}
	s.must("start", "db")
	after := s.waitHealth("api", "healthy", 90*time.Second)
	if after.ID != before.ID || after.State.StartedAt != before.State.StartedAt || after.RestartCount != 0 {
		t.Fatalf("the API container was restarted: before %+v after %+v", before.State, after.State)
	}
	logs := s.must("logs", "api")
	if !strings.Contains(logs, "connect to database failed, retrying") || !strings.Contains(logs, "database connected") {
		t.Fatalf("the retry is not in the logs:\n%s", logs)
	}
	mustCall(t, s.api(), "POST", "/v1/tasks", `{"title":"late database"}`, 201)
}

// 3. Postgres goes away under traffic: requests answer 503 (never 500, never
// a dropped connection), /readyz says 503, and once Postgres is back the
// same API container serves again.
func TestPostgresRestartedUnderTrafficGives503sThenRecovers(t *testing.T) {
	s := newStack(t, Password)
	s.up()
	api := s.api()
	loc := mustCall(t, api, "POST", "/v1/tasks", `{"title":"under traffic"}`, 201).header.Get("Location")
	before := s.one("api")

	var mu sync.Mutex
	statuses := map[int]int{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				r := call(t, api, "GET", loc, "")
				mu.Lock()
				statuses[r.status]++
				mu.Unlock()
				time.Sleep(10 * time.Millisecond)
			}
		})
	}

	s.must("stop", "db")
	sawDown := false
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if call(t, s.api(), "GET", "/readyz", "").status == http.StatusServiceUnavailable {
			sawDown = true
			break
		}
	}
	s.must("start", "db")
	// Connections the pool held died with the server; each fails one
	// request (a 503) before the pool replaces it. Then every request works.
	waitStatus(t, s.api(), loc, 200, 60*time.Second)
	close(stop)
	wg.Wait()

	if !sawDown {
		t.Error("/readyz never reported 503 while Postgres was down")
	}
	for status, n := range statuses {
		if status != 200 && status != 503 {
			t.Errorf("%d requests got status %d (0 is a network error)", n, status)
		}
	}
	if statuses[503] == 0 {
		t.Errorf("no request saw the outage: %v", statuses)
	}
	if after := s.one("api"); after.ID != before.ID || after.RestartCount != 0 || after.State.StartedAt != before.State.StartedAt {
		t.Fatal("the API container was restarted")
	}
	t.Logf("statuses during the outage: %v", statuses)
}

// 4. `docker compose stop api` mid-request: the request completes, and the
// container exits 0 well inside its 30 s grace period.
func TestStoppingTheAPIDrainsAnInFlightRequestAndExitsZero(t *testing.T) {
	s := newStack(t, Password)
	s.up()
	status := slowPost("127.0.0.1:"+s.port, s.token(), 3*time.Second)
	time.Sleep(500 * time.Millisecond)

	start := time.Now()
	s.must("stop", "api")
	took := time.Since(start)
	if got := <-status; got != "201 Created" {
		t.Fatalf("in-flight request: %s", got)
	}
	api := s.one("api")
	if api.State.Status != "exited" || api.State.ExitCode != 0 {
		t.Fatalf("api: %+v", api.State)
	}
	if took > 15*time.Second {
		t.Fatalf("stop took %s; the grace period is 30s", took)
	}
	t.Logf("docker compose stop api took %s", took.Round(time.Millisecond))
}
