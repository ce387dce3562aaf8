package postgres

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/golang-migrate/migrate/v4/source"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// River's schema (the job queue the webhooks use) joins the one migration
// path: each River migration, at the River version go.mod pins, is one
// version of ours, run by golang-migrate like our own files, under its
// advisory lock, with its down migration. Each runs as one statement batch,
// so in one transaction, as River's own migrator runs each in its own.
// riverVersions maps our version to River's; a River upgrade that brings a
// migration adds a line here (TestRiverMigrationsAreEachOneOfOurs fails
// until it does).
var riverVersions = map[uint]int{
	3: 1, 4: 2, 5: 3, 6: 4, 7: 5, 8: 6, 9: 7, 10: 8,
}

// riverMigrations are River's migrations by version, as its migrator has
// them (the SQL its driver embeds).
func riverMigrations() (map[int]rivermigrate.Migration, error) {
	m, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return nil, err
	}
	byVersion := map[int]rivermigrate.Migration{}
	for _, mg := range m.AllVersions() {
		byVersion[mg.Version] = mg
	}
	return byVersion, nil
}

// riverSQL is a River migration as one of ours: its SQL, with River's
// schema placeholder removed (the search_path decides, as for our tables),
// and the row River's own migrator writes in river_migration, so River's
// tools see the schema as theirs.
func riverSQL(mg rivermigrate.Migration, up bool) string {
	// From River's migration 5 on, river_migration is keyed by (line,
	// version); before it, by version alone. Migration 1 creates the table
	// and its down drops it.
	keyed := mg.Version >= 5
	var bookkeeping string
	switch {
	case up && keyed:
		bookkeeping = fmt.Sprintf("INSERT INTO river_migration (line, version) VALUES ('main', %d);", mg.Version)
	case up:
		bookkeeping = fmt.Sprintf("INSERT INTO river_migration (version) VALUES (%d);", mg.Version)
	case mg.Version == 1:
	case keyed:
		bookkeeping = fmt.Sprintf("DELETE FROM river_migration WHERE line = 'main' AND version = %d;", mg.Version)
	default:
		bookkeeping = fmt.Sprintf("DELETE FROM river_migration WHERE version = %d;", mg.Version)
	}
	sql := mg.SQLDown
	if up {
		sql = mg.SQLUp
	}
	sql = strings.ReplaceAll(sql, "/* TEMPLATE: schema */", "")
	if up {
		return sql + "\n;\n" + bookkeeping + "\n"
	}
	return bookkeeping + "\n" + sql + "\n"
}

// withRiver is src (our embedded files) with River's migrations among them.
type withRiver struct {
	files    source.Driver
	river    map[int]rivermigrate.Migration
	versions []uint // ours and River's, ascending
}

func newSourceWithRiver(files source.Driver, fileVersions []uint) (*withRiver, error) {
	river, err := riverMigrations()
	if err != nil {
		return nil, err
	}
	versions := slices.Clone(fileVersions)
	for v := range riverVersions {
		if slices.Contains(fileVersions, v) {
			return nil, fmt.Errorf("migration %d is both a file and River's migration %d", v, riverVersions[v])
		}
		versions = append(versions, v)
	}
	slices.Sort(versions)
	return &withRiver{files: files, river: river, versions: versions}, nil
}

func (s *withRiver) Open(string) (source.Driver, error) {
	return nil, errors.New("open the River-merged source with newSourceWithRiver")
}

func (s *withRiver) Close() error { return s.files.Close() }

func (s *withRiver) First() (uint, error) {
	if len(s.versions) == 0 {
		return 0, notExist("first")
	}
	return s.versions[0], nil
}

func (s *withRiver) Prev(v uint) (uint, error) {
	i, found := slices.BinarySearch(s.versions, v)
	if !found || i == 0 {
		return 0, notExist(fmt.Sprint("before ", v))
	}
	return s.versions[i-1], nil
}

func (s *withRiver) Next(v uint) (uint, error) {
	i, found := slices.BinarySearch(s.versions, v)
	if !found || i+1 >= len(s.versions) {
		return 0, notExist(fmt.Sprint("after ", v))
	}
	return s.versions[i+1], nil
}

func (s *withRiver) ReadUp(v uint) (io.ReadCloser, string, error) { return s.read(v, true) }

func (s *withRiver) ReadDown(v uint) (io.ReadCloser, string, error) { return s.read(v, false) }

func (s *withRiver) read(v uint, up bool) (io.ReadCloser, string, error) {
	rv, ok := riverVersions[v]
	if !ok {
		if up {
			return s.files.ReadUp(v)
		}
		return s.files.ReadDown(v)
	}
	mg, ok := s.river[rv]
	if !ok {
		return nil, "", notExist(fmt.Sprintf("River migration %d", rv))
	}
	return io.NopCloser(strings.NewReader(riverSQL(mg, up))), fmt.Sprintf("river_%03d_%s", rv, strings.ReplaceAll(mg.Name, " ", "_")), nil
}

// notExist is golang-migrate's "no such migration": an fs.ErrNotExist.
func notExist(what string) error {
	return &os.PathError{Op: "migration", Path: what, Err: fs.ErrNotExist}
}
