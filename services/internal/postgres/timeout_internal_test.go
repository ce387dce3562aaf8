package postgres

import (
	"context"
	"testing"

	"github.com/gantry-dev/gantry/services/internal/pgtest"
	"github.com/gantry-dev/gantry/services/internal/task"
)

// statement_timeout travels in the URL (pgx passes unknown parameters to
// the server as settings), and a statement it cancels is the database
// being too slow: a 503 for the client, not a 500.
func TestStatementTimeoutFromTheURLCancelsSlowStatementsAsUnavailable(t *testing.T) {
	t.Parallel()
	pool, err := NewPool(context.Background(), pgtest.DB(t)+"&statement_timeout=50")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	_, err = pool.Exec(context.Background(), "SELECT pg_sleep(2)")
	if err == nil {
		t.Fatal("a 2 s statement outlived a 50 ms statement_timeout")
	}
	if kind := task.KindOf(classify(err, "sleep")); kind != task.Unavailable {
		t.Fatalf("classified as kind %d, want Unavailable: %v", kind, err)
	}
}
