package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/services/internal/task"
)

func ptr[T any](v T) *T { return &v }

func TestStoreCreateThenGetReturnsTheSameTask(t *testing.T) {
	t.Parallel()
	s, _ := migratedStore(t)
	ctx := context.Background()
	due := task.Date{Year: 2026, Month: 12, Day: 24}
	created, err := s.Create(ctx, task.New{Title: "wrap presents", Description: "all of them", Status: task.StatusDoing, DueDate: &due})
	if err != nil {
		t.Fatal(err)
	}
	if created.Version != 1 || created.CreatedAt.IsZero() || created.ID == (task.ID{}) {
		t.Fatalf("database defaults not applied: %+v", created)
	}
	got, err := s.Get(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "wrap presents" || got.Description != "all of them" || got.Status != task.StatusDoing || got.DueDate == nil || *got.DueDate != due {
		t.Fatalf("got %+v, want the created task", got)
	}
}

func TestStoreKindsOfFailure(t *testing.T) {
	t.Parallel()
	s, _ := migratedStore(t)
	ctx := context.Background()
	tk, err := s.Create(ctx, task.New{Title: "x", Status: task.StatusTodo})
	if err != nil {
		t.Fatal(err)
	}
	missing := task.ID{1}
	tests := []struct {
		name string
		err  error
		want task.Kind
	}{
		{"get of an unknown id is NotFound", second(s.Get(ctx, missing)), task.NotFound},
		{"update of an unknown id is NotFound", second(s.Update(ctx, missing, task.Patch{Title: ptr("y")}, task.Precondition{})), task.NotFound},
		{"delete of an unknown id is NotFound", s.Delete(ctx, missing, task.Precondition{}), task.NotFound},
		{"update with a stale version fails its precondition", second(s.Update(ctx, tk.ID, task.Patch{Title: ptr("y")}, task.Precondition{Version: 7})), task.PreconditionFailed},
		{"empty patch with a stale version fails its precondition", second(s.Update(ctx, tk.ID, task.Patch{}, task.Precondition{Version: 7})), task.PreconditionFailed},
		{"delete with a stale version fails its precondition", s.Delete(ctx, tk.ID, task.Precondition{Version: 7}), task.PreconditionFailed},
		{"a title the CHECK constraint refuses is Invalid", second(s.Create(ctx, task.New{Title: strings.Repeat("a", 201), Status: task.StatusTodo})), task.Invalid},
		{"a status the CHECK constraint refuses is Invalid", second(s.Create(ctx, task.New{Title: "x", Status: "later"})), task.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := task.KindOf(tt.err); got != tt.want {
				t.Fatalf("kind %d, want %d (err: %v)", got, tt.want, tt.err)
			}
		})
	}
	if got, err := s.Get(ctx, tk.ID); err != nil || got.Title != "x" || got.Version != 1 {
		t.Fatalf("failed writes changed the task: %+v, %v", got, err)
	}
}

func second[T any](_ T, err error) error { return err }

func TestStoreUpdateChangesOnlyThePatchedFieldsAndBumpsTheVersion(t *testing.T) {
	t.Parallel()
	s, _ := migratedStore(t)
	ctx := context.Background()
	due := task.Date{Year: 2027, Month: 1, Day: 2}
	tk, _ := s.Create(ctx, task.New{Title: "a", Description: "keep me", Status: task.StatusTodo, DueDate: &due})

	up, err := s.Update(ctx, tk.ID, task.Patch{Status: ptr(task.StatusDone)}, task.Precondition{Version: 1})
	if err != nil {
		t.Fatal(err)
	}
	if up.Status != task.StatusDone || up.Title != "a" || up.Description != "keep me" || up.DueDate == nil || up.Version != 2 {
		t.Fatalf("after status patch: %+v", up)
	}
	if !up.UpdatedAt.After(tk.UpdatedAt) && !up.UpdatedAt.Equal(tk.UpdatedAt) {
		t.Fatalf("updated_at went backwards")
	}

	up, err = s.Update(ctx, tk.ID, task.Patch{ClearDue: true, Description: ptr("")}, task.Precondition{})
	if err != nil {
		t.Fatal(err)
	}
	if up.DueDate != nil || up.Description != "" || up.Version != 3 {
		t.Fatalf("after clearing: %+v", up)
	}

	same, err := s.Update(ctx, tk.ID, task.Patch{}, task.Precondition{Version: 3})
	if err != nil || same.Version != 3 {
		t.Fatalf("an empty patch must change nothing: %+v, %v", same, err)
	}
}

func TestStoreConcurrentUpdatesWithTheSameVersionOnlyOneWins(t *testing.T) {
	t.Parallel()
	s, _ := migratedStore(t)
	ctx := context.Background()
	tk, _ := s.Create(ctx, task.New{Title: "contended", Status: task.StatusTodo})
	const writers = 8
	errs := make(chan error, writers)
	for i := range writers {
		go func() {
			_, err := s.Update(ctx, tk.ID, task.Patch{Title: ptr(strings.Repeat("w", i+1))}, task.Precondition{Version: tk.Version})
			errs <- err
		}()
	}
	wins := 0
	for range writers {
		err := <-errs
		switch task.KindOf(err) {
		case task.PreconditionFailed:
		default:
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			wins++
		}
	}
	if wins != 1 {
		t.Fatalf("%d writers won, want exactly 1", wins)
	}
}

func TestStoreDeleteThenGetIsNotFound(t *testing.T) {
	t.Parallel()
	s, _ := migratedStore(t)
	ctx := context.Background()
	tk, _ := s.Create(ctx, task.New{Title: "bye", Status: task.StatusTodo})
	if err := s.Delete(ctx, tk.ID, task.Precondition{Version: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, tk.ID); task.KindOf(err) != task.NotFound {
		t.Fatalf("get after delete: %v", err)
	}
	if err := s.Delete(ctx, tk.ID, task.Precondition{}); task.KindOf(err) != task.NotFound {
		t.Fatalf("second delete: %v", err)
	}
}

func TestStoreTimesOutAsUnavailable(t *testing.T) {
	t.Parallel()
	s, _ := migratedStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	time.Sleep(time.Millisecond)
	_, err := s.Get(ctx, task.ID{})
	if task.KindOf(err) != task.Unavailable {
		t.Fatalf("an expired deadline gave %v, want Unavailable", err)
	}
}
