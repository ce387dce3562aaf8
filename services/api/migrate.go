package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"

	"github.com/gantry-dev/gantry/services/internal/config"
	"github.com/gantry-dev/gantry/services/internal/postgres"
)

// migrateCmd runs golang-migrate on the embedded migrations. Arguments are
// parsed by hand because "force -1" must not be read as a flag.
func migrateCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError("migrate needs a subcommand: up, down N, version or force V")
	}
	op, err := parseMigrateArgs(args)
	if err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	var bootstrap string
	if args[0] == "up" {
		if bootstrap, err = readBootstrapToken(getenv); err != nil {
			return err
		}
	}
	log := newLogger(cfg, stderr).With("component", "migrate")
	m, err := postgres.OpenMigrator(ctx, log, cfg.DatabaseURL.Reveal(), cfg.DBConnectTimeout)
	if err != nil {
		return err
	}
	defer func() {
		// The operation has finished (or failed) by now, and its result
		// stands: a connection that does not close cleanly is only news.
		if err := m.Close(); err != nil {
			log.Warn("closing the database connection", "err", err)
		}
	}()
	if err := op(m, log, stdout); err != nil || bootstrap == "" {
		return err
	}
	return ensureBootstrapToken(ctx, log, cfg.DatabaseURL.Reveal(), bootstrap)
}

type migrateOp func(m *postgres.Migrator, log *slog.Logger, stdout io.Writer) error

func parseMigrateArgs(args []string) (migrateOp, error) {
	want := func(n int) error {
		if len(args) != n+1 {
			return usageError(fmt.Sprintf("migrate %s takes %d argument(s)", args[0], n))
		}
		return nil
	}
	switch args[0] {
	case "up":
		return migrateUp, want(0)
	case "version":
		return migrateVersion, want(0)
	case "down":
		if err := want(1); err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 1 {
			return nil, usageError(fmt.Sprintf("migrate down needs a positive number of migrations, got %q", args[1]))
		}
		return migrateDown(n), nil
	case "force":
		if err := want(1); err != nil {
			return nil, err
		}
		v, err := strconv.Atoi(args[1])
		if err != nil || v < -1 {
			return nil, usageError(fmt.Sprintf("migrate force needs a version (-1 for none), got %q", args[1]))
		}
		return migrateForce(v), nil
	}
	return nil, usageError(fmt.Sprintf("unknown migrate subcommand %q", args[0]))
}

func migrateUp(m *postgres.Migrator, log *slog.Logger, out io.Writer) error {
	if err := m.Up(); err != nil {
		return err
	}
	return migrateVersion(m, log, out)
}

// migrateDown says so when there was nothing to revert, so that success on
// an empty database does not read as having reverted something.
func migrateDown(n int) migrateOp {
	return func(m *postgres.Migrator, log *slog.Logger, out io.Writer) error {
		reverted, err := m.Down(n)
		if err != nil {
			return err
		}
		if reverted == 0 {
			if _, err := fmt.Fprintln(out, "no migration is applied, so there is nothing to revert"); err != nil {
				return err
			}
		}
		return migrateVersion(m, log, out)
	}
}

// migrateForce logs the schema version as schema_version: every line
// already carries the build's version under "version".
func migrateForce(v int) migrateOp {
	return func(m *postgres.Migrator, log *slog.Logger, out io.Writer) error {
		if err := m.Force(v); err != nil {
			return err
		}
		log.Info("version forced; no migration was run", "schema_version", v)
		return migrateVersion(m, log, out)
	}
}

// migrateVersion is a migrateOp: it has nothing to log.
func migrateVersion(m *postgres.Migrator, _ *slog.Logger, out io.Writer) error {
	v, dirty, err := m.Version()
	if err != nil {
		return err
	}
	state := "clean"
	if dirty {
		state = "dirty"
	}
	_, err = fmt.Fprintf(out, "version %d (%s); this binary's latest is %d\n", v, state, postgres.LatestVersion())
	return err
}
