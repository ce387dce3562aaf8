package task

import "time"

// Document is the wire form of a task: what the API answers and what a
// webhook event carries, so a receiver sees one shape. Dates are
// YYYY-MM-DD, times RFC 3339 in UTC.
type Document struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Status      Status    `json:"status"`
	DueDate     *string   `json:"due_date"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// DocumentOf is t's wire form.
func DocumentOf(t Task) Document {
	d := Document{
		ID:          t.ID.String(),
		Title:       t.Title,
		Description: t.Description,
		Status:      t.Status,
		Version:     t.Version,
		CreatedAt:   t.CreatedAt.UTC(),
		UpdatedAt:   t.UpdatedAt.UTC(),
	}
	if t.DueDate != nil {
		s := t.DueDate.String()
		d.DueDate = &s
	}
	return d
}
