package postgres_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-dev/gantry/services/internal/pgtest"
	"github.com/gantry-dev/gantry/services/internal/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var quiet = slog.New(slog.DiscardHandler)

// migratedStore returns a Store on a fresh, fully migrated database.
func migratedStore(t *testing.T) (*postgres.Store, *pgxpool.Pool) {
	t.Helper()
	url := pgtest.DB(t)
	migrateUp(t, url)
	pool, err := postgres.NewPool(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return mustStore(t, pool), pool
}

func migrateUp(t *testing.T, url string) {
	t.Helper()
	m := openMigrator(t, url)
	if err := m.Up(); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
}

func openMigrator(t *testing.T, url string) *postgres.Migrator {
	t.Helper()
	m, err := postgres.OpenMigrator(context.Background(), quiet, url, 10*time.Second)
	if err != nil {
		t.Fatalf("open migrator: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m
}

func mustStore(t *testing.T, pool *pgxpool.Pool) *postgres.Store {
	t.Helper()
	s, err := postgres.NewStore(pool)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
