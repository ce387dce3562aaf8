package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/services/internal/pgtest"
	"github.com/gantry-dev/gantry/services/internal/postgres"
)

// Each case is something a person may type at the wrong moment. Whatever
// the answer, the schema must be where `migrate version` says it is, and a
// refusal must have changed nothing.
func TestMigrateAnswersEveryRequestClearlyAndNeverLeavesThingsHalfDone(t *testing.T) {
	t.Parallel()
	vs := postgres.Versions()
	n, latest := len(vs), fmt.Sprintf("version %d (clean)", vs[len(vs)-1])
	names := make([]string, n)
	for i, v := range vs {
		names[i] = fmt.Sprint(v)
	}
	tests := []struct {
		name    string
		up      bool // run `migrate up` first
		args    []string
		code    int
		want    []string // in stdout on success, in the last line of stderr otherwise
		version string   // what `migrate version` says afterwards
	}{
		{"down on an empty database succeeds and says nothing was applied", false,
			[]string{"down", "1"}, 0, []string{"nothing to revert", "version 0 (clean)"}, "version 0 (clean)"},
		{"down by more than is applied refuses and reverts nothing", true,
			[]string{"down", fmt.Sprint(n + 3)}, 1, []string{fmt.Sprintf("only %d migrations are applied", n), "nothing was reverted", fmt.Sprintf("`api migrate down %d`", n)}, latest},
		{"down by exactly what is applied reverts it all", true,
			[]string{"down", fmt.Sprint(n)}, 0, []string{"version 0 (clean)"}, "version 0 (clean)"},
		{"force to a version this binary lacks refuses and names the ones it has", true,
			[]string{"force", "99"}, 1, []string{"no migration 99", "-1", "versions: " + strings.Join(names, ", ")}, latest},
		{"force to -1 records that nothing is applied", true,
			[]string{"force", "-1"}, 0, []string{"version 0 (clean)"}, "version 0 (clean)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := []string{"DATABASE_URL=" + pgtest.DB(t)}
			if tt.up {
				mustRun(t, env, "migrate", "up")
			}
			code, stdout, stderr := runBinary(t, env, append([]string{"migrate"}, tt.args...)...)
			got := stdout
			if tt.code != 0 {
				got = lastLine(stderr)
			}
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stdout %q stderr %s", code, tt.code, stdout, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
			if v := mustRun(t, env, "migrate", "version"); !strings.Contains(v, tt.version) {
				t.Errorf("afterwards %q, want %q", v, tt.version)
			}
		})
	}
}

// Every log line already carries the build's "version"; a second key of the
// same name leaves JSON readers to pick one, and most keep the last.
func TestMigrateLogsTheSchemaVersionUnderItsOwnKey(t *testing.T) {
	t.Parallel()
	env := []string{"DATABASE_URL=" + migratedDB(t), "LOG_FORMAT=json"}
	_, _, stderr := runBinary(t, env, "migrate", "force", "1")
	if !strings.Contains(stderr, `"schema_version":1`) {
		t.Errorf("no schema_version in the logs:\n%s", stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if n := strings.Count(line, `"version":`); n != 1 {
			t.Errorf("%d version keys in %s", n, line)
		}
	}
}

// mustRun runs the binary and returns its stdout, failing on a non-zero exit.
func mustRun(t *testing.T, env []string, args ...string) string {
	t.Helper()
	code, stdout, stderr := runBinary(t, env, args...)
	if code != 0 {
		t.Fatalf("%s: exit %d %s", strings.Join(args, " "), code, stderr)
	}
	return stdout
}
