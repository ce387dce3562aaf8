package repocheck

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The docs promise a Bazel build without a C compiler. Two things make it
// true, and a change to either would break it on hosts without gcc only:
// rules_cc must not register the host's C++ toolchain (every rules_go rule
// asks for one, and registered it is configured even for pure targets), and
// every Go binary and test must be pure, so that a C toolchain registered
// some other way still builds nothing with cgo.

// noCCompilerDocs are the files that may state the promise: README.md now,
// docs/bazel.md once the Bazel section moves there.
var noCCompilerDocs = []string{"README.md", "docs/bazel.md"}

// noCCompilerSentence is how the docs state it (line breaks aside).
const noCCompilerSentence = "No C compiler is needed"

// noCppToolchainFlag stops rules_cc from registering the host's toolchain.
const noCppToolchainFlag = "common --repo_env=BAZEL_DO_NOT_DETECT_CPP_TOOLCHAIN=1"

func TestBazelNeedsNoCCompiler(t *testing.T) {
	root := repoRoot(t)

	t.Run("the docs say so", func(t *testing.T) {
		var read []string
		for _, rel := range noCCompilerDocs {
			data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			read = append(read, rel)
			if strings.Contains(strings.Join(strings.Fields(string(data)), " "), noCCompilerSentence) {
				return
			}
		}
		t.Errorf("none of %q says %q, which the repo_env line and pure = \"on\" make true: keep the sentence (or drop this test with the promise)", read, noCCompilerSentence)
	})

	t.Run(".bazelrc keeps rules_cc from registering the host's C++ toolchain", func(t *testing.T) {
		if !slices.Contains(settingLines(t, root, ".bazelrc"), noCppToolchainFlag) {
			t.Errorf(".bazelrc lacks the line %q", noCppToolchainFlag)
		}
	})

	targets := goBinariesAndTests(t, root)
	if !slices.Contains(targets, goTarget{"go_binary", "//services/api:api", "on"}) {
		t.Fatalf("found no pure go_binary //services/api:api among %v; is the search blind?", targets)
	}
	for _, tg := range targets {
		t.Run(tg.label+" ("+tg.kind+") is pure", func(t *testing.T) {
			if tg.pure != "on" {
				t.Errorf(`pure = %q; set pure = "on" (gazelle keeps it)`, tg.pure)
			}
		})
	}
}

// settingLines are the lines of a settings file (.bazelrc, .bazelignore)
// that are neither blank nor comments, trimmed; none if it does not exist.
func settingLines(t *testing.T, root, rel string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, rel))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			lines = append(lines, line)
		}
	}
	return lines
}

// goTarget is a go_binary or go_test and its pure attribute ("" if unset).
type goTarget struct{ kind, label, pure string }

// goBinariesAndTests finds every go_binary and go_test in the BUILD files
// Bazel reads: all but those under .git, bazel-* output links and the
// directories .bazelignore names.
func goBinariesAndTests(t *testing.T, root string) []goTarget {
	t.Helper()
	ignored := map[string]bool{}
	for _, line := range settingLines(t, root, ".bazelignore") {
		ignored[strings.Trim(line, "/")] = true
	}
	var targets []goTarget
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (ignored[rel] || d.Name() == ".git" || strings.HasPrefix(d.Name(), "bazel-")) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() != "BUILD.bazel" && d.Name() != "BUILD" {
			return nil
		}
		f := parseStarlark(t, rel)
		pkg := strings.TrimSuffix(path.Dir(rel), ".")
		for _, kind := range []string{"go_binary", "go_test"} {
			for _, r := range f.Rules(kind) {
				targets = append(targets, goTarget{kind, "//" + pkg + ":" + r.Name(), r.AttrString("pure")})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return targets
}
