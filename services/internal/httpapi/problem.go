package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gantry-dev/gantry/services/internal/task"
)

// problem is an RFC 9457 problem details object. Type stays "about:blank",
// so Title is the status phrase and Detail carries the explanation.
type problem struct {
	Type      string            `json:"type"`
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail,omitempty"`
	Instance  string            `json:"instance,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
	Errors    []task.FieldError `json:"errors,omitempty"`
}

// writeProblem sends a problem with a message meant for people.
func writeProblem(w http.ResponseWriter, r *http.Request, status int, detail string, fields ...task.FieldError) {
	p := problem{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    detail,
		Instance:  r.URL.Path,
		RequestID: w.Header().Get(requestIDHeader),
		Errors:    fields,
	}
	body, _ := json.Marshal(p) // a problem always marshals
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	switch status {
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", "1")
	case http.StatusRequestTimeout:
		// RFC 9110 defines 408 as the server closing the connection; saying
		// so stops a client reusing a connection with a half-read body.
		h.Set("Connection", "close")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body) // the status has gone out; a client that hung up needs no more
}

// statusOf maps a domain error kind to the status a client should act on.
func statusOf(kind task.Kind) int {
	switch kind {
	case task.Invalid:
		return http.StatusUnprocessableEntity
	case task.NotFound:
		return http.StatusNotFound
	case task.PreconditionFailed:
		return http.StatusPreconditionFailed
	case task.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// writeError answers with err's public message and logs its cause: a client
// learns what to do, the operator learns why, and neither sees the other's.
func (a *api) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *task.Error
	if !errors.As(err, &e) {
		e = task.Wrap(task.Internal, err, "internal error")
	}
	status := statusOf(e.Kind)
	if e.Err != nil || status >= 500 {
		level := slog.LevelWarn
		if status == http.StatusInternalServerError {
			level = slog.LevelError
		}
		a.log.LogAttrs(r.Context(), level, "request failed",
			slog.String("request_id", w.Header().Get(requestIDHeader)),
			slog.Int("status", status), slog.String("err", err.Error()))
	}
	detail := e.Message
	if status == http.StatusInternalServerError {
		detail = "an unexpected error occurred; the request ID identifies it in the server logs"
	}
	writeProblem(w, r, status, detail, e.Fields...)
}
