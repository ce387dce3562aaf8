package webhook

import (
	"crypto/rand"
	"fmt"
	"slices"
	"time"

	"github.com/gantry-dev/gantry/services/internal/task"
)

// EventType names what happened to a task.
type EventType string

// The events there are.
const (
	TaskCreated EventType = "task.created"
	TaskUpdated EventType = "task.updated"
	TaskDeleted EventType = "task.deleted"
)

// EventTypes is every event type, in the order people read them.
var EventTypes = []EventType{TaskCreated, TaskUpdated, TaskDeleted}

// Valid reports whether t is one of EventTypes.
func (t EventType) Valid() bool { return slices.Contains(EventTypes, t) }

// Event is one change to one task, as a receiver gets it. A redelivery
// carries the same ID. Task.Version orders a task's events: a deletion
// carries the last version plus one, so a receiver keeps, per task ID, the
// event of the highest version and drops the rest.
type Event struct {
	ID         string        `json:"id"`
	Type       EventType     `json:"type"`
	OccurredAt time.Time     `json:"occurred_at"`
	Task       task.Document `json:"task"`
}

// NewEvent is an event of type typ about t, now.
func NewEvent(typ EventType, t task.Task, now time.Time) Event {
	return Event{ID: newEventID(), Type: typ, OccurredAt: now.UTC(), Task: task.DocumentOf(t)}
}

// newEventID is "evt_" and 128 random bits in hex: unique without a
// database round trip, and recognisable in a receiver's logs.
func newEventID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it panics instead)
	return fmt.Sprintf("evt_%x", b)
}
