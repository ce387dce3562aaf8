package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/services/internal/task"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

func TestQueueLagIsTheAgeOfTheOldestJobThatIsDue(t *testing.T) {
	t.Parallel()
	ws, s, pool := webhookStore(t)
	ctx := context.Background()
	for range 3 {
		if _, err := s.Create(ctx, task.New{Title: "queued", Status: task.StatusTodo}); err != nil {
			t.Fatal(err)
		}
	}
	// The events were due 42 s, 10 s and (not yet) -60 s ago; one more,
	// older still, is being worked and so waits no longer.
	if _, err := pool.Exec(ctx, `
WITH e AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM river_job WHERE queue = $1)
UPDATE river_job j SET scheduled_at = now() - CASE e.n WHEN 1 THEN interval '42 seconds' WHEN 2 THEN interval '10 seconds' ELSE interval '-60 seconds' END
FROM e WHERE j.id = e.id`, webhook.QueueEvents); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, task.New{Title: "running", Status: task.StatusTodo}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE river_job SET state = 'running', scheduled_at = now() - interval '1 hour', attempted_at = now()
WHERE id = (SELECT max(id) FROM river_job)`); err != nil {
		t.Fatal(err)
	}

	lags, err := ws.QueueLag(ctx, []string{webhook.QueueEvents, webhook.QueueDeliveries})
	if err != nil {
		t.Fatal(err)
	}
	if got := lags[webhook.QueueEvents]; got < 42*time.Second || got > 50*time.Second {
		t.Errorf("events lag %s, want about 42s", got)
	}
	if got, ok := lags[webhook.QueueDeliveries]; !ok || got != 0 {
		t.Errorf("deliveries lag %s (present %v), want 0 for an empty queue", got, ok)
	}
}
