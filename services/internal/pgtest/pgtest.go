// Package pgtest gives tests a real PostgreSQL: the server at DATABASE_URL
// when it is set, otherwise a throwaway cluster started with initdb and
// pg_ctl in a temporary directory, or, on machines without those, in a
// Docker container (see ModeEnv), and removed afterwards. Each test gets a
// database of its own, so tests run in parallel without seeing each other.
//
// The throwaway cluster's superuser password is full of characters that
// must be percent-encoded in a URL, so every database test also proves that
// such passwords work.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Password is the throwaway cluster's superuser password.
const Password = `p@ss w0rd$!#'"%/\`

// RequireEnv makes a missing PostgreSQL (neither initdb nor Docker) a
// failure instead of a skip. CI sets
// it, so a broken install cannot turn the database tests green by skipping.
const RequireEnv = "GANTRY_REQUIRE_DB"

var shared struct {
	adminURL string // a superuser URL on database "postgres"
	cluster  *Cluster
	skip     string
}

// Main runs a package's tests with a server available to DB. Use it from
// TestMain: func TestMain(m *testing.M) { pgtest.Main(m) }.
func Main(m *testing.M) {
	os.Exit(runMain(m)) //nolint:revive // deep-exit: TestMain's helper, and TestMain must exit
}

func runMain(m *testing.M) int {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		shared.adminURL = u
		return m.Run()
	}
	src, err := selected()
	if errors.Is(err, errNoServer) {
		shared.skip = err.Error() + " (and DATABASE_URL is unset)"
		fmt.Fprintf(os.Stderr, "\n!!! SKIPPING DATABASE TESTS: %s !!!\n\n", shared.skip)
		return m.Run()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest: "+err.Error())
		return 1
	}
	if src.image != "" {
		fmt.Fprintf(os.Stderr, "pgtest: PostgreSQL runs in containers of %s (%s=%q)\n", src.image, ModeEnv, os.Getenv(ModeEnv))
	}
	c, err := startCluster(src)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest: "+err.Error())
		return 1
	}
	defer c.Remove()
	shared.cluster, shared.adminURL = c, c.URL("postgres")
	return m.Run()
}

// DB creates an empty database for t, dropped when t ends, and returns its
// URL. It skips t, loudly, only when there is no PostgreSQL at all.
func DB(t testing.TB) string {
	t.Helper()
	if shared.adminURL == "" {
		reason := shared.skip
		if reason == "" {
			reason = "pgtest.Main was not called from TestMain"
		}
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("%s is set but %s", RequireEnv, reason)
		}
		t.Skip("SKIPPING: " + reason)
	}
	return CreateDB(t, shared.adminURL)
}

// CreateDB creates a uniquely named database on the server of adminURL.
func CreateDB(t testing.TB, adminURL string) string {
	t.Helper()
	name := "gantry_test_" + randomHex(6)
	execSQL(t, adminURL, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() {
		execSQL(t, adminURL, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	return withDatabase(t, adminURL, name)
}

// withDatabase returns adminURL pointing at database name instead.
func withDatabase(t testing.TB, adminURL, name string) string {
	t.Helper()
	u, err := url.Parse(adminURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("pgtest needs DATABASE_URL as a postgres:// URL")
	}
	u.Path = "/" + name
	return u.String()
}

func execSQL(t testing.TB, dbURL, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: %s: %v", strings.Fields(sql)[0], err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
