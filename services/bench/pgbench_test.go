package main

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-dev/gantry/services/internal/pgtest"
	"github.com/gantry-dev/gantry/services/internal/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestPgbenchSeconds(t *testing.T) {
	tests := []struct {
		name    string
		d       time.Duration
		clients int
		want    int
	}{
		{"the smoke's 64 clients get 6.4 s to connect on top of its 2 s", 2 * time.Second, 64, 9},
		{"4 clients get 0.4 s, rounded up to a whole second", 2 * time.Second, 4, 3},
		{"the full suite's 10 s get the same budget", 10 * time.Second, 64, 17},
		{"a budget that ends on a second is not rounded further", time.Second, 10, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pgbenchSeconds(tt.d, tt.clients); got != tt.want {
				t.Errorf("pgbenchSeconds(%s, %d) = %d, want %d", tt.d, tt.clients, got, tt.want)
			}
		})
	}
}

// The summaries are pgbench 15's, as printed on this machine.
const (
	summaryHead = `pgbench (15.18 (Debian 15.18-0+deb12u1))
transaction type: /tmp/pgbench-1/get.sql
scaling factor: 1
query mode: prepared
number of clients: 64
number of threads: 2
maximum number of tries: 1
duration: 10 s
`
	summaryMeasured = summaryHead + `number of transactions actually processed: 39122
number of failed transactions: 0 (0.000%)
latency average = 11.869 ms
initial connection time = 2915.244 ms
tps = 5392.067478 (without initial connection time)
`
	summaryNothing = summaryHead + `number of transactions actually processed: 0
number of failed transactions: 0 (NaN%)
`
)

func TestParsePgbench(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    pgbenchRun
		wantErr string
	}{
		{"a run reads as its count, connecting time and tps", summaryMeasured,
			pgbenchRun{processed: 39122, connect: 2915244 * time.Microsecond, tps: 5392.067478}, ""},
		{"a run whose clock ran out while connecting says so", summaryNothing, pgbenchRun{}, "counts its clients' connecting"},
		{"a summary cut short after the count is an error", summaryHead + "number of transactions actually processed: 5\n", pgbenchRun{processed: 5}, "no initial connection time or no tps"},
		{"output that is not a summary is an error", "pgbench (15.18)\n", pgbenchRun{}, "no transaction count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePgbench(tt.out)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMeasuredForIsTheTimeTheTPSIsOver(t *testing.T) {
	r := pgbenchRun{processed: 39122, tps: 5392.067478}
	if got, want := r.measuredFor().Round(time.Millisecond), 7255*time.Millisecond; got != want {
		t.Errorf("measuredFor() = %s, want %s (10 s of -T less 2.9 s of connecting)", got, want)
	}
}

func TestPgbenchAgainstPostgreSQL(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DB(t)
	bin, err := pgtest.FindBinaries() // pgbench is installed beside them
	if err != nil {
		if os.Getenv(pgtest.RequireEnv) != "" {
			t.Fatal(err)
		}
		t.Skip("SKIPPING: " + err.Error())
	}
	m, err := postgres.OpenMigrator(ctx, slog.New(slog.DiscardHandler), url, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = m.Close() }() // closing a test's migrator: nothing left to report to
	if err := m.Up(); err != nil {
		t.Fatal(err)
	}
	if err := seed(ctx, url, 100); err != nil {
		t.Fatal(err)
	}

	t.Run("a run measures the lookup", func(t *testing.T) {
		tps, err := pgbench(ctx, bin.Tool("pgbench"), url, 100, 4, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if tps <= 0 {
			t.Errorf("tps = %v, want more than 0", tps)
		}
	})
	t.Run("a failure shows pgbench's stderr", func(t *testing.T) {
		limit := maxConnections(t, url)
		_, err := pgbench(ctx, bin.Tool("pgbench"), url, 100, limit+5, time.Second)
		if err == nil || !strings.Contains(err.Error(), "too many clients") {
			t.Fatalf("with %d clients over max_connections %d: error = %v, want pgbench's stderr saying too many clients", limit+5, limit, err)
		}
		t.Log(err)
	})
}

func maxConnections(t *testing.T, url string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var s string
	if err := conn.QueryRow(context.Background(), "SHOW max_connections").Scan(&s); err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("max_connections %q: %v", s, err)
	}
	return n
}
