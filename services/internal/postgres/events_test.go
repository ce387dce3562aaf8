package postgres_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-dev/gantry/services/internal/task"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// eventsIn lists the events queued in river_job, oldest first.
func eventsIn(t *testing.T, pool *pgxpool.Pool) []webhook.Event {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT args FROM river_job WHERE kind = 'task_event' AND queue = $1 ORDER BY id`, webhook.QueueEvents)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []webhook.Event
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var e webhook.Event
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEveryCommittedChangeQueuesItsEventAndNothingElseDoes(t *testing.T) {
	t.Parallel()
	s, pool := migratedStore(t)
	ctx := context.Background()
	created, err := s.Create(ctx, task.New{Title: "watched", Status: task.StatusTodo})
	if err != nil {
		t.Fatal(err)
	}
	updated, err := s.Update(ctx, created.ID, task.Patch{Title: ptr("renamed")}, task.Precondition{})
	if err != nil {
		t.Fatal(err)
	}

	// What changes nothing, or fails, queues nothing.
	if _, err := s.Update(ctx, created.ID, task.Patch{}, task.Precondition{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, created.ID, task.Patch{Title: ptr("lost")}, task.Precondition{Version: 1}); task.KindOf(err) != task.PreconditionFailed {
		t.Fatalf("a stale update: %v", err)
	}
	if _, err := s.Create(ctx, task.New{Title: strings.Repeat("x", 201), Status: task.StatusTodo}); task.KindOf(err) != task.Invalid {
		t.Fatalf("a create the database refuses: %v", err)
	}
	if err := s.Delete(ctx, task.ID{7}, task.Precondition{}); task.KindOf(err) != task.NotFound {
		t.Fatalf("a delete of nothing: %v", err)
	}
	if err := s.Delete(ctx, created.ID, task.Precondition{}); err != nil {
		t.Fatal(err)
	}

	events := eventsIn(t, pool)
	want := []struct {
		typ     webhook.EventType
		title   string
		version int64
	}{
		{webhook.TaskCreated, "watched", 1},
		{webhook.TaskUpdated, "renamed", 2},
		{webhook.TaskDeleted, "renamed", 3}, // the version after its last: a deletion orders after every update
	}
	if len(events) != len(want) {
		t.Fatalf("%d events queued, want %d: %+v", len(events), len(want), events)
	}
	ids := map[string]bool{}
	for i, w := range want {
		e := events[i]
		if e.Type != w.typ || e.Task.Title != w.title || e.Task.Version != w.version || e.Task.ID != created.ID.String() {
			t.Errorf("event %d = %s %q v%d of %s, want %s %q v%d", i, e.Type, e.Task.Title, e.Task.Version, e.Task.ID, w.typ, w.title, w.version)
		}
		if !strings.HasPrefix(e.ID, "evt_") || ids[e.ID] || e.OccurredAt.IsZero() {
			t.Errorf("event %d has ID %q at %s: want a fresh evt_ ID and a time", i, e.ID, e.OccurredAt)
		}
		ids[e.ID] = true
	}
	if updated.Version != 2 {
		t.Errorf("the update answered version %d", updated.Version)
	}
}

// A transaction that rolls back after the change leaves neither the change
// nor its event: the event is written in the change's own transaction.
func TestAChangeThatRollsBackLeavesNoEvent(t *testing.T) {
	t.Parallel()
	s, pool := migratedStore(t)
	ctx := context.Background()
	created, err := s.Create(ctx, task.New{Title: "x", Status: task.StatusTodo})
	if err != nil {
		t.Fatal(err)
	}
	// A deferred trigger fails every update at commit: the update and its
	// event's insert both ran, then the commit fails and takes both back.
	if _, err := pool.Exec(ctx, `
CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$;
CREATE CONSTRAINT TRIGGER refuse AFTER UPDATE ON tasks DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION refuse();`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, created.ID, task.Patch{Title: ptr("never")}, task.Precondition{}); err == nil || !strings.Contains(err.Error(), "refused at commit") {
		t.Fatalf("the update: %v, want the commit refused", err)
	}
	if got, _ := s.Get(ctx, created.ID); got.Title != "x" {
		t.Fatalf("the task is %q after the rolled-back update", got.Title)
	}
	if events := eventsIn(t, pool); len(events) != 1 || events[0].Type != webhook.TaskCreated {
		t.Fatalf("events after a rolled-back update: %+v, want only the create", events)
	}
}
