package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

const requestIDHeader = "X-Request-ID"

// requestIDKey is the header's canonical form, for setting it directly in
// the map without canonicalising on every request.
const requestIDKey = "X-Request-Id"

// exchange is what the outer middleware learns about one request as it
// passes through: the inner router fills in the route template, the
// response writer the status and size.
type exchange struct {
	http.ResponseWriter
	route   string
	status  int
	tokenID int64 // the token that authenticated the request, if one did
}

func (e *exchange) WriteHeader(status int) {
	if e.status == 0 {
		e.status = status
	}
	e.ResponseWriter.WriteHeader(status)
}

func (e *exchange) Write(b []byte) (int, error) {
	if e.status == 0 {
		e.status = http.StatusOK
	}
	return e.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (e *exchange) Unwrap() http.ResponseWriter { return e.ResponseWriter }

// observe wraps the whole handler: it assigns the request ID, limits the
// body, sets the deadline, recovers panics, and afterwards writes one access
// log line and the metrics. Being outermost, it also sees 404s and 405s.
func (a *api) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ex := &exchange{ResponseWriter: w, route: unmatchedRoute}
		id := requestID(r.Header.Get(requestIDHeader), a.ids)
		w.Header()[requestIDKey] = []string{id}
		if r.Body != http.NoBody { // GETs have none: nothing to limit
			r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		}
		ctx, cancel := context.WithTimeout(r.Context(), a.requestTimeout)
		defer cancel()
		defer func() {
			if p := recover(); p != nil {
				//nolint:errorlint // recover returns what was panicked, unwrapped; net/http compares it so too
				if p == http.ErrAbortHandler {
					panic(p)
				}
				a.log.Error("handler panicked", "request_id", id, "panic", p)
				if ex.status == 0 {
					writeProblem(ex, r, http.StatusInternalServerError, "an unexpected error occurred; the request ID identifies it in the server logs")
				}
			}
			a.record(r, ex, id, time.Since(start))
		}()
		next.ServeHTTP(ex, r.WithContext(ctx))
	})
}

// unmatchedRoute labels requests no route matched, so scanners probing random
// paths cannot blow up the metrics' cardinality.
const unmatchedRoute = "unmatched"

// nameRoute runs inside the router, where the matched route is known; the
// router hands handlers the writer observe gave it, the exchange itself.
func nameRoute(name string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ex, ok := w.(*exchange); ok {
			ex.route = name
		}
		h(w, r)
	}
}

func (a *api) record(r *http.Request, ex *exchange, id string, d time.Duration) {
	if ex.status == 0 {
		ex.status = http.StatusOK
	}
	a.metrics.observe(r.Method, ex.route, ex.status, d)
	level := slog.LevelInfo
	if ex.route == routeHealthz || ex.route == routeReadyz {
		level = slog.LevelDebug // probes every few seconds would drown the log
	}
	if !a.log.Enabled(r.Context(), level) {
		return
	}
	// Literal attributes: slog keeps five in the record without
	// allocating (the sixth costs one small copy), and this line is
	// written for every request. The token's ID, never the token, ties the
	// request to its caller.
	method, route, status, duration, rid := slog.String("method", r.Method), slog.String("route", ex.route),
		slog.Int("status", ex.status), slog.Duration("duration", d), slog.String("request_id", id)
	if ex.tokenID == 0 {
		a.log.LogAttrs(r.Context(), level, "request", method, route, status, duration, rid)
		return
	}
	a.log.LogAttrs(r.Context(), level, "request", method, route, status, duration, rid, slog.Int64("token_id", ex.tokenID))
}

// idSource makes request IDs: a random per-process prefix and a counter,
// unique across replicas without a random read per request.
type idSource struct {
	prefix string
	n      atomic.Uint64
}

func newIDSource() *idSource {
	var b [6]byte
	rand.Read(b[:])
	return &idSource{prefix: hex.EncodeToString(b[:]) + "-"}
}

func (s *idSource) next() string {
	return s.prefix + strconv.FormatUint(s.n.Add(1), 36)
}

// requestID keeps a caller's ID when it is safe to echo into headers and
// logs (short, visible ASCII), and makes a new one otherwise.
func requestID(given string, ids *idSource) string {
	if given == "" || len(given) > 128 {
		return ids.next()
	}
	for i := range len(given) {
		if c := given[i]; c <= ' ' || c > '~' {
			return ids.next()
		}
	}
	return given
}
