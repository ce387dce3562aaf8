package delivery

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The notifier's workers start a fetched batch of deliveries at once; a
// transport that kept fewer idle connections than workers closed the rest
// after each batch and dialled them again for the next.
func TestEachWorkerKeepsItsConnectionForTheNextAttempt(t *testing.T) {
	t.Parallel()
	const workers = 16
	var dialled atomic.Int32
	var release chan struct{}
	arrived := make(chan struct{}, workers)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		arrived <- struct{}{}
		select { // every worker holds a connection at once
		case <-release:
		case <-time.After(5 * time.Second):
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dialled.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	s := NewSender(ClientOptions{Policy: loopbackAllowed, Timeout: 10 * time.Second, Conns: workers})
	hook := testHook(srv.URL)

	batch := func() {
		release = make(chan struct{})
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				if res := s.Send(context.Background(), hook, testEvent(), time.Now()); res.Err != nil {
					t.Error(res.Err)
				}
			})
		}
		for range workers {
			<-arrived
		}
		close(release)
		wg.Wait()
	}
	batch()
	first := dialled.Load()
	batch()
	// A connection is handed back just after its answer is read, so the
	// second batch may rarely dial one or two; with the transport's
	// default of 2 idle connections a host it dialled 14.
	if first != workers || dialled.Load()-first > 3 {
		t.Fatalf("the first batch dialled %d connections, the second %d more; want %d, then (nearly) none", first, dialled.Load()-first, workers)
	}
}
