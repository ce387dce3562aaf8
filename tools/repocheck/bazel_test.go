package repocheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/bazelbuild/buildtools/build"

	"github.com/gantry-dev/gantry/tools/gobuild"
)

// repoRoot is the checkout these tests read. Under `bazel test` there is
// none, only the runfiles of the test, so every test that needs it skips.
func repoRoot(t *testing.T) string {
	t.Helper()
	if reason := bazelTestSkip(os.Getenv); reason != "" {
		t.Skip("SKIPPING: " + reason)
	}
	root, err := gobuild.FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// bazelTestSkip says why a test that needs the source tree cannot run, or
// "". Bazel's test runner sets TEST_SRCDIR (the runfiles); `go test`, and
// `bazel run @rules_go//go -- test`, which sets BUILD_WORKSPACE_DIRECTORY
// only, do not.
func bazelTestSkip(getenv func(string) string) string {
	if getenv("TEST_SRCDIR") == "" {
		return ""
	}
	return "running under bazel test (TEST_SRCDIR is set), which gives a test its runfiles, not the source tree and the go command these checks read and run; run `go test ./tools/repocheck/` in the checkout"
}

func TestRepoChecksSkipUnderBazelTestOnly(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		skip bool
	}{
		{"go test runs them", map[string]string{}, false},
		{"bazel run @rules_go//go -- test runs them", map[string]string{"BUILD_WORKSPACE_DIRECTORY": "/src/gantry"}, false},
		{"bazel test skips them", map[string]string{"TEST_SRCDIR": "/out/repocheck_test.runfiles", "TEST_WORKSPACE": "_main"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reason := bazelTestSkip(func(k string) string { return tc.env[k] })
			if (reason != "") != tc.skip {
				t.Errorf("skip reason %q, want a skip: %v", reason, tc.skip)
			}
		})
	}
}

// parseStarlark parses a file of the repository (rel is slash-separated).
func parseStarlark(t *testing.T, rel string) *build.File {
	t.Helper()
	p := filepath.Join(repoRoot(t), filepath.FromSlash(rel))
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	parse := build.ParseBuild
	if path.Base(rel) == "MODULE.bazel" {
		parse = build.ParseModule
	}
	f, err := parse(rel, data)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// rule returns the call of the given kind and name in f.
func rule(t *testing.T, f *build.File, kind, name string) *build.Rule {
	t.Helper()
	for _, r := range f.Rules(kind) {
		if r.Name() == name {
			return r
		}
	}
	t.Fatalf("%s: no %s named %q", f.Path, kind, name)
	return nil
}

// only returns the one call of the given kind in f.
func only(t *testing.T, f *build.File, kind string) *build.Rule {
	t.Helper()
	rs := f.Rules(kind)
	if len(rs) != 1 {
		t.Fatalf("%s: %d calls of %s, want exactly one", f.Path, len(rs), kind)
	}
	return rs[0]
}

// stringDict is the literal dict value of attr (nil if absent).
func stringDict(t *testing.T, r *build.Rule, attr string) map[string]string {
	t.Helper()
	e := r.Attr(attr)
	if e == nil {
		return nil
	}
	d, ok := e.(*build.DictExpr)
	if !ok {
		t.Fatalf("%s: %s must be a dict literal", r.Name(), attr)
	}
	m := map[string]string{}
	for _, kv := range d.List {
		k, ok1 := kv.Key.(*build.StringExpr)
		v, ok2 := kv.Value.(*build.StringExpr)
		if !ok1 || !ok2 {
			t.Fatalf("%s: %s must map strings to strings", r.Name(), attr)
		}
		m[k.Value] = v.Value
	}
	return m
}

// useRepos are the repositories use_repo imports from the extension bound
// to the name ext in MODULE.bazel.
func useRepos(t *testing.T, f *build.File, ext string) []string {
	t.Helper()
	var repos []string
	for _, r := range f.Rules("use_repo") {
		if len(r.Call.List) == 0 {
			continue
		}
		if id, ok := r.Call.List[0].(*build.Ident); !ok || id.Name != ext {
			continue
		}
		for _, arg := range r.Call.List[1:] {
			s, ok := arg.(*build.StringExpr)
			if !ok {
				t.Fatalf("MODULE.bazel: use_repo(%s, ...) takes plain repository names; got %s", ext, build.FormatString(arg))
			}
			repos = append(repos, s.Value)
		}
	}
	return repos
}

// goModule is what `go mod edit -json` says about a go.mod file.
type goModule struct {
	Module    struct{ Path string }
	Go        string
	Toolchain string
	Require   []struct {
		Path     string
		Version  string
		Indirect bool
	}
	Tool []struct{ Path string }
}

func readGoMod(t *testing.T, rel string) goModule {
	t.Helper()
	cmd := exec.Command("go", "mod", "edit", "-json", filepath.FromSlash(rel))
	cmd.Dir = repoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod edit -json %s: %v", rel, err)
	}
	var m goModule
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func (m goModule) version(modulePath string) string {
	for _, r := range m.Require {
		if r.Path == modulePath {
			return r.Version
		}
	}
	return ""
}

// directRequirements are the modules gazelle's go_deps reports as direct
// dependencies of the root module (internal/bzlmod/go_deps.bzl): those not
// marked indirect, and those that may provide a package named by a tool
// directive, whatever their comment says.
func (m goModule) directRequirements() []string {
	tools := map[string]bool{}
	for _, tool := range m.Tool {
		for p := tool.Path; p != "." && p != "/"; p = path.Dir(p) {
			tools[p] = true
		}
	}
	var direct []string
	for _, r := range m.Require {
		if !r.Indirect || tools[r.Path] {
			direct = append(direct, r.Path)
		}
	}
	return direct
}

// goRepoName is the repository name go_deps gives a Go module (_repo_name in
// gazelle's internal/bzlmod/go_deps.bzl): the host's labels reversed, then
// the path, joined by "_", with every other non-alphanumeric character
// turned into "_" and letters lowered. Standalone gazelle derives the same
// names (label.ImportPathToBazelRepoName).
func goRepoName(modulePath string) string {
	segments := strings.Split(modulePath, "/")
	host := strings.Split(segments[0], ".")
	slices.Reverse(host)
	name := strings.Join(append(host, segments[1:]...), "_")
	var b strings.Builder
	for _, c := range name {
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			b.WriteRune(c)
		case 'A' <= c && c <= 'Z':
			b.WriteRune(c - 'A' + 'a')
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

func TestGoRepoNameFollowsGazelle(t *testing.T) {
	tests := []struct{ module, repo string }{
		{"github.com/jackc/pgx/v5", "com_github_jackc_pgx_v5"},
		{"go.yaml.in/yaml/v3", "in_yaml_go_yaml_v3"},
		{"github.com/golang-migrate/migrate/v4", "com_github_golang_migrate_migrate_v4"},
		{"github.com/BurntSushi/toml", "com_github_burntsushi_toml"},
		{"golang.org/x/sys", "org_golang_x_sys"},
		{"gopkg.in/yaml.v3", "in_gopkg_yaml_v3"},
	}
	for _, tc := range tests {
		t.Run(tc.module+" is repository "+tc.repo, func(t *testing.T) {
			if got := goRepoName(tc.module); got != tc.repo {
				t.Errorf("goRepoName(%q) = %q, want %q", tc.module, got, tc.repo)
			}
		})
	}
}

// The repositories MODULE.bazel imports from go_deps are exactly the
// direct requirements of go.mod; `bazel mod tidy` would rewrite anything else.
func TestUseRepoOfGoDepsIsTheDirectRequirementsOfGoMod(t *testing.T) {
	mod := parseStarlark(t, "MODULE.bazel")
	from := only(t, mod, "go_deps.from_file")
	if got := from.AttrString("go_mod"); got != "//:go.mod" {
		t.Errorf("go_deps.from_file(go_mod = %q), want \"//:go.mod\"", got)
	}

	want := map[string]string{} // repository -> module
	for _, p := range readGoMod(t, "go.mod").directRequirements() {
		want[goRepoName(p)] = p
	}
	got := map[string]bool{}
	repos := useRepos(t, mod, "go_deps")
	for _, r := range repos {
		if got[r] {
			t.Errorf("use_repo(go_deps, ...) lists %s twice", r)
		}
		got[r] = true
	}
	if !sort.StringsAreSorted(repos) {
		t.Errorf("use_repo(go_deps, ...) is not sorted (bazel mod tidy sorts it): %v", repos)
	}

	var names []string
	for r := range want {
		names = append(names, r)
	}
	for r := range got {
		if _, ok := want[r]; !ok {
			names = append(names, r)
		}
	}
	sort.Strings(names)
	for _, r := range names {
		module, direct := want[r]
		t.Run(r+" is imported exactly when go.mod requires it directly", func(t *testing.T) {
			switch {
			case direct && !got[r]:
				t.Errorf("go.mod requires %s directly, but use_repo(go_deps, ...) lacks %q", module, r)
			case !direct && got[r]:
				t.Errorf("use_repo(go_deps, ...) lists %q, which is no direct requirement of go.mod", r)
			}
		})
	}
}

// labelRef finds labels inside strings: $(execpath //x), $(location :y), ...
var labelRef = regexp.MustCompile(`\$\((?:execpaths?|rootpaths?|rlocationpaths?|locations?) ([^)\s]+)\)`)

// label is the shape of a label in this repository: no spaces, at most one
// colon, a package path of plain names.
var label = regexp.MustCompile(`^(//[A-Za-z0-9_./+-]*)?(:[^\s:]+)?$`)

// localLabels are the strings in f that are labels of this repository:
// "//pkg:name", "//pkg", ":name", "@//pkg", also inside $(location ...).
func localLabels(f *build.File) []string {
	seen := map[string]bool{}
	var labels []string
	add := func(l string) {
		if strings.HasPrefix(l, "@//") {
			l = l[1:]
		}
		if !label.MatchString(l) || seen[l] || strings.HasPrefix(l, "//visibility:") || l == "//conditions:default" {
			return // not a label, or one of Bazel's own
		}
		if strings.HasPrefix(l, "//") || strings.HasPrefix(l, ":") {
			seen[l] = true
			labels = append(labels, l)
		}
	}
	build.Walk(f, func(x build.Expr, _ []build.Expr) {
		s, ok := x.(*build.StringExpr)
		if !ok {
			return
		}
		add(s.Value)
		for _, m := range labelRef.FindAllStringSubmatch(s.Value, -1) {
			add(m[1])
		}
	})
	return labels
}

// macroTargets are the extra targets the macros used here declare beside
// their rule (rules_oci: name.digest for oci_image and oci_image_index).
var macroTargets = map[string][]string{
	"oci_image":       {".digest"},
	"oci_image_index": {".digest"},
}

// targetsOf are the targets a BUILD file declares: rule names, macro
// extras and declared outputs (out = "...").
func targetsOf(f *build.File) map[string]bool {
	targets := map[string]bool{}
	for _, r := range f.Rules("") {
		name := r.Name()
		if name == "" {
			continue
		}
		targets[name] = true
		for _, suffix := range macroTargets[r.Kind()] {
			targets[name+suffix] = true
		}
		if out := r.AttrString("out"); out != "" {
			targets[out] = true
		}
	}
	return targets
}

// Every label of this repository used in MODULE.bazel, the root BUILD.bazel
// and platforms/ names a package, and a target or file that exists in it.
// oci/'s labels are mostly made by its macro: evaluating it checks them
// (TestOCIPackageEvaluatesWithThePinnedRules).
func TestLabelsNameTargetsThatExist(t *testing.T) {
	root := repoRoot(t)
	for _, file := range []string{"MODULE.bazel", "BUILD.bazel", "platforms/BUILD.bazel"} {
		f := parseStarlark(t, file)
		filePkg := path.Dir(file)
		if filePkg == "." {
			filePkg = ""
		}
		labels := localLabels(f)
		if len(labels) == 0 && file != "platforms/BUILD.bazel" {
			t.Errorf("%s: found no labels of this repository; is the parser blind?", file)
		}
		for _, l := range labels {
			t.Run(file+" refers to "+l+", which exists", func(t *testing.T) {
				pkg, name := filePkg, ""
				switch {
				case strings.HasPrefix(l, ":"):
					name = l[1:]
				default:
					pkg, name, _ = strings.Cut(l[2:], ":")
					if name == "" {
						name = path.Base(pkg)
					}
				}
				dir := filepath.Join(root, filepath.FromSlash(pkg))
				buildFile := filepath.Join(pkg, "BUILD.bazel")
				if _, err := os.Stat(filepath.Join(root, buildFile)); err != nil {
					t.Fatalf("package //%s of %s has no BUILD.bazel", pkg, l)
				}
				if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name))); err == nil {
					return // a source file
				}
				if !targetsOf(parseStarlark(t, filepath.ToSlash(buildFile)))[name] {
					t.Errorf("//%s declares no target %q (nor is it a file there)", pkg, name)
				}
			})
		}
	}
}

// The base image is distroless static on Debian 13, pinned by the
// digest of its index, for both platforms of the image.
func TestBaseImageIsPinnedByDigestForBothPlatforms(t *testing.T) {
	mod := parseStarlark(t, "MODULE.bazel")
	pkg := evaluateOCI(t)
	pull := only(t, mod, "oci.pull")
	name := pull.Name()
	platforms := pull.AttrStrings("platforms")
	repos := useRepos(t, mod, "oci")
	tests := []struct {
		name string
		ok   bool
		got  any
	}{
		{"the image is gcr.io/distroless/static-debian13", pull.AttrString("image") == "gcr.io/distroless/static-debian13", pull.AttrString("image")},
		{"the digest is a sha256 of 64 hex digits", regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(pull.AttrString("digest")), pull.AttrString("digest")},
		{"no tag can move it", pull.Attr("tag") == nil, pull.AttrString("tag")},
		{"linux/amd64 is pulled", slices.Contains(platforms, "linux/amd64"), platforms},
		{"linux/arm64/v8 is pulled (distroless sets variant v8)", slices.Contains(platforms, "linux/arm64/v8"), platforms},
		{"use_repo imports the base and one repository per platform", slices.Equal(repos, []string{name, name + "_linux_amd64", name + "_linux_arm64_v8"}), repos},
	}
	for _, s := range readServices(t) {
		base := pkg.Target(s.Targets["image"]).String("base")
		tests = append(tests, struct {
			name string
			ok   bool
			got  any
		}{"the " + s.Name + " image is built on it", base == "@"+name, base})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Errorf("got %v", tc.got)
			}
		})
	}
}

// rules_go takes the Go SDK from go.mod (go/private/go_mod.bzl: the
// toolchain line, else the go line), which must name a full release
// (rules_go looks "1.26" up in the release list and finds nothing).
func TestGoSDKComesFromAFullToolchainVersionInGoMod(t *testing.T) {
	mod := parseStarlark(t, "MODULE.bazel")
	from := only(t, mod, "go_sdk.from_file")
	gomod := readGoMod(t, "go.mod")
	sdk := gomod.Toolchain
	if sdk == "" {
		sdk = "go" + gomod.Go
	}
	tests := []struct {
		name string
		ok   bool
		got  string
	}{
		{"go_sdk.from_file reads //:go.mod", from.AttrString("go_mod") == "//:go.mod", from.AttrString("go_mod")},
		{"go.mod's toolchain line, or else its go line, names a full release", regexp.MustCompile(`^go1\.\d+\.\d+$`).MatchString(sdk), sdk},
		{"no go_sdk.download pins a second version", len(mod.Rules("go_sdk.download")) == 0, fmt.Sprint(len(mod.Rules("go_sdk.download")))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Errorf("got %q", tc.got)
			}
		})
	}
}

// Bazel stamps the same variables that tools/gobuild sets, from keys
// tools/workspace_status.sh prints.
func TestStampingKeysComeFromWorkspaceStatus(t *testing.T) {
	cmd := exec.Command("bash", "tools/workspace_status.sh")
	cmd.Dir = repoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tools/workspace_status.sh: %v", err)
	}
	status := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		key, value, _ := strings.Cut(line, " ")
		status[key] = value != ""
	}
	for _, key := range []string{"STABLE_VERSION", "STABLE_GIT_COMMIT"} {
		t.Run("tools/workspace_status.sh prints "+key, func(t *testing.T) {
			if !status[key] {
				t.Errorf("no %q line with a value in:\n%s", key, out)
			}
		})
	}
	t.Run("the release config runs tools/workspace_status.sh", func(t *testing.T) {
		rc, err := os.ReadFile(filepath.Join(repoRoot(t), ".bazelrc"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(rc, []byte("common:release --workspace_status_command=tools/workspace_status.sh")) ||
			!bytes.Contains(rc, []byte("common:release --stamp")) {
			t.Error(".bazelrc: the release config must stamp with tools/workspace_status.sh")
		}
	})
}

// goBinary is the go_binary rule a label of this repository names.
func goBinary(t *testing.T, label string) *build.Rule {
	t.Helper()
	pkg, name, _ := strings.Cut(strings.TrimPrefix(label, "//"), ":")
	if name == "" {
		name = path.Base(pkg)
	}
	return rule(t, parseStarlark(t, pkg+"/BUILD.bazel"), "go_binary", name)
}

// Every service binary is stamped with the variables gobuild sets, and
// tagged and stripped as gobuild does.
func TestServiceBinariesAreStampedTaggedAndStrippedLikeGobuild(t *testing.T) {
	ldflags := strings.Join(gobuild.Args(gobuild.Options{Out: "x"}), " ")
	wantKeys := []string{gobuild.CommitVar, gobuild.VersionVar}
	sort.Strings(wantKeys)
	for _, s := range readServices(t) {
		bin := goBinary(t, s.Binary)
		xdefs := stringDict(t, bin, "x_defs")
		t.Run(s.Binary+": x_defs sets exactly gobuild's VersionVar and CommitVar, from stable status keys", func(t *testing.T) {
			if keys := slices.Sorted(maps.Keys(xdefs)); !slices.Equal(keys, wantKeys) {
				t.Errorf("x_defs keys %v, want %v", keys, wantKeys)
			}
			want := map[string]string{gobuild.VersionVar: "{STABLE_VERSION}", gobuild.CommitVar: "{STABLE_GIT_COMMIT}"}
			for k, v := range want {
				if xdefs[k] != v {
					t.Errorf("x_defs[%q] = %q, want %q", k, xdefs[k], v)
				}
			}
		})
		t.Run(s.Binary+" is pure and static, as gobuild's CGO_ENABLED=0", func(t *testing.T) {
			if bin.AttrString("pure") != "on" || bin.AttrString("static") != "on" {
				t.Errorf("pure = %q, static = %q; want both \"on\"", bin.AttrString("pure"), bin.AttrString("static"))
			}
		})
		t.Run(s.Binary+" has gobuild's build tags", func(t *testing.T) {
			if got := bin.AttrStrings("gotags"); !slices.Equal(got, gobuild.Tags) {
				t.Errorf("gotags = %q, want gobuild.Tags %q", got, gobuild.Tags)
			}
			if !strings.Contains(ldflags, "-tags="+strings.Join(gobuild.Tags, ",")) {
				t.Errorf("gobuild does not pass its Tags (%s)", ldflags)
			}
		})
		t.Run(s.Binary+" is stripped, as gobuild's -s -w", func(t *testing.T) {
			linkopts := bin.AttrStrings("gc_linkopts")
			if !slices.Contains(linkopts, "-s") || !slices.Contains(linkopts, "-w") {
				t.Errorf("gc_linkopts = %q, want -s and -w", linkopts)
			}
			if !strings.Contains(ldflags, "-s -w") {
				t.Errorf("gobuild no longer strips (%s): change both or neither", ldflags)
			}
		})
	}
}

// embedsrcs lists exactly the migrations on disk. rules_go embeds
// only what embedsrcs lists, so a new migration left out of it would be
// missing from the Bazel binary without any error.
func TestEmbedsrcsListsEveryMigration(t *testing.T) {
	tests := []struct{ pkg, library, dir string }{
		{"services/internal/postgres", "postgres", "migrations"},
	}
	for _, tc := range tests {
		t.Run("//"+tc.pkg+" embeds every file of "+tc.dir, func(t *testing.T) {
			lib := rule(t, parseStarlark(t, tc.pkg+"/BUILD.bazel"), "go_library", tc.library)
			entries, err := os.ReadDir(filepath.Join(repoRoot(t), tc.pkg, tc.dir))
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, e := range entries {
				if !e.IsDir() {
					want = append(want, tc.dir+"/"+e.Name())
				}
			}
			if len(want) == 0 {
				t.Fatalf("no files in %s/%s", tc.pkg, tc.dir)
			}
			var got []string
			for _, s := range lib.AttrStrings("embedsrcs") {
				if strings.HasPrefix(s, tc.dir+"/") {
					got = append(got, s)
				}
			}
			sort.Strings(got)
			if !slices.Equal(got, want) {
				t.Errorf("embedsrcs %q, files %q: run `bazel run //:gazelle` (or .ci/bazel-check)", got, want)
			}
		})
	}
}

// The standalone gazelle and buildifier of .ci/bazel-check are the versions
// Bazel uses: gazelle from MODULE.bazel, buildtools from go.mod.
func TestCheckToolsMatchTheBuild(t *testing.T) {
	tools := readGoMod(t, ".ci/tools/bazel/go.mod")
	gazelleDep := ""
	for _, r := range parseStarlark(t, "MODULE.bazel").Rules("bazel_dep") {
		if r.AttrString("name") == "gazelle" {
			gazelleDep = "v" + r.AttrString("version")
		}
	}
	tests := []struct{ name, got, want string }{
		{"gazelle in .ci/tools/bazel is MODULE.bazel's", tools.version("github.com/bazelbuild/bazel-gazelle"), gazelleDep},
		{"buildtools in .ci/tools/bazel is go.mod's", tools.version("github.com/bazelbuild/buildtools"), readGoMod(t, "go.mod").version("github.com/bazelbuild/buildtools")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got == "" || tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}
