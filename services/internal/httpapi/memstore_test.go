package httpapi

import (
	"context"
	"crypto/rand"
	"slices"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/services/internal/task"
)

// memStore is an in-memory task.Store for handler tests. The real store is
// tested against PostgreSQL in package postgres and end to end in
// services/api; here it only has to behave like one.
type memStore struct {
	mu      sync.Mutex
	tasks   map[task.ID]task.Task
	writes  int
	failing error         // when set, every call returns it
	slow    time.Duration // when set, every call takes this long, or until its deadline
}

// wait behaves like the real store under a deadline: a call whose context
// ends before the database answers is Unavailable, whoever was slow.
func (m *memStore) wait(ctx context.Context) error {
	if m.slow > 0 {
		select {
		case <-time.After(m.slow):
		case <-ctx.Done():
		}
	}
	if err := ctx.Err(); err != nil {
		return task.Wrap(task.Unavailable, err, "the database is unavailable; try again shortly")
	}
	return nil
}

// enter starts a call as the real store would: it waits as the database
// might, then fails if the store is set to. The caller calls unlock.
func (m *memStore) enter(ctx context.Context) (unlock func(), err error) {
	if err := m.wait(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.failing != nil {
		m.mu.Unlock()
		return nil, m.failing
	}
	return m.mu.Unlock, nil
}

// current returns the stored task if pre holds. Called with mu held.
func (m *memStore) current(id task.ID, pre task.Precondition) (task.Task, error) {
	t, ok := m.tasks[id]
	switch {
	case !ok:
		return task.Task{}, task.Errorf(task.NotFound, "task not found")
	case pre.Version != 0 && pre.Version != t.Version:
		return task.Task{}, task.Errorf(task.PreconditionFailed, "stale")
	}
	return t, nil
}

func newMemStore() *memStore { return &memStore{tasks: map[task.ID]task.Task{}} }

func (m *memStore) Create(ctx context.Context, n task.New) (task.Task, error) {
	unlock, err := m.enter(ctx)
	if err != nil {
		return task.Task{}, err
	}
	defer unlock()
	var id task.ID
	rand.Read(id[:])
	now := time.Now().UTC()
	t := task.Task{ID: id, Title: n.Title, Description: n.Description, Status: n.Status, DueDate: n.DueDate, Version: 1, CreatedAt: now, UpdatedAt: now}
	m.tasks[id] = t
	m.writes++
	return t, nil
}

func (m *memStore) Get(ctx context.Context, id task.ID) (task.Task, error) {
	unlock, err := m.enter(ctx)
	if err != nil {
		return task.Task{}, err
	}
	defer unlock()
	t, ok := m.tasks[id]
	if !ok {
		return t, task.Errorf(task.NotFound, "task not found")
	}
	return t, nil
}

func (m *memStore) List(ctx context.Context, f task.Filter) (task.Page, error) {
	unlock, err := m.enter(ctx)
	if err != nil {
		return task.Page{}, err
	}
	defer unlock()
	var all []task.Task
	for _, t := range m.tasks {
		if f.Status == nil || t.Status == *f.Status {
			all = append(all, t)
		}
	}
	slices.SortFunc(all, func(a, b task.Task) int { return a.CreatedAt.Compare(b.CreatedAt) })
	if len(all) > f.Limit {
		all = all[:f.Limit]
	}
	return task.Page{Tasks: all}, nil
}

func (m *memStore) Update(ctx context.Context, id task.ID, p task.Patch, pre task.Precondition) (task.Task, error) {
	unlock, err := m.enter(ctx)
	if err != nil {
		return task.Task{}, err
	}
	defer unlock()
	t, err := m.current(id, pre)
	if err != nil {
		return task.Task{}, err
	}
	if p.Title != nil {
		t.Title = *p.Title
	}
	if p.Status != nil {
		t.Status = *p.Status
	}
	t.Version++
	m.tasks[id] = t
	m.writes++
	return t, nil
}

func (m *memStore) Delete(ctx context.Context, id task.ID, pre task.Precondition) error {
	unlock, err := m.enter(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := m.current(id, pre); err != nil {
		return err
	}
	delete(m.tasks, id)
	m.writes++
	return nil
}

func (m *memStore) writeCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.writes
}

func (m *memStore) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.tasks)
	m.writes = 0
}
