package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
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

// endpoint is where requests go, and the API token they carry ("" for
// none: every /v1 route then answers 401).
type endpoint struct {
	base  string // http://host:port
	token string
}

// api is the stack's published port, with the token compose/init-secrets
// wrote and `migrate up` stored.
func (s *stack) api() endpoint { return endpoint{s.base(), s.token()} }

// token is the stack's API token, as secrets/api_token holds it now.
func (s *stack) token() string {
	s.t.Helper()
	return strings.TrimSpace(readFile(s.t, filepath.Join(s.dir, "secrets", "api_token")))
}

// call sends one request; a network error is status 0.
func call(t *testing.T, to endpoint, method, path, body string, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, to.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if to.token != "" {
		req.Header.Set("Authorization", "Bearer "+to.token)
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

func mustCall(t *testing.T, to endpoint, method, path, body string, want int, headers ...string) response {
	t.Helper()
	r := call(t, to, method, path, body, headers...)
	if r.status != want {
		t.Fatalf("%s %s: status %d, want %d (%v)", method, path, r.status, want, r.body)
	}
	return r
}

// slowPost sends a POST whose body trickles in over d: a request that is
// in flight for that long, with no test-only endpoint in the service.
func slowPost(addr, token string, d time.Duration) <-chan string {
	return loopback.SlowPost(addr, "/v1/tasks", token, `{"title":"written while stopping"}`, d)
}

// waitStatus polls path until it answers want.
func waitStatus(t *testing.T, to endpoint, path string, want int, within time.Duration) {
	t.Helper()
	last := 0
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if last = call(t, to, "GET", path, "").status; last == want {
			return
		}
	}
	t.Fatalf("GET %s did not answer %d within %s (last %d)", path, want, within, last)
}
