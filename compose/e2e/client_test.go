package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/services/loopback"
)

type response struct {
	status int
	header http.Header
	body   map[string]any
}

var client = &http.Client{Timeout: 10 * time.Second}

// call sends one request to base; a network error is status 0.
func call(t *testing.T, base, method, path, body string, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return response{}
	}
	defer func() { _ = resp.Body.Close() }() // read to the end: closing loses nothing
	r := response{status: resp.StatusCode, header: resp.Header}
	b, _ := io.ReadAll(resp.Body)
	// A body that is no JSON object leaves r.body nil, which the
	// assertions on it then report.
	_ = json.Unmarshal(b, &r.body)
	return r
}

func mustCall(t *testing.T, base, method, path, body string, want int, headers ...string) response {
	t.Helper()
	r := call(t, base, method, path, body, headers...)
	if r.status != want {
		t.Fatalf("%s %s: status %d, want %d (%v)", method, path, r.status, want, r.body)
	}
	return r
}

// slowPost sends a POST whose body trickles in over d: a request that is
// in flight for that long, with no test-only endpoint in the service.
func slowPost(addr string, d time.Duration) <-chan string {
	return loopback.SlowPost(addr, "/v1/tasks", "", `{"title":"written while stopping"}`, d)
}

// waitStatus polls path until it answers want.
func waitStatus(t *testing.T, base, path string, want int, within time.Duration) {
	t.Helper()
	last := 0
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if last = call(t, base, "GET", path, "").status; last == want {
			return
		}
	}
	t.Fatalf("GET %s did not answer %d within %s (last %d)", path, want, within, last)
}
