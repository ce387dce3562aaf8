package postgres_test

import (
	"context"
	"errors"
	"fmt"
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
		{"down by every step removes it", func() error { _, err := m.Down(len(postgres.Versions())); return err }, 0, false},
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
	vs := postgres.Versions()
	latest, before := int(vs[len(vs)-1]), -1 // -1: golang-migrate's "none applied"
	if len(vs) > 1 {
		before = int(vs[len(vs)-2])
	}
	var dirty postgres.DirtyError
	if !errors.As(err, &dirty) || int(dirty.Version) != latest {
		t.Fatalf("up on a dirty database: %v, want DirtyError at %d", err, latest)
	}
	for _, hint := range []string{fmt.Sprintf("dirty at version %d", latest), fmt.Sprintf("migrate force %d`", latest), fmt.Sprintf("migrate force %d`", before), "migrate up"} {
		if !strings.Contains(err.Error(), hint) {
			t.Errorf("message lacks %q: %s", hint, err)
		}
	}
	if v, d, _ := m.Version(); !d || int(v) != latest {
		t.Fatalf("up must never force by itself; version %d dirty %v", v, d)
	}

	if err := m.Force(latest); err != nil {
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

func TestMigrateDownRevertsAllItWasAskedForOrNothing(t *testing.T) {
	t.Parallel()
	applied := len(postgres.Versions())
	tests := []struct {
		name     string
		up       bool
		n        int
		reverted int
		refused  bool
		version  uint
	}{
		{"down on an empty database is no change", false, 1, 0, false, 0},
		{"down by exactly what is applied reverts it all", true, applied, applied, false, 0},
		{"down by more than is applied refuses and reverts nothing", true, applied + 4, 0, true, postgres.LatestVersion()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := pgtest.DB(t)
			m := openMigrator(t, url)
			if tt.up {
				if err := m.Up(); err != nil {
					t.Fatal(err)
				}
			}
			reverted, err := m.Down(tt.n)
			var tooFew postgres.TooFewAppliedError
			if refused := errors.As(err, &tooFew); refused != tt.refused || (err != nil && !refused) {
				t.Fatalf("down %d: %v, refused = %v, want %v", tt.n, err, refused, tt.refused)
			}
			if tt.refused && (tooFew.Asked != tt.n || tooFew.Applied != applied) {
				t.Errorf("refusal %+v, want asked %d applied %d", tooFew, tt.n, applied)
			}
			if reverted != tt.reverted {
				t.Errorf("reverted %d, want %d", reverted, tt.reverted)
			}
			if v, dirty, err := m.Version(); err != nil || dirty || v != tt.version {
				t.Fatalf("version %d dirty %v err %v, want %d clean", v, dirty, err, tt.version)
			}
			if got := tableExists(t, url, "tasks"); got != (tt.version > 0) {
				t.Fatalf("tasks table exists = %v at version %d", got, tt.version)
			}
		})
	}
}

func TestForceAcceptsOnlyNoneOrAVersionThisBinaryHas(t *testing.T) {
	t.Parallel()
	latest := postgres.LatestVersion()
	tests := []struct {
		name    string
		v       int
		ok      bool
		version uint
	}{
		{"-1 records that nothing is applied", -1, true, 0},
		{"the latest version is recorded", int(latest), true, latest},
		{"a version past the latest is refused", int(latest) + 98, false, latest},
		{"0, which no migration has, is refused", 0, false, latest},
		{"below -1 is refused", -2, false, latest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := openMigrator(t, pgtest.DB(t))
			if err := m.Up(); err != nil {
				t.Fatal(err)
			}
			err := m.Force(tt.v)
			if (err == nil) != tt.ok {
				t.Fatalf("force %d: %v, want ok = %v", tt.v, err, tt.ok)
			}
			if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("versions: %d", postgres.Versions()[0])) {
				t.Errorf("the refusal does not name the versions there are: %v", err)
			}
			if v, dirty, _ := m.Version(); dirty || v != tt.version {
				t.Fatalf("version %d dirty %v, want %d clean", v, dirty, tt.version)
			}
		})
	}
}
