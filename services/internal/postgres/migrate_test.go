package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-dev/gantry/services/internal/pgtest"
	"github.com/gantry-dev/gantry/services/internal/postgres"
)

func tableExists(t *testing.T, url, table string) bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestMigrationsGoUpDownAndUpAgain(t *testing.T) {
	t.Parallel()
	url := pgtest.DB(t)
	m := openMigrator(t, url)
	latest := postgres.LatestVersion()
	if latest == 0 {
		t.Fatal("no migrations are embedded")
	}
	steps := []struct {
		name      string
		do        func() error
		version   uint
		haveTable bool
	}{
		{"up creates the schema", m.Up, latest, true},
		{"up again is a no-op, not an error", m.Up, latest, true},
		{"down by every step removes it", func() error { return m.Down(int(latest)) }, 0, false},
		{"up once more recreates it", m.Up, latest, true},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if err := s.do(); err != nil {
				t.Fatal(err)
			}
			v, dirty, err := m.Version()
			if err != nil || dirty || v != s.version {
				t.Fatalf("version %d dirty %v err %v, want %d clean", v, dirty, err, s.version)
			}
			if got := tableExists(t, url, "tasks"); got != s.haveTable {
				t.Fatalf("tasks table exists = %v, want %v", got, s.haveTable)
			}
		})
	}
}

func TestMigrateUpOnADirtyDatabaseStopsAndSaysHowToRecover(t *testing.T) {
	t.Parallel()
	url := pgtest.DB(t)
	m := openMigrator(t, url)
	if err := m.Up(); err != nil {
		t.Fatal(err)
	}
	// What a migration that failed half-way leaves behind.
	pool := mustConn(t, url)
	if _, err := pool.Exec(context.Background(), `UPDATE schema_migrations SET dirty = true`); err != nil {
		t.Fatal(err)
	}

	err := m.Up()
	var dirty postgres.ErrDirty
	if !errors.As(err, &dirty) || dirty.Version != 1 {
		t.Fatalf("up on a dirty database: %v, want ErrDirty at 1", err)
	}
	for _, hint := range []string{"dirty at version 1", "migrate force 1", "migrate force -1", "migrate up"} {
		if !strings.Contains(err.Error(), hint) {
			t.Errorf("message lacks %q: %s", hint, err)
		}
	}
	if v, d, _ := m.Version(); !d || v != 1 {
		t.Fatalf("up must never force by itself; version %d dirty %v", v, d)
	}

	if err := m.Force(1); err != nil {
		t.Fatal(err)
	}
	if err := m.Up(); err != nil {
		t.Fatalf("up after force: %v", err)
	}
}

func TestConcurrentMigrateUpAppliesEachMigrationOnce(t *testing.T) {
	t.Parallel()
	url := pgtest.DB(t)
	const runners = 4
	var wg sync.WaitGroup
	errs := make([]error, runners)
	for i := range runners {
		m := openMigrator(t, url)
		wg.Go(func() { errs[i] = m.Up() })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("runner %d: %v", i, err)
		}
	}
	if !tableExists(t, url, "tasks") {
		t.Fatal("no runner created the schema")
	}
}

func mustConn(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
