package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gantry-dev/gantry/services/internal/task"
)

func TestStoreListWalksEveryTaskOnceInCreationOrder(t *testing.T) {
	t.Parallel()
	s, pool := migratedStore(t)
	ctx := context.Background()
	// Many tasks share one created_at (one statement, one now()), so the
	// walk must break ties by id to neither skip nor repeat any.
	if _, err := pool.Exec(ctx, `INSERT INTO tasks (title, status) SELECT 'bulk ' || g, CASE WHEN g % 3 = 0 THEN 'done' ELSE 'todo' END FROM generate_series(1, 57) g`); err != nil {
		t.Fatal(err)
	}
	for _, status := range []*task.Status{nil, ptr(task.StatusDone)} {
		name := "all"
		want := 57
		if status != nil {
			name, want = string(*status), 19
		}
		t.Run(fmt.Sprintf("listing %s in pages of 10 returns %d distinct tasks", name, want), func(t *testing.T) {
			seen := map[task.ID]bool{}
			var prev *task.Task
			f := task.Filter{Status: status, Limit: 10}
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatal("pagination does not end")
				}
				page, err := s.List(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				for i := range page.Tasks {
					tk := page.Tasks[i]
					if seen[tk.ID] {
						t.Fatalf("task %s listed twice", tk.ID)
					}
					seen[tk.ID] = true
					if status != nil && tk.Status != *status {
						t.Fatalf("status filter leaked %s", tk.Status)
					}
					if prev != nil && (tk.CreatedAt.Before(prev.CreatedAt) || tk.CreatedAt.Equal(prev.CreatedAt) && string(tk.ID[:]) < string(prev.ID[:])) {
						t.Fatalf("out of order: %s after %s", tk.ID, prev.ID)
					}
					prev = &tk
				}
				if page.Next == nil {
					break
				}
				f.After = page.Next
			}
			if len(seen) != want {
				t.Fatalf("saw %d tasks, want %d", len(seen), want)
			}
		})
	}
}

func TestStoreListOfAnEmptyTableHasNoNextPage(t *testing.T) {
	t.Parallel()
	s, _ := migratedStore(t)
	page, err := s.List(context.Background(), task.Filter{Limit: 5})
	if err != nil || len(page.Tasks) != 0 || page.Next != nil {
		t.Fatalf("got %+v, %v", page, err)
	}
}

func TestStoreListOfExactlyOnePageHasNoNextPage(t *testing.T) {
	t.Parallel()
	s, _ := migratedStore(t)
	ctx := context.Background()
	for i := range 5 {
		if _, err := s.Create(ctx, task.New{Title: fmt.Sprint(i), Status: task.StatusTodo}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := s.List(ctx, task.Filter{Limit: 5})
	if err != nil || len(page.Tasks) != 5 || page.Next != nil {
		t.Fatalf("got %d tasks, next %v, err %v", len(page.Tasks), page.Next, err)
	}
}
