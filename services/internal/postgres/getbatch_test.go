package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-dev/gantry/services/internal/pgtest"
	"github.com/gantry-dev/gantry/services/internal/postgres"
	"github.com/gantry-dev/gantry/services/internal/task"
)

// storeWithPool returns a Store whose pool has at most conns connections,
// so that a few concurrent Gets are enough to make them share queries.
func storeWithPool(t *testing.T, conns int) (*postgres.Store, func() int64) {
	t.Helper()
	pool := migratedPool(t, conns)
	return mustStore(t, pool), func() int64 { return pool.Stat().AcquireCount() }
}

// migratedPool is a pool of at most conns connections to a fresh, migrated
// database.
func migratedPool(t *testing.T, conns int) *pgxpool.Pool {
	t.Helper()
	url := pgtest.DB(t)
	migrateUp(t, url)
	pool, err := postgres.NewPool(context.Background(), fmt.Sprintf("%s&pool_max_conns=%d", url, conns))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func TestConcurrentGetsShareQueriesAndEachGetsItsOwnAnswer(t *testing.T) {
	t.Parallel()
	s, acquires := storeWithPool(t, 1)
	ctx := context.Background()
	var created []task.Task
	for i := range 20 {
		tk, err := s.Create(ctx, task.New{Title: fmt.Sprintf("task %d", i), Status: task.StatusTodo})
		if err != nil {
			t.Fatal(err)
		}
		created = append(created, tk)
	}
	missing := task.ID{0xff}
	before := acquires()

	const callers = 200
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		wg.Go(func() {
			if i%10 == 9 { // some ask for a task that does not exist
				if _, err := s.Get(ctx, missing); task.KindOf(err) != task.NotFound {
					errs <- fmt.Errorf("missing task: %v", err)
				}
				return
			}
			want := created[i%len(created)] // and many ask for the same one
			got, err := s.Get(ctx, want.ID)
			if err != nil || got.ID != want.ID || got.Title != want.Title {
				errs <- fmt.Errorf("caller %d got %+v, %v; want %s", i, got, err, want.Title)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if queries := acquires() - before; queries >= callers {
		t.Errorf("%d queries for %d concurrent Gets on a one-connection pool: nothing was shared", queries, callers)
	} else {
		t.Logf("%d concurrent Gets took %d queries", callers, queries)
	}
}

func TestAGetReturnsWhenItsCallerGivesUpEvenWhileThePoolIsBusy(t *testing.T) {
	t.Parallel()
	pool := migratedPool(t, 1)
	s := mustStore(t, pool)
	tk, err := s.Create(context.Background(), task.New{Title: "x", Status: task.StatusTodo})
	if err != nil {
		t.Fatal(err)
	}
	held, err := pool.Acquire(context.Background()) // the only connection
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()

	gone, cancel := context.WithCancel(context.Background())
	cancel()
	hangsUp, hangUp := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, hangUp)
	tests := []struct {
		name   string
		ctx    context.Context
		within time.Duration
	}{
		{"a caller who had given up before asking returns at once", gone, 50 * time.Millisecond},
		{"a caller who hangs up while waiting for a connection returns then", hangsUp, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			errc := make(chan error, 1)
			go func() { _, err := s.Get(tt.ctx, tk.ID); errc <- err }()
			select {
			case err := <-errc:
				if took := time.Since(start); err == nil || took > tt.within {
					t.Fatalf("Get returned %v after %s, want an error within %s", err, took, tt.within)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Get still waits for the connection, 5 s after its caller gave up")
			}
		})
	}
}

func TestCallersWhoGiveUpDoNotFailTheOthers(t *testing.T) {
	t.Parallel()
	s, _ := storeWithPool(t, 1)
	ctx := context.Background()
	tk, _ := s.Create(ctx, task.New{Title: "x", Status: task.StatusTodo})

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			c := ctx
			if i%2 == 0 {
				c = canceled
			}
			_, err := s.Get(c, tk.ID)
			switch {
			case c == canceled && err == nil:
				// it may have been answered before it noticed: fine
			case c == ctx && err != nil:
				t.Errorf("a patient caller failed: %v", err)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Gets hang")
	}
}

func TestCallersWhoseTimeIsUpDoNotFailTheBatchTheyShare(t *testing.T) {
	t.Parallel()
	s, _ := storeWithPool(t, 1)
	tk, _ := s.Create(context.Background(), task.New{Title: "x", Status: task.StatusTodo})
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	patient, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			if i%2 == 0 {
				_, _ = s.Get(expired, tk.ID) // fails at once, as it should: it is here for the load
				return
			}
			if _, err := s.Get(patient, tk.ID); err != nil {
				t.Errorf("a caller with time left failed: %v", err)
			}
		})
	}
	wg.Wait()
}
