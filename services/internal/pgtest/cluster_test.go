package pgtest

import (
	"os"
	"path/filepath"
	"testing"
)

// FindBinaries prefers PATH to Debian's directories: under bazel test, PATH
// is /bin:/usr/bin:/usr/local/bin, so that is where Fedora's or a
// /usr/local PostgreSQL is found, whatever Debian has installed.
func TestFindBinariesLooksOnPathFirstAndResolvesLinks(t *testing.T) {
	tests := []struct {
		name   string
		linked bool // PATH holds links into an installation elsewhere
	}{
		{"programs on PATH are taken before Debian's", false},
		{"links on PATH lead to the installation they point into", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, err := filepath.EvalSymlinks(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			install := filepath.Join(dir, "pg", "bin")
			bin := filepath.Join(dir, "bin")
			for _, d := range []string{install, bin} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for _, name := range []string{"initdb", "pg_ctl"} {
				if err := os.WriteFile(filepath.Join(install, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
					t.Fatal(err)
				}
				if tc.linked {
					if err := os.Symlink(filepath.Join(install, name), filepath.Join(bin, name)); err != nil {
						t.Fatal(err)
					}
				}
			}
			path := install
			if tc.linked {
				path = bin
			}
			t.Setenv("PATH", path)

			got, err := FindBinaries()
			if err != nil {
				t.Fatal(err)
			}
			want := Binaries{filepath.Join(install, "initdb"), filepath.Join(install, "pg_ctl")}
			if got != want {
				t.Errorf("FindBinaries() = %+v, want %+v", got, want)
			}
			if tool := got.Tool("pgbench"); tool != filepath.Join(install, "pgbench") {
				t.Errorf("Tool(pgbench) = %s, want it beside pg_ctl in %s", tool, install)
			}
		})
	}
}
