package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"sync"

	"github.com/gantry-dev/gantry/services/internal/task"
)

type listJSON struct {
	Items      []task.Document `json:"items"`
	NextCursor *string         `json:"next_cursor"`
}

// etag is the strong validator of a task: its version, which the database
// bumps on every change.
func etag(t task.Task) string {
	return `"` + strconv.FormatInt(t.Version, 10) + `"`
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// jsonType is shared by every response: net/http only reads header values.
var jsonType = []string{"application/json"}

// write sends v as JSON. It encodes into a pooled buffer first, so an
// encoding failure, a bug, is still a clean 500: no header has gone out.
// net/http adds the Content-Length itself, as the whole body arrives in one
// Write.
func (a *api) write(w http.ResponseWriter, r *http.Request, status int, v any) {
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() { buf.Reset(); bufPool.Put(buf) }()
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header()["Content-Type"] = jsonType
	w.WriteHeader(status)
	if _, err := w.Write(buf.Bytes()); err != nil {
		a.undelivered(w, r, err)
	}
}

// undelivered notes a response the client did not take: it hung up or the
// write timed out. The status already went out and the access log records
// it; a second status would be a lie on the wire, and an error log would
// page someone for a client's choice.
func (a *api) undelivered(w http.ResponseWriter, r *http.Request, err error) {
	a.log.LogAttrs(r.Context(), slog.LevelDebug, "response not delivered",
		slog.String("request_id", w.Header().Get(requestIDHeader)), slog.String("err", err.Error()))
}
