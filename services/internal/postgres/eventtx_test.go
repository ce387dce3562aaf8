package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-dev/gantry/services/internal/pgtest"
	"github.com/gantry-dev/gantry/services/internal/postgres"
	"github.com/gantry-dev/gantry/services/internal/task"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// roundTrips records what a pool sends, one entry per round trip: a
// statement on its own, a COPY, or a batch's statements together. Each is
// shortened to its first line.
type roundTrips struct {
	mu   sync.Mutex
	sent [][]string
}

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, []string{firstLine(d.SQL)})
	return ctx
}

func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	var batch []string
	for _, q := range d.Batch.QueuedQueries {
		batch = append(batch, firstLine(q.SQL))
	}
	r.sent = append(r.sent, batch)
	return ctx
}

func (r *roundTrips) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceCopyFromStartData) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, []string{"COPY " + d.TableName.Sanitize()})
	return ctx
}

func (r *roundTrips) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {}

func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// take returns what was sent since the last take, leaving out River's
// announcements of new jobs: they go out in the background (see
// eventTx.Exec), whenever they do.
func (r *roundTrips) take() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var sent [][]string
	for _, rt := range r.sent {
		if !strings.HasPrefix(rt[0], "-- name: PGNotifyMany") {
			sent = append(sent, rt)
		}
	}
	r.sent = nil
	return sent
}

func firstLine(sql string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(sql), "\n")
	return line
}

// tracedStore is a Store on a migrated database whose pool (one
// connection, so every statement shares it) reports its round trips.
func tracedStore(t *testing.T) (*postgres.Store, *pgxpool.Pool, *roundTrips) {
	t.Helper()
	url := pgtest.DB(t)
	migrateUp(t, url)
	cfg, err := postgres.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	rt := &roundTrips{}
	pool := oneConnection(t, cfg, rt)
	return mustStore(t, pool), pool, rt
}

// oneConnection is a pool of one connection with cfg's settings, so that
// every statement on it shares one session; tracer, if not nil, sees them.
func oneConnection(t *testing.T, cfg *pgxpool.Config, tracer pgx.QueryTracer) *pgxpool.Pool {
	t.Helper()
	cfg.MaxConns = 1
	if tracer != nil {
		cfg.ConnConfig.Tracer = tracer
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// River's insert of the event and the COMMIT share one round trip: a write
// with its event costs the round trips of the write alone (BEGIN, the
// write, COMMIT).
func TestTheEventTravelsWithTheCommit(t *testing.T) {
	t.Parallel()
	s, _, rt := tracedStore(t)
	ctx := context.Background()
	// The first write also asks PostgreSQL's version (River, once) and
	// prepares the statements.
	if _, err := s.Create(ctx, task.New{Title: "first", Status: task.StatusTodo}); err != nil {
		t.Fatal(err)
	}
	rt.take()
	if _, err := s.Create(ctx, task.New{Title: "second", Status: task.StatusTodo}); err != nil {
		t.Fatal(err)
	}
	wantLastWithCommit(t, "a write with its event", rt.take(), 3)
}

// wantLastWithCommit fails unless what made n round trips, the last of them
// River's insert and the COMMIT.
func wantLastWithCommit(t *testing.T, what string, sent [][]string, n int) {
	t.Helper()
	if len(sent) != n {
		t.Fatalf("%s took %d round trips, want %d: %q", what, len(sent), n, sent)
	}
	last := sent[n-1]
	if len(last) != 2 || !strings.HasPrefix(last[0], "-- name: JobInsertFastMany") || last[1] != "COMMIT" {
		t.Fatalf("%s sent %q last, want River's insert and the COMMIT", what, last)
	}
}

// When River's insert fails, the COMMIT that went with it does not run:
// the write is rolled back, and the connection serves the next write.
func TestAWriteWhoseEventCannotBeInsertedIsRolledBack(t *testing.T) {
	t.Parallel()
	s, pool, _ := tracedStore(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `ALTER TABLE river_job ADD CONSTRAINT refuse_events CHECK (queue <> 'events') NOT VALID`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, task.New{Title: "lost", Status: task.StatusTodo}); err == nil || !strings.Contains(err.Error(), "refuse_events") {
		t.Fatalf("the write: %v, want River's insert refused", err)
	}
	if _, err := pool.Exec(ctx, `ALTER TABLE river_job DROP CONSTRAINT refuse_events`); err != nil {
		t.Fatal(err)
	}
	kept, err := s.Create(ctx, task.New{Title: "kept", Status: task.StatusTodo})
	if err != nil {
		t.Fatalf("the write after: %v", err)
	}
	page, err := s.List(ctx, task.Filter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Tasks) != 1 || page.Tasks[0].ID != kept.ID {
		t.Fatalf("tasks: %+v, want only the write after", page.Tasks)
	}
	if events := eventsIn(t, pool); len(events) != 1 || events[0].Task.ID != kept.ID.String() {
		t.Fatalf("events: %+v, want only the write after's", events)
	}
}

// River's announcement of the new job still reaches the notifiers: it goes
// out after the write answered, once the job is committed.
func TestACommittedEventIsAnnounced(t *testing.T) {
	t.Parallel()
	s, pool, _ := tracedStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	listener, err := pgx.Connect(ctx, pool.Config().ConnConfig.ConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close(context.Background())
	if _, err := listener.Exec(ctx, `LISTEN "public.river_insert"`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, task.New{Title: "announced", Status: task.StatusTodo}); err != nil {
		t.Fatal(err)
	}
	n, err := listener.WaitForNotification(ctx)
	if err != nil {
		t.Fatalf("no announcement: %v", err)
	}
	if !strings.Contains(n.Payload, `"events"`) {
		t.Fatalf("announced %q, want the events queue", n.Payload)
	}
	if events := eventsIn(t, pool); len(events) != 1 {
		t.Fatalf("%d events committed when announced, want 1", len(events))
	}
}

// A fan-out's delivery jobs are its transaction's last statement, and go
// out with the COMMIT: three round trips an event (BEGIN, the deliveries,
// River's insert with the COMMIT), whatever its webhooks.
func TestAFanOutsDeliveryJobsTravelWithTheCommit(t *testing.T) {
	t.Parallel()
	_, s, pool := webhookStore(t)
	ctx := context.Background()
	rt := &roundTrips{}
	one := oneConnection(t, pool.Config(), rt) // the fan-outs' own; River's client works on pool
	ws := postgres.NewWebhookStore(one)
	for _, url := range []string{"https://a.example/hook", "https://b.example/hook"} {
		mustCreateWebhook(t, ws, url, webhook.EventTypes...)
	}
	if _, err := s.Create(ctx, task.New{Title: "fanned", Status: task.StatusTodo}); err != nil {
		t.Fatal(err)
	}
	rt.take()
	workEvents(t, ws, pool, 1)
	wantLastWithCommit(t, "a fan-out", rt.take(), 3)
}
