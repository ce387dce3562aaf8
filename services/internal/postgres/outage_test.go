package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/services/internal/pgtest"
	"github.com/gantry-dev/gantry/services/internal/postgres"
	"github.com/gantry-dev/gantry/services/internal/process"
	"github.com/gantry-dev/gantry/services/internal/task"
)

func TestStoreReportsADatabaseOutageAsUnavailableAndRecovers(t *testing.T) {
	t.Parallel()
	c := pgtest.NewCluster(t)
	url := pgtest.CreateDB(t, c.URL("postgres"))
	migrateUp(t, url)
	pool, err := postgres.NewPool(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s := mustStore(t, pool)
	ctx := context.Background()
	tk, err := s.Create(ctx, task.New{Title: "survives", Status: task.StatusTodo})
	if err != nil {
		t.Fatal(err)
	}

	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	// The first query may hit a connection the server just closed, the next
	// ones a refused connect: both are the database's fault, never a 500.
	for i := range 3 {
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := s.Get(qctx, tk.ID)
		cancel()
		if task.KindOf(err) != task.Unavailable {
			t.Fatalf("query %d with the database down: %v, want Unavailable", i, err)
		}
	}

	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, tk.ID); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}

func TestRetryWaitsForADatabaseThatStartsLate(t *testing.T) {
	t.Parallel()
	c := pgtest.InitCluster(t)
	if err := c.Start(); err != nil { // learn a port, then go down again
		t.Fatal(err)
	}
	url := c.URL("postgres")
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	pool, err := postgres.NewPool(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	// The test waits for the restart to return: Retry may connect while
	// Start is still waiting, and the cluster's cleanup must not remove the
	// server under it.
	restarted := make(chan error, 1)
	go func() {
		time.Sleep(1500 * time.Millisecond)
		restarted <- c.Start()
	}()
	start := time.Now()
	err = process.Retry(context.Background(), quiet, 30*time.Second, "connect", pool.Ping)
	if rerr := <-restarted; rerr != nil {
		t.Fatalf("restart: %v", rerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < time.Second {
		t.Fatal("connected before the database started: the test proves nothing")
	}
}

func TestRetryGivesUpAtItsTimeout(t *testing.T) {
	t.Parallel()
	pool, err := postgres.NewPool(context.Background(), "postgres://u:p@127.0.0.1:1/db?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	start := time.Now()
	err = process.Retry(context.Background(), quiet, 700*time.Millisecond, "connect", pool.Ping)
	if err == nil {
		t.Fatal("connected to a closed port")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("gave up after %s, want about 700ms", d)
	}
}
