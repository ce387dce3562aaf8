// Package task holds Gantry's domain: what a task is, the rules its fields
// obey, and the Store that keeps tasks. It imports nothing from the outside
// world, so the postgres and httpapi packages depend on it and never on each
// other.
package task

import (
	"context"
	"time"

	"github.com/gantry-dev/gantry/services/internal/keyset"
)

// Status is where a task stands in its life.
type Status string

// The only statuses a task can have; the database holds the same list in a
// CHECK constraint.
const (
	StatusTodo  Status = "todo"
	StatusDoing Status = "doing"
	StatusDone  Status = "done"
)

// Statuses lists every valid Status, in the order people read them.
var Statuses = []Status{StatusTodo, StatusDoing, StatusDone}

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusTodo, StatusDoing, StatusDone:
		return true
	}
	return false
}

// Task is a unit of work. Version grows by one on every change and is what
// ETags are made of, so concurrent writers can detect each other.
type Task struct {
	ID          ID
	Title       string
	Description string
	Status      Status
	DueDate     *Date
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// New is a validated request to create a task.
type New struct {
	Title       string
	Description string
	Status      Status
	DueDate     *Date
}

// Patch is a validated partial update: nil fields are left alone. ClearDue
// removes the due date, since a nil DueDate already means "unchanged".
type Patch struct {
	Title       *string
	Description *string
	Status      *Status
	DueDate     *Date
	ClearDue    bool
}

// Empty reports whether the patch changes nothing.
func (p Patch) Empty() bool {
	return p.Title == nil && p.Description == nil && p.Status == nil && p.DueDate == nil && !p.ClearDue
}

// Filter selects one page of tasks in (CreatedAt, ID) order.
type Filter struct {
	Status *Status
	After  *Cursor
	Limit  int
}

// Page is one page of a listing. Next is nil on the last page.
type Page struct {
	Tasks []Task
	Next  *Cursor
}

// Precondition makes a write conditional on the version a client last saw;
// the zero value means unconditional.
type Precondition struct {
	Version int64
}

// Store keeps tasks. Implementations return *Error values whose Kind says
// what went wrong (NotFound, Conflict, Unavailable...).
type Store interface {
	Create(ctx context.Context, n New) (Task, error)
	Get(ctx context.Context, id ID) (Task, error)
	List(ctx context.Context, f Filter) (Page, error)
	Update(ctx context.Context, id ID, p Patch, pre Precondition) (Task, error)
	Delete(ctx context.Context, id ID, pre Precondition) error
}

// Cursor is a position in the (CreatedAt, ID) order of a listing of tasks.
type Cursor = keyset.Cursor
