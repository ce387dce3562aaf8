package postgres_test

import (
	"context"
	"testing"

	"github.com/gantry-dev/gantry/services/internal/postgres"
	"github.com/gantry-dev/gantry/services/internal/task"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// River's completion of an event's job is planned once per connection, not
// at every event: on one connection, eight fan-outs use its generic plan.
func TestFanOutPlansRiversCompletionOnce(t *testing.T) {
	t.Parallel()
	_, s, pool := webhookStore(t)
	ctx := context.Background()
	one := oneConnection(t, pool.Config(), nil) // the fan-outs' session, whose plans pg_prepared_statements shows
	ws := postgres.NewWebhookStore(one)
	mustCreateWebhook(t, ws, "https://a.example/hook", webhook.EventTypes...)
	const events = 8
	for range events {
		if _, err := s.Create(ctx, task.New{Title: "planned", Status: task.StatusTodo}); err != nil {
			t.Fatal(err)
		}
	}
	workEvents(t, ws, pool, events)

	// Only the fan-outs ran on one: River's own queries, its completer's
	// among them, ran on pool. Without the setting PostgreSQL plans at
	// least the first five runs on a connection.
	var generic, custom int
	if err := one.QueryRow(ctx, `SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '-- name: JobSetStateIfRunningMany %'`).
		Scan(&generic, &custom); err != nil {
		t.Fatal(err)
	}
	if generic != events || custom != 0 {
		t.Errorf("River's completion planned %d times in %d fan-outs, its generic plan used %d times; want every fan-out on the generic plan", custom, events, generic)
	}
}
