package postgres_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/gantry-dev/gantry/services/internal/pgtest"
	"github.com/gantry-dev/gantry/services/internal/postgres"
)

// schemaOf is every table column, index, constraint, function, trigger and
// enum label of the public schema, one sorted line each: what two databases
// must share to have the same schema.
func schemaOf(t *testing.T, url string) string {
	t.Helper()
	const q = `
SELECT coalesce(string_agg(x, E'\n' ORDER BY x), '') FROM (
  SELECT format('column %s.%s %s %s default=%s', table_name, column_name, data_type, is_nullable, column_default) AS x
    FROM information_schema.columns WHERE table_schema = 'public'
  UNION ALL SELECT format('index %s', indexdef) FROM pg_indexes WHERE schemaname = 'public'
  UNION ALL SELECT format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL SELECT format('function %s %s', proname, md5(prosrc)) FROM pg_proc WHERE pronamespace = 'public'::regnamespace
  UNION ALL SELECT format('trigger %s %s %s', tgrelid::regclass, tgname, pg_get_triggerdef(oid)) FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL SELECT format('enum %s %s %s', t.typname, e.enumsortorder, e.enumlabel)
    FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typnamespace = 'public'::regnamespace
  UNION ALL SELECT format('table %s unlogged=%s', relname, relpersistence = 'u') FROM pg_class
    WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'
) s`
	conn := mustConn(t, url)
	var s string
	if err := conn.QueryRow(context.Background(), q).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// River's own migrator, asked after our `migrate up`, finds its schema
// complete: its bookkeeping is what it would have written itself.
func TestRiverSeesItsSchemaCompleteAfterOurMigrations(t *testing.T) {
	t.Parallel()
	url := pgtest.DB(t)
	migrateUp(t, url)
	pool := newPool(t, url)
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Validate(context.Background(), nil)
	if err != nil || !res.OK {
		t.Fatalf("River's Validate after migrate up: %+v, %v", res, err)
	}
}

// Our path builds River's tables exactly as River's own migrator does,
// but for the two GIN indexes migration 12 drops.
func TestOurPathBuildsRiversSchemaAsRiverDoes(t *testing.T) {
	t.Parallel()
	ours, theirs := pgtest.DB(t), pgtest.DB(t)
	migrateUp(t, ours)
	pool := newPool(t, theirs)
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Migrate(context.Background(), rivermigrate.DirectionUp, nil); err != nil {
		t.Fatal(err)
	}
	dropped := []string{"index CREATE INDEX river_job_args_index ON public.river_job USING gin (args)",
		"index CREATE INDEX river_job_metadata_index ON public.river_job USING gin (metadata)"}
	river := func(schema string) string {
		var lines []string
		for _, l := range strings.Split(schema, "\n") {
			if strings.Contains(l, "river_") && !slices.Contains(dropped, l) {
				lines = append(lines, l)
			}
		}
		return strings.Join(lines, "\n")
	}
	for _, l := range dropped {
		if !strings.Contains(schemaOf(t, theirs), l+"\n") {
			t.Errorf("River's migrator no longer makes %q: migration 12 and this test need a look", l)
		}
		if strings.Contains(schemaOf(t, ours), l) {
			t.Errorf("our path still has %q", l)
		}
	}
	if a, b := river(schemaOf(t, ours)), river(schemaOf(t, theirs)); a != b || a == "" {
		t.Fatalf("River's tables differ:\nours:\n%s\n\nRiver's migrator:\n%s", a, b)
	}
}

// A database of the release before River (migrated to version 2, with
// data) upgraded by `migrate up` ends in the schema of a fresh one; and
// down to nothing then up again ends there too.
func TestAFreshAndAnUpgradedDatabaseEndInTheSameSchema(t *testing.T) {
	t.Parallel()
	fresh, upgraded := pgtest.DB(t), pgtest.DB(t)
	migrateUp(t, fresh)
	want := schemaOf(t, fresh)

	// The release before River had migrations 1 and 2.
	m := openMigrator(t, upgraded)
	if err := m.Up(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Down(len(postgres.Versions()) - 2); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := m.Version(); v != 2 {
		t.Fatalf("at version %d, want 2", v)
	}
	conn := mustConn(t, upgraded)
	if _, err := conn.Exec(context.Background(), `INSERT INTO tasks (title) VALUES ('from before the upgrade')`); err != nil {
		t.Fatal(err)
	}
	if err := m.Up(); err != nil {
		t.Fatal(err)
	}
	if got := schemaOf(t, upgraded); got != want {
		t.Fatalf("the upgraded schema differs from a fresh one:\n%s", lineDiff(want, got))
	}

	if _, err := m.Down(len(postgres.Versions())); err != nil {
		t.Fatal(err)
	}
	if leftover := schemaOf(t, upgraded); strings.Contains(leftover, "river_") || strings.Contains(leftover, "tasks") {
		t.Fatalf("down to nothing left:\n%s", leftover)
	}
	if err := m.Up(); err != nil {
		t.Fatal(err)
	}
	if got := schemaOf(t, upgraded); got != want {
		t.Fatalf("down and up again differs from a fresh schema:\n%s", lineDiff(want, got))
	}
}

// River's reindexer is given exactly the indexes River's tables have after
// our migrations: none it would look for in vain, none of River's left out.
func TestRiversReindexerIsGivenTheIndexesThatExist(t *testing.T) {
	t.Parallel()
	url := pgtest.DB(t)
	migrateUp(t, url)
	conn := mustConn(t, url)
	rows, err := conn.Query(context.Background(), `SELECT indexname FROM pg_indexes WHERE tablename = 'river_job' ORDER BY indexname`)
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		have = append(have, name)
	}
	want := slices.Sorted(slices.Values(postgres.RiverReindexed()))
	for _, name := range want {
		if !slices.Contains(have, name) {
			t.Errorf("the reindexer is given %s, which does not exist (river_job has %v)", name, have)
		}
	}
	for _, name := range []string{"river_job_args_index", "river_job_metadata_index"} {
		if slices.Contains(have, name) || slices.Contains(want, name) {
			t.Errorf("%s is still there or still reindexed", name)
		}
	}
}

func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out []string
	for _, l := range w {
		if !slices.Contains(g, l) {
			out = append(out, "- "+l)
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

func newPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := postgres.NewPool(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}
