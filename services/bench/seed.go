package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// seed fills a migrated database with n tasks whose IDs and creation times
// follow idOf and seedBase, then refreshes the planner's statistics.
func seed(ctx context.Context, dbURL string, n int) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `
INSERT INTO tasks (id, title, description, status, created_at, updated_at)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
       'task ' || g,
       'seeded for the benchmark',
       (ARRAY['todo', 'doing', 'done'])[1 + g % 3],
       $1::timestamptz + g * interval '1 millisecond',
       $1::timestamptz + g * interval '1 millisecond'
FROM generate_series(1, $2::int) AS g`, seedBase, n)
	if err != nil {
		return fmt.Errorf("seed %d tasks: %w", n, err)
	}
	_, err = conn.Exec(ctx, `VACUUM ANALYZE tasks`)
	return err
}

func execSQL(ctx context.Context, dbURL, sql string) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// queryInt runs a query whose answer is one number.
func queryInt(ctx context.Context, dbURL, sql string) (int64, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var n int64
	err = conn.QueryRow(ctx, sql).Scan(&n)
	return n, err
}
