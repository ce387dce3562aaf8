package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

// sqlStages splits the time of River's jobs completed since a job ID into
// waiting to be fetched (created to attempted) and being worked (attempted
// to finalized, which for a delivery includes River's batching of
// completions, after the receiver has it): for the events, the fan-out;
// for the deliveries, the attempt.
const sqlStages = `
SELECT queue, count(*),
  percentile_cont(0.5)  WITHIN GROUP (ORDER BY attempted_at - created_at),
  percentile_cont(0.99) WITHIN GROUP (ORDER BY attempted_at - created_at),
  percentile_cont(0.5)  WITHIN GROUP (ORDER BY finalized_at - attempted_at),
  percentile_cont(0.99) WITHIN GROUP (ORDER BY finalized_at - attempted_at)
FROM river_job WHERE state = 'completed' AND id > $1
GROUP BY queue ORDER BY queue DESC`

// stages prints where the jobs after job ID after spent their time, and
// returns the last job's ID for the next run. A delivery latency run that
// falls behind shows here as deliveries waiting to be fetched.
func stages(ctx context.Context, dbURL string, after int64) (int64, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return 0, err
	}
	defer func() { _ = conn.Close(ctx) }()
	rows, err := conn.Query(ctx, sqlStages, after)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var queue string
		var n int64
		var w50, w99, r50, r99 time.Duration
		if err := rows.Scan(&queue, &n, &w50, &w99, &r50, &r99); err != nil {
			return 0, err
		}
		fmt.Fprintf(os.Stderr, "bench:   %d %s jobs: waited p50 %s p99 %s, worked p50 %s p99 %s\n", n, queue, ms(w50), ms(w99), ms(r50), ms(r99))
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var last int64
	err = conn.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM river_job`).Scan(&last)
	return last, err
}
