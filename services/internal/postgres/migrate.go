package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/golang-migrate/migrate/v4"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/gantry-dev/gantry/services/internal/process"
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

// DirtyError is returned when a previous migration failed part-way.
// Recovering needs a person: only they can tell how much of it was applied.
type DirtyError struct{ Version uint }

func (e DirtyError) Error() string {
	before := int(e.Version) - 1
	if before == 0 {
		before = -1 // golang-migrate's "no migration applied"
	}
	return fmt.Sprintf("the database schema is dirty at version %d: migration %d failed part-way and nothing more will run until it is resolved. "+
		"Inspect the database and finish or undo that migration's changes by hand, then record where you are with "+
		"`api migrate force %d` (migration %d fully applied) or `api migrate force %d` (fully undone), and run `api migrate up` again",
		e.Version, e.Version, e.Version, e.Version, before)
}

// TooFewAppliedError is Down refusing to revert more migrations than are
// applied. It refuses before reverting any: golang-migrate would revert
// what there is and only then fail, leaving the caller to guess where the
// schema ended up.
type TooFewAppliedError struct{ Asked, Applied int }

func (e TooFewAppliedError) Error() string {
	if e.Applied == 1 {
		return fmt.Sprintf("cannot revert %d migrations: only 1 migration is applied, so nothing was reverted; "+
			"`api migrate down 1` reverts it", e.Asked)
	}
	return fmt.Sprintf("cannot revert %d migrations: only %d migrations are applied, so nothing was reverted; "+
		"`api migrate down %d` reverts them all", e.Asked, e.Applied, e.Applied)
}

// OpenMigrator connects with the same URL the server uses (pool_* settings
// are accepted and ignored) and waits up to connectTimeout for the database.
func OpenMigrator(ctx context.Context, log *slog.Logger, url string, connectTimeout time.Duration) (*Migrator, error) {
	cfg, err := ParseConfig(url)
	if err != nil {
		return nil, err
	}
	db := stdlib.OpenDB(*cfg.ConnConfig)
	// On failure the first error says what went wrong; db holds no
	// connection worth a second one.
	if err := process.Retry(ctx, log, connectTimeout, "connect to database", db.PingContext); err != nil {
		_ = db.Close()
		return nil, err
	}
	m, err := newMigrate(db)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	m.Log = migrateLog{log}
	m.LockTimeout = lockTimeout
	// On SIGTERM, stop between migrations, never inside one.
	stop := context.AfterFunc(ctx, func() { m.GracefulStop <- true })
	return &Migrator{m: m, db: db, ctx: ctx, stop: stop}, nil
}

func newMigrate(db *sql.DB) (*migrate.Migrate, error) {
	files, err := iofs.New(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	src, err := newSourceWithRiver(files, fileVersions())
	if err != nil {
		return nil, fmt.Errorf("read River's migrations: %w", err)
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
	return mg.result(mg.m.Up(), LatestVersion())
}

// Down reverts the newest n migrations and returns how many it reverted:
// all n, or none when none is applied (no change, so no error). Asked for
// more than are applied, it refuses with TooFewAppliedError.
func (mg *Migrator) Down(n int) (reverted int, err error) {
	if n < 1 {
		return 0, errors.New("down needs a number of migrations to revert, at least 1")
	}
	applied, err := mg.applied()
	switch {
	case err != nil:
		return 0, err
	case len(applied) == 0:
		return 0, nil
	case n > len(applied):
		return 0, TooFewAppliedError{Asked: n, Applied: len(applied)}
	}
	target := uint(0)
	if n < len(applied) {
		target = applied[len(applied)-n-1]
	}
	if err := mg.result(mg.m.Steps(-n), target); err != nil {
		return 0, err
	}
	return n, nil
}

// applied lists the embedded migrations the database has, oldest first. A
// dirty database is refused: nobody knows how much of its last one applied.
func (mg *Migrator) applied() ([]uint, error) {
	v, dirty, err := mg.Version()
	if err != nil {
		return nil, err
	}
	if dirty {
		return nil, DirtyError{Version: v}
	}
	return upTo(v), nil
}

// Force records version v as cleanly applied without running anything; it
// is the manual way out of a dirty state and nothing calls it implicitly.
// v must be -1 (none applied) or an embedded version: any other is a typo,
// and golang-migrate would record it, then fail every later run.
func (mg *Migrator) Force(v int) error {
	if vs := Versions(); v != -1 && (v < 0 || !slices.Contains(vs, uint(v))) {
		return fmt.Errorf("this binary has no migration %d, so nothing was forced; use -1 (no migration applied) or one of its versions: %s",
			v, joinVersions(vs))
	}
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

// result turns golang-migrate's answer for a run towards version target
// (0: none applied) into ours. Its error comes first: a failure matters
// more than a signal that arrived meanwhile.
func (mg *Migrator) result(err error, target uint) error {
	var dirty migrate.ErrDirty
	switch {
	case err == nil, errors.Is(err, migrate.ErrNoChange):
		return mg.checkStopped(target)
	case errors.As(err, &dirty):
		return DirtyError{Version: uint(dirty.Version)}
	case errors.Is(err, migrate.ErrLockTimeout):
		return fmt.Errorf("another migration held the lock for more than %s: %w", lockTimeout, err)
	}
	return err
}

// checkStopped tells a finished run from one a shutdown signal stopped
// between migrations: golang-migrate returns nil for both. A signal that
// came after the last migration stopped nothing.
func (mg *Migrator) checkStopped(target uint) error {
	if mg.ctx.Err() == nil {
		return nil
	}
	v, _, err := mg.Version()
	if err != nil || v == target {
		return err
	}
	finish := "`api migrate up`"
	if v > target {
		finish = fmt.Sprintf("`api migrate down %d`", len(upTo(v))-len(upTo(target)))
	}
	return fmt.Errorf("stopped at version %d, short of version %d (%w); no migration was left part-way, and %s finishes the job",
		v, target, context.Cause(mg.ctx), finish)
}

// Versions lists the migrations this binary has, ours and River's, oldest
// first.
func Versions() []uint {
	vs := fileVersions()
	for v := range riverVersions {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	return vs
}

// fileVersions lists the embedded migration files' versions.
func fileVersions() []uint {
	entries, _ := migrationFiles.ReadDir("migrations")
	var vs []uint
	for _, e := range entries {
		var v uint
		if _, err := fmt.Sscanf(e.Name(), "%d_", &v); err == nil {
			vs = append(vs, v)
		}
	}
	slices.Sort(vs)
	return slices.Compact(vs) // each version has an up and a down file
}

// LatestVersion is the newest embedded migration: the schema this binary
// was written for.
func LatestVersion() uint {
	vs := Versions()
	if len(vs) == 0 {
		return 0
	}
	return vs[len(vs)-1]
}

// upTo lists the embedded migrations a database at version v has applied.
func upTo(v uint) []uint {
	vs := Versions()
	n, found := slices.BinarySearch(vs, v)
	if found {
		n++
	}
	return vs[:n]
}

func joinVersions(vs []uint) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, ", ")
}

// migrateLog routes golang-migrate's printf-style messages to slog.
type migrateLog struct{ log *slog.Logger }

func (l migrateLog) Printf(format string, v ...any) {
	l.log.Info(strings.TrimSpace(fmt.Sprintf(format, v...)))
}

func (l migrateLog) Verbose() bool { return false }
