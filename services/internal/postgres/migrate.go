package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/golang-migrate/migrate/v4"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5/stdlib"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// lockTimeout is how long a migrate run waits for another one holding the
// advisory lock. golang-migrate's 15 s default is shorter than a real
// migration on a large table, so a second replica would fail for no reason.
const lockTimeout = 5 * time.Minute

// Migrator applies the embedded migrations under PostgreSQL's advisory lock,
// so any number of replicas may run it at once and the schema changes once.
type Migrator struct {
	m    *migrate.Migrate
	db   *sql.DB
	ctx  context.Context
	stop func() bool
}

// ErrDirty is returned when a previous migration failed part-way. Recovering
// needs a person: only they can tell how much of it was applied.
type ErrDirty struct{ Version uint }

func (e ErrDirty) Error() string {
	before := int(e.Version) - 1
	if before == 0 {
		before = -1 // golang-migrate's "no migration applied"
	}
	return fmt.Sprintf("the database schema is dirty at version %d: migration %d failed part-way and nothing more will run until it is resolved. "+
		"Inspect the database and finish or undo that migration's changes by hand, then record where you are with "+
		"`api migrate force %d` (migration %d fully applied) or `api migrate force %d` (fully undone), and run `api migrate up` again",
		e.Version, e.Version, e.Version, e.Version, before)
}

// OpenMigrator connects with the same URL the server uses (pool_* settings
// are accepted and ignored) and waits up to connectTimeout for the database.
func OpenMigrator(ctx context.Context, log *slog.Logger, url string, connectTimeout time.Duration) (*Migrator, error) {
	cfg, err := ParseConfig(url)
	if err != nil {
		return nil, err
	}
	db := stdlib.OpenDB(*cfg.ConnConfig)
	if err := Retry(ctx, log, connectTimeout, "connect to database", db.PingContext); err != nil {
		db.Close()
		return nil, err
	}
	m, err := newMigrate(db)
	if err != nil {
		db.Close()
		return nil, err
	}
	m.Log = migrateLog{log}
	m.LockTimeout = lockTimeout
	// On SIGTERM, stop between migrations, never inside one.
	stop := context.AfterFunc(ctx, func() { m.GracefulStop <- true })
	return &Migrator{m: m, db: db, ctx: ctx, stop: stop}, nil
}

func newMigrate(db *sql.DB) (*migrate.Migrate, error) {
	src, err := iofs.New(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	drv, err := migratepgx.WithInstance(db, &migratepgx.Config{})
	if err != nil {
		return nil, fmt.Errorf("prepare migrations table: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", drv)
	if err != nil {
		return nil, fmt.Errorf("set up migrations: %w", err)
	}
	return m, nil
}

// Close releases the migrator's connection.
func (mg *Migrator) Close() error {
	mg.stop()
	srcErr, dbErr := mg.m.Close()
	return errors.Join(srcErr, dbErr, mg.db.Close())
}

// Up applies every pending migration. "Nothing to do" is success.
func (mg *Migrator) Up() error {
	return mg.result(mg.m.Up())
}

// Down reverts the newest n migrations.
func (mg *Migrator) Down(n int) error {
	if n < 1 {
		return errors.New("down needs a number of migrations to revert, at least 1")
	}
	return mg.result(mg.m.Steps(-n))
}

// Force records version v as cleanly applied without running anything; it
// is the manual way out of a dirty state and nothing calls it implicitly.
func (mg *Migrator) Force(v int) error {
	return mg.m.Force(v)
}

// Version returns the applied version; 0 with no error means none yet.
func (mg *Migrator) Version() (version uint, dirty bool, err error) {
	version, dirty, err = mg.m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, false, nil
	}
	return version, dirty, err
}

func (mg *Migrator) result(err error) error {
	var dirty migrate.ErrDirty
	switch {
	case mg.ctx.Err() != nil:
		return fmt.Errorf("stopped before every migration was applied: %w", context.Cause(mg.ctx))
	case err == nil, errors.Is(err, migrate.ErrNoChange):
		return nil
	case errors.As(err, &dirty):
		return ErrDirty{Version: uint(dirty.Version)}
	case errors.Is(err, migrate.ErrLockTimeout):
		return fmt.Errorf("another migration held the lock for more than %s: %w", lockTimeout, err)
	}
	return err
}

// LatestVersion is the newest embedded migration: the schema this binary
// was written for.
func LatestVersion() uint {
	entries, _ := migrationFiles.ReadDir("migrations")
	var latest uint
	for _, e := range entries {
		var v uint
		if _, err := fmt.Sscanf(e.Name(), "%d_", &v); err == nil && v > latest {
			latest = v
		}
	}
	return latest
}

// migrateLog routes golang-migrate's printf-style messages to slog.
type migrateLog struct{ log *slog.Logger }

func (l migrateLog) Printf(format string, v ...any) {
	l.log.Info(strings.TrimSpace(fmt.Sprintf(format, v...)))
}

func (l migrateLog) Verbose() bool { return false }
