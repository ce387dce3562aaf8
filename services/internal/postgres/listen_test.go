package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/services/internal/auth"
	"github.com/gantry-dev/gantry/services/internal/pgtest"
	"github.com/gantry-dev/gantry/services/internal/postgres"
)

// feed records what ListenTokenChanges says, for polling.
type feed struct {
	mu     sync.Mutex
	live   bool
	lost   int
	forgot []int64
}

func (f *feed) Forget(id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forgot = append(f.forgot, id)
}

func (f *feed) SetLive(live bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.live && !live {
		f.lost++
	}
	f.live = live
}

// await polls cond for up to within, failing with what.
func await(t *testing.T, within time.Duration, what string, cond func(*feed) bool, f *feed) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		f.mu.Lock()
		ok := cond(f)
		f.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTokenChangesAreHeardAndTheFeedSurvivesARestart(t *testing.T) {
	t.Parallel()
	c := pgtest.NewCluster(t)
	url := pgtest.CreateDB(t, c.URL("postgres"))
	migrateUp(t, url)
	pool, err := postgres.NewPool(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s := postgres.NewTokenStore(pool)
	ctx, cancel := context.WithCancel(context.Background())
	f := &feed{}
	done := make(chan struct{})
	go func() { postgres.ListenTokenChanges(ctx, quiet, url, f); close(done) }()
	defer func() { cancel(); <-done }()

	await(t, 10*time.Second, "the feed is live", func(f *feed) bool { return f.live }, f)
	tok, _, err := s.Create(ctx, "heard", mustScopes(t, "tasks:read"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Revoke(ctx, "heard"); err != nil {
		t.Fatal(err)
	}
	await(t, time.Second, "a revocation is heard within 1 s", func(f *feed) bool { return len(f.forgot) == 1 && f.forgot[0] == tok.ID }, f)
	if err := s.Touch(ctx, tok.ID, time.Now()); err != nil {
		t.Fatal(err)
	}

	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	await(t, 10*time.Second, "losing the database takes the feed down", func(f *feed) bool { return !f.live && f.lost == 1 }, f)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	await(t, 10*time.Second, "the feed is back after the restart", func(f *feed) bool { return f.live }, f)
	// The pool's first query after a restart may meet a connection the
	// server closed.
	var other auth.Token
	for attempt := 0; ; attempt++ {
		if other, _, err = s.Create(ctx, "after", mustScopes(t, "tasks:read"), nil); err == nil {
			break
		} else if attempt == 5 {
			t.Fatal(err)
		}
	}
	if _, err := s.Revoke(ctx, "after"); err != nil {
		t.Fatal(err)
	}
	await(t, time.Second, "a revocation after the restart is heard within 1 s", func(f *feed) bool {
		return len(f.forgot) == 2 && f.forgot[1] == other.ID
	}, f)
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.forgot) != 2 {
		t.Errorf("heard %v; last_used_at must not notify", f.forgot)
	}
}
