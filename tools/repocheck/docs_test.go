package repocheck

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/bazelbuild/buildtools/build"

	"github.com/gantry-dev/gantry/tools/bazelspec"
)

// The documentation names files, Bazel targets and commands; each must
// exist, so a rename cannot leave a newcomer with a command that fails.
// What a doc names is found by shape: links, `code` spans that look like
// repository paths or labels, and the commands in ```sh blocks.

// docFiles are README.md and every page under docs/.
func docFiles(t *testing.T, root string) []string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"README.md"}
	for _, p := range pages {
		rel, _ := filepath.Rel(root, p)
		files = append(files, filepath.ToSlash(rel))
	}
	return files
}

// generatedPaths are made by running something, never committed; a doc may
// name them without their existing in a clone.
var generatedPaths = []string{"compose/secrets/", "deploy/overlays/dev/secrets/", "compose/.env", "bazel-bin/", "bazel-", "dist/", "MODULE.bazel.lock", "result", ".direnv/"}

var (
	mdLink    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	codeSpan  = regexp.MustCompile("`([^`\n]+)`")
	shBlock   = regexp.MustCompile("(?s)```(?:sh|bash|console)\n(.*?)```")
	labelRe   = regexp.MustCompile(`^//([A-Za-z0-9_/.-]*)(?::([A-Za-z0-9_.+-]+))?$`)
	hostLike  = regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)+(:\d+)?(/|$)`)
	pathShape = regexp.MustCompile(`^\.?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.*-]+)*/?$`)
)

// docRef is one thing a doc names, and where.
type docRef struct {
	doc, what string
}

// repoPath reports whether a code span names a path in the repository:
// a known root file, or a path under an entry of the root; no URL, host,
// absolute path, placeholder or flag.
func repoPath(root, s string) bool {
	switch {
	case strings.ContainsAny(s, " <>$={}@~\\\"'"), strings.HasPrefix(s, "/"), strings.HasPrefix(s, "-"),
		strings.Contains(s, "://"), hostLike.MatchString(s), !pathShape.MatchString(s):
		return false
	}
	if first, _, ok := strings.Cut(s, "/"); ok {
		// Only under a top-level entry: net/http or 8080/tcp are no paths.
		_, err := os.Stat(filepath.Join(root, first))
		return err == nil
	}
	return slices.Contains([]string{"go.mod", "go.sum", "flake.nix", "flake.lock", "MODULE.bazel", "BUILD.bazel", ".bazelversion", ".bazelrc", ".bazelignore", ".envrc", ".golangci.yml", "renovate.json"}, s)
}

func generated(p string) bool {
	for _, g := range generatedPaths {
		if strings.HasPrefix(p, g) {
			return true
		}
	}
	return false
}

// existsInRepo checks a path relative to the root (globs allowed).
func existsInRepo(root, p string) bool {
	matches, _ := filepath.Glob(filepath.Join(root, filepath.FromSlash(strings.TrimSuffix(p, "/"))))
	return len(matches) > 0
}

// docChecks each return what a tree's docs name that does not exist.
var docChecks = map[string]func(t *testing.T, root string) []string{
	"links lead to files that exist": brokenDocLinks,
	"named files exist":              missingDocFiles,
	"named Bazel targets exist":      missingDocTargets,
	"commands in sh blocks exist":    missingDocCommands,
}

func TestDocsNameWhatExists(t *testing.T) {
	root := repoRoot(t)
	for name, check := range docChecks {
		t.Run(name, func(t *testing.T) {
			for _, p := range check(t, root) {
				t.Error(p)
			}
		})
	}
}

func brokenDocLinks(t *testing.T, root string) (problems []string) {
	for _, doc := range docFiles(t, root) {
		text := readText(t, root, doc)
		for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			p := filepath.Join(filepath.Dir(filepath.Join(root, doc)), filepath.FromSlash(target))
			if _, err := os.Stat(p); err != nil {
				problems = append(problems, fmt.Sprintf("%s links to %s, which does not exist", doc, m[1]))
			}
		}
	}
	return problems
}

func missingDocFiles(t *testing.T, root string) (problems []string) {
	for _, ref := range docCodeSpans(t, root) {
		if !repoPath(root, ref.what) || generated(ref.what) {
			continue
		}
		if !existsInRepo(root, ref.what) {
			problems = append(problems, fmt.Sprintf("%s names `%s`, which is not in the repository", ref.doc, ref.what))
		}
	}
	return problems
}

func missingDocTargets(t *testing.T, root string) (problems []string) {
	for _, ref := range docCodeSpansAndCommands(t, root) {
		for _, field := range strings.Fields(ref.what) {
			m := labelRe.FindStringSubmatch(field)
			if m == nil {
				continue
			}
			pkg, name := m[1], m[2]
			if strings.HasSuffix(pkg, "...") {
				pkg = strings.TrimSuffix(strings.TrimSuffix(pkg, "..."), "/")
				if pkg != "" && !existsInRepo(root, pkg) {
					problems = append(problems, fmt.Sprintf("%s names %s, but %s is no directory", ref.doc, field, pkg))
				}
				continue
			}
			if err := bazelTargetExists(t, root, pkg, name); err != nil {
				problems = append(problems, fmt.Sprintf("%s names %s: %v", ref.doc, field, err))
			}
		}
	}
	return problems
}

// bazelTargetExists looks for a rule called name (the package's last
// element when empty) in pkg's BUILD.bazel, or a target it outputs.
func bazelTargetExists(t *testing.T, root, pkg, name string) error {
	t.Helper()
	if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(pkg), "BUILD.bazel")); err != nil {
		return fmt.Errorf("no package %s (no BUILD.bazel)", pkg)
	}
	if name == "" {
		name = filepath.Base(pkg)
	}
	// A package whose targets a macro of its own declares is evaluated.
	if strings.Contains(readText(t, root, pkg+"/BUILD.bazel"), `load(":`) {
		p, err := bazelspec.Evaluate(root, pkg)
		if err != nil {
			return fmt.Errorf("%s/BUILD.bazel does not evaluate: %v", pkg, err)
		}
		if p.Target(name) == nil {
			return fmt.Errorf("no target %q in %s/BUILD.bazel, evaluated", name, pkg)
		}
		return nil
	}
	name = strings.TrimSuffix(name, ".digest") // oci_image_index's output
	rel := filepath.ToSlash(filepath.Join(pkg, "BUILD.bazel"))
	f, err := build.ParseBuild(rel, []byte(readText(t, root, rel)))
	if err != nil {
		return err
	}
	if !targetsOf(f)[name] {
		return fmt.Errorf("no target %q in %s/BUILD.bazel", name, pkg)
	}
	return nil
}

// missingDocCommands checks the commands in ```sh blocks: a script named
// by path exists and is executable, `go run`/`go test` packages exist, and
// `api` subcommands are the binary's.
func missingDocCommands(t *testing.T, root string) (problems []string) {
	usage := readText(t, root, "services/api/run.go")
	for _, ref := range docCommands(t, root) {
		fields := strings.Fields(ref.what)
		for i, f := range fields {
			switch {
			case i == 0 && (strings.HasPrefix(f, "./") || strings.HasPrefix(f, ".ci/") || strings.Count(f, "/") > 0 && pathShape.MatchString(f)):
				if p := notExecutable(root, f); p != "" {
					problems = append(problems, ref.doc+" runs "+f+", which "+p)
				}
			case f == "go" && i+2 < len(fields) && (fields[i+1] == "run" || fields[i+1] == "test"):
				for _, pkg := range fields[i+2:] {
					if strings.HasPrefix(pkg, "./") && !existsInRepo(root, strings.TrimSuffix(strings.TrimSuffix(pkg, "..."), "/")) {
						problems = append(problems, fmt.Sprintf("%s runs `%s`, but %s does not exist", ref.doc, ref.what, pkg))
					}
				}
			case f == "api" && i == 0 && i+1 < len(fields):
				if sub := fields[i+1]; !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(sub) + `\b`).MatchString(usage) {
					problems = append(problems, fmt.Sprintf("%s runs `api %s`, which is no command in services/api/run.go's usage", ref.doc, sub))
				}
			case f == "-f" && i+1 < len(fields) && repoPath(root, fields[i+1]):
				if !existsInRepo(root, fields[i+1]) {
					problems = append(problems, fmt.Sprintf("%s runs `%s`, but %s does not exist", ref.doc, ref.what, fields[i+1]))
				}
			}
		}
	}
	return problems
}

// notExecutable says why the script at p cannot run, or "".
func notExecutable(root, p string) string {
	fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(p)))
	switch {
	case err != nil:
		return "does not exist"
	case fi.Mode()&0o111 == 0:
		return "is not executable"
	}
	return ""
}

func readText(t *testing.T, root, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// docCodeSpans are the `code` spans outside fenced blocks.
func docCodeSpans(t *testing.T, root string) []docRef {
	t.Helper()
	var refs []docRef
	fence := regexp.MustCompile("(?s)```.*?```")
	for _, doc := range docFiles(t, root) {
		text := fence.ReplaceAllString(readText(t, root, doc), "")
		for _, m := range codeSpan.FindAllStringSubmatch(text, -1) {
			refs = append(refs, docRef{doc, m[1]})
		}
	}
	return refs
}

// docCommands are the command lines of ```sh blocks, one per line, with
// comments, prompts and `nix develop -c` prefixes removed.
func docCommands(t *testing.T, root string) []docRef {
	t.Helper()
	var refs []docRef
	for _, doc := range docFiles(t, root) {
		for _, block := range shBlock.FindAllStringSubmatch(readText(t, root, doc), -1) {
			for _, line := range strings.Split(block[1], "\n") {
				line, _, _ = strings.Cut(line, " #")
				line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "$ "))
				line = strings.TrimPrefix(line, "nix develop -c ")
				line = strings.TrimPrefix(line, "nix develop --command ")
				if line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				refs = append(refs, docRef{doc, line})
			}
		}
	}
	return refs
}

func docCodeSpansAndCommands(t *testing.T, root string) []docRef {
	return append(docCodeSpans(t, root), docCommands(t, root)...)
}

// TestDocChecksFailOnWhatIsMissing gives each check a tree whose README
// names one thing that exists and one that does not.
func TestDocChecksFailOnWhatIsMissing(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string, mode os.FileMode) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("services/api/run.go", "const usage = `\n  serve   run\n`\n", 0o644)
	write("oci/BUILD.bazel", "oci_load(name = \"load\")\n", 0o644)
	write("tools/up", "#!/bin/sh\n", 0o755)
	write("tools/notes.txt", "", 0o644)
	write("docs/ok.md", "# ok\n", 0o644)
	write("README.md", strings.Join([]string{
		"[ok](docs/ok.md) [gone](docs/gone.md)",
		"`tools/notes.txt` and `tools/missing.txt`; `//oci:load` and `//oci:lost`",
		"```sh",
		"tools/up",
		"tools/down          # gone",
		"tools/notes.txt",
		"api serve",
		"api fly",
		"go run ./tools/absent",
		"```",
	}, "\n"), 0o644)
	want := map[string][]string{
		"links lead to files that exist": {"README.md links to docs/gone.md, which does not exist"},
		"named files exist":              {"README.md names `tools/missing.txt`, which is not in the repository"},
		"named Bazel targets exist":      {`README.md names //oci:lost: no target "lost" in oci/BUILD.bazel`},
		"commands in sh blocks exist": {
			"README.md runs tools/down, which does not exist",
			"README.md runs tools/notes.txt, which is not executable",
			"README.md runs `api fly`, which is no command in services/api/run.go's usage",
			"README.md runs `go run ./tools/absent`, but ./tools/absent does not exist",
		},
	}
	for name, check := range docChecks {
		t.Run(name+" fails on exactly the missing ones", func(t *testing.T) {
			got := check(t, root)
			slices.Sort(got)
			w := slices.Clone(want[name])
			slices.Sort(w)
			if !slices.Equal(got, w) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(w, "\n"))
			}
		})
	}
}
