package postgres

import (
	"context"
	"time"

	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// A delivery job that River discarded while its delivery is still pending
// ran its last attempt without recording it. River's rescuer discards such
// a job once it has been running too long, as it does when its notifier
// died; the range scan of (state, finalized_at) is River's own index.
const sqlFailAbandoned = `
UPDATE webhook_deliveries d SET
    status          = 'failed',
    attempts        = j.attempt,
    last_status     = NULL,
    last_error      = $3,
    next_attempt_at = NULL
FROM river_job j
WHERE j.state = 'discarded'
  AND j.finalized_at > now() - $1::interval
  AND j.kind = $2
  AND d.id = (j.args->>'delivery_id')::uuid
  AND d.status = 'pending'`

// FailAbandoned records failed, with reason as its last error, every
// pending delivery whose job River discarded within the last window, and
// returns how many it found.
func (s *WebhookStore) FailAbandoned(ctx context.Context, window time.Duration, reason string) (int, error) {
	tag, err := s.pool.Exec(ctx, sqlFailAbandoned, window, webhook.DeliveryJob{}.Kind(), reason)
	if err != nil {
		return 0, classifyDB(err, "fail abandoned deliveries")
	}
	return int(tag.RowsAffected()), nil
}
