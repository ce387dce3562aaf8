// Command receiver is the webhook receiver of the compose end-to-end tests.
// They run it in a container of its own on the stack's egress network, where
// the notifier reaches it as it would any receiver, and read what it got
// through a port published on the host's loopback.
//
// It keeps every request to /hooks/{name} (the headers the signature needs,
// the body, when it arrived, from where, and what it answered) and leaves the
// checking of signatures to the tests, which hold the secrets. What it
// answers is in the webhook's URL, so the tests set it when they create the
// webhook and need no other channel:
//
//	/hooks/a                          200
//	/hooks/a?fail_until=UNIX_MS       500 until then, 200 after
//	/hooks/a?hold=30s                 the first request of each webhook-id is
//	                                  held that long, or until its client goes
//	                                  away; later ones get 200 at once
//
// It listens on port 8000; GET /records lists what it got, in arrival
// order.
package main

import (
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// record is one request to /hooks/{name}. Status stays 0 while a held
// request waits, and is 0 for good if its client went away first.
type record struct {
	Hook      string    `json:"hook"`
	ID        string    `json:"id"` // webhook-id
	Timestamp string    `json:"timestamp"`
	Signature string    `json:"signature"`
	Body      string    `json:"body"`
	From      string    `json:"from"` // the client's IP: which notifier sent it
	Arrived   time.Time `json:"arrived"`
	Status    int       `json:"status"`
	Answered  time.Time `json:"answered"`
}

type receiver struct {
	mu      sync.Mutex
	records []record
	held    map[string]bool // webhook-ids whose first request was held
}

func main() {
	rc := &receiver{held: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hooks/{name}", rc.hook)
	mux.HandleFunc("GET /records", rc.list)
	srv := &http.Server{Addr: ":8000", Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

func (rc *receiver) hook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	from, _, _ := net.SplitHostPort(r.RemoteAddr)
	rec := record{
		Hook: r.PathValue("name"), ID: r.Header.Get("webhook-id"), Timestamp: r.Header.Get("webhook-timestamp"),
		Signature: r.Header.Get("webhook-signature"), Body: string(body), From: from, Arrived: time.Now(),
	}
	rc.mu.Lock()
	n := len(rc.records)
	rc.records = append(rc.records, rec)
	hold := r.URL.Query().Get("hold") != "" && !rc.held[rec.ID]
	rc.held[rec.ID] = rc.held[rec.ID] || hold
	rc.mu.Unlock()

	status, gone := answer(r, hold)
	if gone {
		return // nothing to answer; its Status stays 0
	}
	rc.mu.Lock()
	rc.records[n].Status, rc.records[n].Answered = status, time.Now()
	rc.mu.Unlock()
	w.WriteHeader(status)
}

// answer decides the status from the URL's query, holding the request first
// if asked; gone means the client went away while it was held.
func answer(r *http.Request, hold bool) (status int, gone bool) {
	q := r.URL.Query()
	if hold {
		d, err := time.ParseDuration(q.Get("hold"))
		if err != nil {
			return http.StatusBadRequest, false
		}
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return 0, true
		}
	}
	if v := q.Get("fail_until"); v != "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil:
			return http.StatusBadRequest, false
		case time.Now().Before(time.UnixMilli(ms)):
			return http.StatusInternalServerError, false
		}
	}
	return http.StatusOK, false
}

func (rc *receiver) list(w http.ResponseWriter, _ *http.Request) {
	rc.mu.Lock()
	out, err := json.Marshal(rc.records)
	rc.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out) // a test that went away reads nothing anyway
}
