package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The ceiling: PostgreSQL answering the same primary-key lookup to pgbench,
// with prepared statements and no HTTP at all. The ID expression is the
// one the seed used; building it costs the server well under a microsecond.
const pgbenchScript = `\set n random(1, :tasks)
SELECT id, title, description, status, due_date, version, created_at, updated_at
FROM tasks WHERE id = ('00000000-0000-4000-8000-' || lpad(to_hex(:n::bigint), 12, '0'))::uuid;
`

// connectBudget is the time -T gives each client to connect. pgbench starts
// its -T clock before its clients connect, and each connection is a backend
// started and a SCRAM exchange: on this two-core machine at a load average
// of 16 to 20, 64 clients took 2.9 to 4.1 s to connect, so the smoke's 2 s
// -T ran out before the first transaction and pgbench exited 0 having
// processed none. At 100 ms a client the smoke's 64 clients get -T 9, which
// connecting would have to fill, twice the worst seen, to leave no time.
const connectBudget = 100 * time.Millisecond

// pgbenchSeconds is pgbench's -T, in the whole seconds it takes: d to
// measure after the clients' connecting, which -T counts too.
func pgbenchSeconds(d time.Duration, clients int) int {
	return int(math.Ceil((d + time.Duration(clients)*connectBudget).Seconds()))
}

var (
	processedRE = regexp.MustCompile(`number of transactions actually processed: ([0-9]+)`)
	connectRE   = regexp.MustCompile(`initial connection time = ([0-9.]+) ms`)
	tpsRE       = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
)

// pgbenchRun is what pgbench printed about a run.
type pgbenchRun struct {
	processed int
	connect   time.Duration // from the start of -T until every client had connected
	tps       float64       // over the time after connect
}

// measuredFor is the time the tps is over: pgbench divides the
// transactions by it.
func (r pgbenchRun) measuredFor() time.Duration {
	return time.Duration(float64(r.processed) / r.tps * float64(time.Second))
}

var errNoTransactions = errors.New("no transaction processed before -T ran out (pgbench's -T counts its clients' connecting too)")

// parsePgbench reads pgbench's summary (PostgreSQL 14 or later). With no
// transaction it stops after the counts, so that case is told apart from a
// summary that is not pgbench's.
func parsePgbench(out string) (pgbenchRun, error) {
	m := processedRE.FindStringSubmatch(out)
	if m == nil {
		return pgbenchRun{}, errors.New("pgbench printed no transaction count")
	}
	var r pgbenchRun
	r.processed, _ = strconv.Atoi(m[1])
	if r.processed == 0 {
		return r, errNoTransactions
	}
	c, t := connectRE.FindStringSubmatch(out), tpsRE.FindStringSubmatch(out)
	if c == nil || t == nil {
		return r, errors.New("pgbench printed no initial connection time or no tps (without initial connection time)")
	}
	ms, _ := strconv.ParseFloat(c[1], 64)
	r.connect = time.Duration(ms * float64(time.Millisecond))
	r.tps, _ = strconv.ParseFloat(t[1], 64)
	return r, nil
}

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
	secs := pgbenchSeconds(d, clients)
	cmd := exec.CommandContext(ctx, bin, "-n", "-M", "prepared", "-f", script, "-D", "tasks="+strconv.Itoa(tasks),
		"-c", strconv.Itoa(clients), "-j", "2", "-T", strconv.Itoa(secs), dbURL)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	var r pgbenchRun
	err = cmd.Run()
	if err == nil {
		r, err = parsePgbench(stdout.String())
	}
	if err != nil {
		return 0, fmt.Errorf("pgbench -c %d -T %d: %w\npgbench's stderr:\n%s\npgbench's stdout:\n%s",
			clients, secs, err, tail(stderr.String(), 2000), tail(stdout.String(), 2000))
	}
	if r.measuredFor() < d {
		fmt.Fprintf(os.Stderr, "bench: pgbench at %d clients measured %s, not %s: connecting took %s of its -T %d s\n",
			clients, r.measuredFor().Round(time.Millisecond), d, r.connect.Round(time.Millisecond), secs)
	}
	return r.tps, nil
}
