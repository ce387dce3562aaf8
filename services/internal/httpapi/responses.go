package httpapi

import (
	"bytes"
	"encoding/json"
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

// writeJSON encodes v into a pooled buffer first, so an encoding failure
// can still become a clean 500. net/http adds the Content-Length itself, as
// the whole body arrives in one Write.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() { buf.Reset(); bufPool.Put(buf) }()
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		return err
	}
	w.Header()["Content-Type"] = jsonType
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}
