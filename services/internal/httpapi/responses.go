package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/services/internal/task"
)

// taskJSON is the wire form of a task. Dates are YYYY-MM-DD, times RFC 3339.
type taskJSON struct {
	ID          string      `json:"id"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	Status      task.Status `json:"status"`
	DueDate     *string     `json:"due_date"`
	Version     int64       `json:"version"`
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
}

func toJSON(t task.Task) taskJSON {
	j := taskJSON{
		ID:          t.ID.String(),
		Title:       t.Title,
		Description: t.Description,
		Status:      t.Status,
		Version:     t.Version,
		CreatedAt:   t.CreatedAt.UTC(),
		UpdatedAt:   t.UpdatedAt.UTC(),
	}
	if t.DueDate != nil {
		d := t.DueDate.String()
		j.DueDate = &d
	}
	return j
}

type listJSON struct {
	Items      []taskJSON `json:"items"`
	NextCursor *string    `json:"next_cursor"`
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
