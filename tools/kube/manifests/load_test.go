package manifests

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// load sends requests to the API without pause until stopped, as clients
// would while it rolls, scales or loses a pod: GETs over kept-alive
// connections (Go's client retries an idempotent request on a connection
// the server closed while idle, as HTTP allows) and POSTs each on a new
// connection (never retried: a POST lost is lost). Any answer but the
// expected status is a lost request.
type load struct {
	ok, lost atomic.Int64
	mu       sync.Mutex
	first    []string // the first few losses
	stop     context.CancelFunc
	done     sync.WaitGroup
}

func startLoad(base, token string) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{stop: cancel}
	kept := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	fresh := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for range 2 {
		l.done.Go(func() { l.run(ctx, kept, http.MethodGet, base+"/v1/tasks?limit=1", token, nil, http.StatusOK) })
	}
	l.done.Go(func() {
		l.run(ctx, fresh, http.MethodPost, base+"/v1/tasks", token, []byte(`{"title":"load"}`), http.StatusCreated)
	})
	return l
}

func (l *load) run(ctx context.Context, c *http.Client, method, url, token string, body []byte, want int) {
	for ctx.Err() == nil {
		status, err := call(ctx, c, method, url, token, body)
		switch {
		case ctx.Err() != nil:
			return // stopped mid-request: not the API's doing
		case err == nil && status == want:
			l.ok.Add(1)
		default:
			l.lost.Add(1)
			l.mu.Lock()
			if len(l.first) < 5 {
				l.first = append(l.first, fmt.Sprintf("%s %s at %s: status %d, %v", method, url, time.Now().Format("15:04:05.000"), status, err))
			}
			l.mu.Unlock()
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// end stops the load and says what was lost.
func (l *load) end() error {
	l.stop()
	l.done.Wait()
	if n := l.lost.Load(); n > 0 {
		return fmt.Errorf("%d of %d requests lost; the first: %v", n, n+l.ok.Load(), l.first)
	}
	if l.ok.Load() == 0 {
		return fmt.Errorf("no request was answered")
	}
	return nil
}

func call(ctx context.Context, c *http.Client, method, url, token string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }() // read to the end below
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}
