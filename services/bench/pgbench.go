package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// The ceiling: PostgreSQL answering the same primary-key lookup to pgbench,
// with prepared statements and no HTTP at all. The ID expression is the
// one the seed used; building it costs the server well under a microsecond.
const pgbenchScript = `\set n random(1, :tasks)
SELECT id, title, description, status, due_date, version, created_at, updated_at
FROM tasks WHERE id = ('00000000-0000-4000-8000-' || lpad(to_hex(:n::bigint), 12, '0'))::uuid;
`

var tpsRE = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// pgbench runs the lookup at clients connections for d and returns the
// transactions per second.
func pgbench(ctx context.Context, bin, dbURL string, tasks, clients int, d time.Duration) (float64, error) {
	dir, err := os.MkdirTemp("", "pgbench-")
	if err != nil {
		return 0, err
	}
	defer removeAll(dir)
	script := filepath.Join(dir, "get.sql")
	if err := os.WriteFile(script, []byte(pgbenchScript), 0o644); err != nil {
		return 0, err
	}
	out, err := run(ctx, bin, "-n", "-M", "prepared", "-f", script, "-D", "tasks="+strconv.Itoa(tasks),
		"-c", strconv.Itoa(clients), "-j", "2", "-T", strconv.Itoa(int(d.Seconds())), dbURL)
	if err != nil {
		return 0, err
	}
	m := tpsRE.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgbench printed no tps:\n%s", out)
	}
	return strconv.ParseFloat(m[1], 64)
}
