package postgres

import (
	"context"
	"time"
)

// The job River would take next in each queue, and how long it has been
// due: the head of the queue's fetch index (state, queue, priority,
// scheduled_at), one index probe per queue however long the backlog.
const sqlQueueLag = `
SELECT q.queue, coalesce(extract(epoch FROM now() - head.scheduled_at), 0)::float8
FROM unnest($1::text[]) AS q(queue)
LEFT JOIN LATERAL (
    SELECT scheduled_at FROM river_job
    WHERE state = 'available' AND queue = q.queue AND scheduled_at <= now()
    ORDER BY priority, scheduled_at, id
    LIMIT 1
) head ON true`

// QueueLag returns, per queue, how long the oldest job that is due and
// not yet taken has waited: 0 for a queue with none.
func (s *WebhookStore) QueueLag(ctx context.Context, queues []string) (map[string]time.Duration, error) {
	rows, err := s.pool.Query(ctx, sqlQueueLag, queues)
	if err != nil {
		return nil, classifyDB(err, "read queue lag")
	}
	defer rows.Close()
	lags := make(map[string]time.Duration, len(queues))
	for rows.Next() {
		var (
			queue string
			secs  float64
		)
		if err := rows.Scan(&queue, &secs); err != nil {
			return nil, classifyDB(err, "read queue lag")
		}
		lags[queue] = time.Duration(secs * float64(time.Second))
	}
	return lags, classifyDB(rows.Err(), "read queue lag")
}
