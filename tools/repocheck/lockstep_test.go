package repocheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bazelbuild/buildtools/build"
	"go.yaml.in/yaml/v3"
)

// Every version that several files name has one source of truth:
//
//	Go          go.mod (toolchain line, else go line)  MODULE.bazel's go_sdk, flake.nix
//	Bazel       .bazelversion                          flake.nix (nixpkgs bazel_<major>)
//	PostgreSQL  compose/compose.yaml (db)              tools/pgimage, flake.nix, CI, e2e defaults
//	Debian      MODULE.bazel (distroless)              tools/imagebuild, tools/pgimage/build.sh
//	nixpkgs     flake.lock                             tools/nix/pinned-versions.json
//
// The tests here fail, naming the file to change, when a consumer drifts
// from its source. flake.nix is evaluated with nix-instantiate against
// .ci/nixstub, a fake nixpkgs whose packages record their attribute name,
// so the test sees which attributes the flake really picks; the stub
// carries the versions tools/nix/pinned-versions.json records for the real
// pin, so a version file the pin cannot satisfy fails here, offline.

// lockstepRequireNixEnv turns a missing nix-instantiate into a failure (CI
// sets it).
const lockstepRequireNixEnv = "GANTRY_REQUIRE_NIX"

// lockstepFiles are the files read here, relative to the repository root.
var lockstepFiles = []string{
	"go.mod",
	"MODULE.bazel",
	".bazelversion",
	"flake.nix",
	"compose/compose.yaml",
	"tools/pgimage/main.go",
	"tools/pgimage/build.sh",
	"tools/imagebuild/base.go",
	"tools/imagebuild/main.go",
	"compose/e2e/run",
	"compose/e2e/stack_test.go",
	".github/workflows/ci.yml",
	"flake.lock",
	pinnedRecordFile,
}

// lockstepPostgresUsers name a Postgres major that must be compose's: as
// an image tag (postgres:17), a Debian package (postgresql-17) or a path
// (/usr/lib/postgresql/17).
var lockstepPostgresUsers = []string{
	"tools/pgimage/build.sh",
	"compose/e2e/run",
	"compose/e2e/stack_test.go",
	".github/workflows/ci.yml",
}

// lockstepDebianUsers name the Debian release by its code name.
var lockstepDebianUsers = []string{
	"tools/pgimage/build.sh",
	"tools/imagebuild/main.go",
}

// lockstepDebianCodenames are Debian's releases by code name.
var lockstepDebianCodenames = map[string]string{
	"bullseye": "11",
	"bookworm": "12",
	"trixie":   "13",
	"forky":    "14",
	"duke":     "15",
}

// lockstepFlake is what .ci/nixstub/eval.nix reports about a flake.nix.
type lockstepFlake struct {
	Shells    map[string][]string          `json:"shells"` // system -> nixpkgs attributes of the shell's packages
	Shell     lockstepShellEnv             `json:"shell"`
	Checks    map[string]map[string]string `json:"checks"`
	Formatter map[string]string            `json:"formatter"`
}

// lockstepShellEnv is the x86_64-linux shell's environment.
type lockstepShellEnv struct {
	GOTOOLCHAIN     string `json:"GOTOOLCHAIN"`
	CGOEnabled      string `json:"CGO_ENABLED"`
	UseBazelVersion string `json:"USE_BAZEL_VERSION"`
	ShellHook       string `json:"shellHook"`
}

// lockstepFacts are the versions the files of one tree state.
type lockstepFacts struct {
	goLine, goToolchain string   // go.mod: "1.26.0", "1.26.8" ("" when absent)
	goSDK               string   // the Go rules_go builds with: goToolchain, else goLine
	goSDKFromFile       string   // MODULE.bazel: go_sdk.from_file(go_mod = ...)
	goSDKCalls          []string // MODULE.bazel: every go_sdk.* call
	bazelVersion        string   // .bazelversion
	composeImage        string   // compose/compose.yaml: services.db.image, defaults applied
	pgimageMajor        string   // tools/pgimage/main.go: Major
	postgresMajors      map[string][]string
	distroless          string // MODULE.bazel: oci.pull(image = ...)
	imagebuildDebian    string // tools/imagebuild/base.go: debianRelease
	debianCodenames     map[string][]string
	record              pinnedRecord   // tools/nix/pinned-versions.json
	lockedNixpkgs       lockedInput    // flake.lock's nixpkgs node
	flakeCode           string         // flake.nix without comments
	flake               *lockstepFlake // nil without nix-instantiate, or when it failed
	flakeErr            error          // why flake is nil
}

// lockstepReadFacts reads the files under root. With nix, it evaluates
// root/flake.nix against the stub in stubDir, as a nixpkgs that carries
// what the files ask for, plus extra (attribute -> version).
func lockstepReadFacts(t *testing.T, root, nix, stubDir string, extra map[string]string) lockstepFacts {
	t.Helper()
	read := func(rel string) string {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	f := lockstepFacts{
		postgresMajors:  map[string][]string{},
		debianCodenames: map[string][]string{},
	}

	gomod := read("go.mod")
	if m := regexp.MustCompile(`(?m)^go\s+(\S+)\s*$`).FindStringSubmatch(gomod); m != nil {
		f.goLine = m[1]
	}
	if m := regexp.MustCompile(`(?m)^toolchain\s+go(\S+)\s*$`).FindStringSubmatch(gomod); m != nil {
		f.goToolchain = m[1]
	}
	// As rules_go's go_sdk.from_file (go/private/go_mod.bzl) and the go
	// command read it: no toolchain line means the go line's release.
	f.goSDK = f.goToolchain
	if f.goSDK == "" {
		f.goSDK = f.goLine
	}
	f.record = readPinnedRecord(t, []byte(read(pinnedRecordFile)))
	f.lockedNixpkgs = readLockedNixpkgs(t, []byte(read("flake.lock")))

	mod, err := build.ParseModule("MODULE.bazel", []byte(read("MODULE.bazel")))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range mod.Rules("") {
		if strings.HasPrefix(r.Kind(), "go_sdk.") {
			f.goSDKCalls = append(f.goSDKCalls, r.Kind())
		}
		switch r.Kind() {
		case "go_sdk.from_file":
			f.goSDKFromFile = r.AttrString("go_mod")
		case "oci.pull":
			f.distroless = r.AttrString("image")
		}
	}

	f.bazelVersion = strings.TrimSpace(read(".bazelversion"))

	var compose struct {
		Services map[string]struct {
			Image string `yaml:"image"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal([]byte(read("compose/compose.yaml")), &compose); err != nil {
		t.Fatalf("compose/compose.yaml: %v", err)
	}
	f.composeImage = interpolate(compose.Services["db"].Image)

	f.pgimageMajor = lockstepGoConst(t, filepath.Join(root, "tools/pgimage/main.go"), "Major")
	f.imagebuildDebian = lockstepGoConst(t, filepath.Join(root, "tools/imagebuild/base.go"), "debianRelease")

	postgres := regexp.MustCompile(`\bpostgres(?:ql)?[:/-](\d+)\b`)
	for _, rel := range lockstepPostgresUsers {
		for _, m := range postgres.FindAllStringSubmatch(read(rel), -1) {
			f.postgresMajors[rel] = append(f.postgresMajors[rel], m[1])
		}
	}
	codename := regexp.MustCompile(`\b(bullseye|bookworm|trixie|forky|duke)\b`)
	for _, rel := range lockstepDebianUsers {
		for _, m := range codename.FindAllStringSubmatch(read(rel), -1) {
			f.debianCodenames[rel] = append(f.debianCodenames[rel], m[1])
		}
	}

	f.flakeCode = lockstepStripNixComments(read("flake.nix"))
	if nix != "" {
		versions := f.record.versions()
		maps.Copy(versions, extra)
		fl, err := lockstepEvalFlake(nix, stubDir, root, "", versions)
		f.flake, f.flakeErr = &fl, err
		if err != nil {
			f.flake = nil
		}
	}
	return f
}

// lockstepGoConst is the value of the string constant name in a Go file.
func lockstepGoConst(t *testing.T, file, name string) string {
	t.Helper()
	parsed, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, decl := range parsed.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if n.Name != name || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					return v
				}
			}
		}
	}
	t.Fatalf("%s: no string constant %s", file, name)
	return ""
}

// lockstepStripNixComments removes # line comments (a # at the start or
// after white space; none of flake.nix's strings has one there) and
// /* block */ comments.
func lockstepStripNixComments(s string) string {
	s = regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(s, "")
	return regexp.MustCompile(`(?m)(^|\s)#.*$`).ReplaceAllString(s, "$1")
}

// lockstepMinor is "1.26" for "1.26.8", or "" when v is no such version.
func lockstepMinor(v string) string {
	if m := regexp.MustCompile(`^(\d+\.\d+)(\.\d+)?$`).FindStringSubmatch(v); m != nil {
		return m[1]
	}
	return ""
}

// lockstepCompareVersions compares dotted numeric versions ("1.26" <
// "1.26.0" counts as equal).
func lockstepCompareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

// postgresImage is the rule for compose's db image: postgres:<major>, with
// an optional registry and namespace (docker.io/library/postgres:17, as
// Podman needs), then a patch, variant or digest. flake.nix has the same
// rule in Nix; testdata/postgres-images.json holds both to one table.
var postgresImage = regexp.MustCompile(`^(?:[^/\s"'}]+/)*postgres:(\d+)(?:[^0-9\s"'}][^\s"'}]*)?$`)

// postgresMajor is the major of a postgres image, or "".
func postgresMajor(image string) string {
	if m := postgresImage.FindStringSubmatch(image); m != nil {
		return m[1]
	}
	return ""
}

// lockstepComposeMajor is the major of compose's db image, postgres:<major>.
func lockstepComposeMajor(f lockstepFacts) (string, error) {
	major := postgresMajor(f.composeImage)
	if major == "" {
		return "", fmt.Errorf("compose/compose.yaml: the db image %q is not [registry/namespace/]postgres:<major>; change compose/compose.yaml", f.composeImage)
	}
	return major, nil
}

// lockstepNix is the path of nix-instantiate, or "" when it is missing.
func lockstepNix() string {
	p, err := exec.LookPath("nix-instantiate")
	if err != nil {
		return ""
	}
	return p
}

// lockstepNeedNix skips (or, with GANTRY_REQUIRE_NIX=1, fails) a test that
// must evaluate flake.nix on a machine without Nix.
func lockstepNeedNix(t *testing.T, nix string) {
	t.Helper()
	if nix != "" {
		return
	}
	msg := "nix-instantiate not found (apt-get install nix-bin): cannot evaluate flake.nix"
	if os.Getenv(lockstepRequireNixEnv) == "1" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPING: " + msg + "; set " + lockstepRequireNixEnv + "=1 to make this a failure")
}

// lockstepEvalFlake evaluates flakeDir/flake.nix with .ci/nixstub/eval.nix:
// all of it, or with attr one part (shells, shell, checks, formatter), which
// then lands in that field of the result.
func lockstepEvalFlake(nix, stubDir, flakeDir, attr string, versions map[string]string) (lockstepFlake, error) {
	vj, err := json.Marshal(versions)
	if err != nil {
		return lockstepFlake{}, err
	}
	args := []string{"--eval", "--strict", "--json", filepath.Join(stubDir, "eval.nix"),
		"--argstr", "flakeDir", flakeDir, "--argstr", "versionsJSON", string(vj)}
	if attr != "" {
		args = append(args, "-A", attr)
	}
	cmd := exec.Command(nix, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return lockstepFlake{}, fmt.Errorf("flake.nix does not evaluate (nixpkgs = .ci/nixstub with %s): %v\n%s", vj, err, stderr.String())
	}
	var fl lockstepFlake
	out := stdout.Bytes()
	if attr != "" {
		out = []byte(fmt.Sprintf(`{%q: %s}`, attr, out))
	}
	if err := json.Unmarshal(out, &fl); err != nil {
		return lockstepFlake{}, fmt.Errorf("eval.nix printed %q: %v", stdout.String(), err)
	}
	return fl, nil
}

// lockstepPicked is the one attribute of the shell's packages on system
// that matches re, or an error naming flake.nix.
func lockstepPicked(fl *lockstepFlake, system string, re *regexp.Regexp) (string, error) {
	var found []string
	for _, attr := range fl.Shells[system] {
		if re.MatchString(attr) {
			found = append(found, attr)
		}
	}
	if len(found) != 1 {
		return "", fmt.Errorf("flake.nix: the %s shell has %d packages matching %s (%q), want exactly one; change flake.nix", system, len(found), re, found)
	}
	return found[0], nil
}

// lockstepFlakePicks checks that every system's shell has exactly the
// attribute want among those matching re.
func lockstepFlakePicks(f lockstepFacts, re *regexp.Regexp, want, because string) error {
	if f.flake == nil {
		return f.flakeErr
	}
	if len(f.flake.Shells) == 0 {
		return errors.New("flake.nix has no devShells; change flake.nix")
	}
	for _, system := range slices.Sorted(maps.Keys(f.flake.Shells)) {
		got, err := lockstepPicked(f.flake, system, re)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("%s, so the shell needs nixpkgs' %s, but flake.nix puts %s in the %s shell: change flake.nix", because, want, got, system)
		}
	}
	return nil
}

// lockstepCheck is one pair (or more) of files that must agree.
type lockstepCheck struct {
	name  string // a sentence
	nix   bool   // evaluates flake.nix
	check func(lockstepFacts) error
}

var lockstepChecks = []lockstepCheck{
	{name: "go.mod names a full Go release: its toolchain line, or else its go line", check: func(f lockstepFacts) error {
		if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(f.goSDK) {
			return fmt.Errorf("go.mod: the toolchain line is %q and the go line %q; one of them (the toolchain line first) must name a full release such as go1.26.8, which MODULE.bazel's go_sdk.from_file and flake.nix read; change go.mod", f.goToolchain, f.goLine)
		}
		return nil
	}},
	{name: "go.mod's go line is no newer than its toolchain line", check: func(f lockstepFacts) error {
		if f.goLine == "" || f.goToolchain != "" && lockstepCompareVersions(f.goLine, f.goToolchain) > 0 {
			return fmt.Errorf("go.mod: the go line says %q and the toolchain line %q; the go line must be set and no newer; change go.mod", f.goLine, f.goToolchain)
		}
		return nil
	}},
	{name: "the version record is of flake.lock's nixpkgs", check: func(f lockstepFacts) error {
		return f.record.matches(f.lockedNixpkgs)
	}},
	{name: "every recorded version cites its evidence", check: func(f lockstepFacts) error {
		return f.record.cited()
	}},
	{name: "the pin carries exactly the Bazel of .bazelversion", check: func(f lockstepFacts) error {
		return f.record.carriesBazel(f.bazelVersion)
	}},
	{name: "the pin records the Bazel one major back, the documented fallback", check: func(f lockstepFacts) error {
		return f.record.hasFallbackBazel(f.bazelVersion)
	}},
	{name: "the pin carries go.mod's Go minor, no older than its go line", check: func(f lockstepFacts) error {
		return f.record.carriesGo(f.goSDK, f.goLine)
	}},
	{name: "the pin carries compose's PostgreSQL major", check: func(f lockstepFacts) error {
		major, err := lockstepComposeMajor(f)
		if err != nil {
			return err
		}
		return f.record.carriesPostgres(major)
	}},
	{name: "MODULE.bazel takes the Go SDK from go.mod and nowhere else", check: func(f lockstepFacts) error {
		if f.goSDKFromFile != "//:go.mod" || !slices.Equal(f.goSDKCalls, []string{"go_sdk.from_file"}) {
			return fmt.Errorf("MODULE.bazel: go_sdk calls %q with from_file(go_mod = %q), want only go_sdk.from_file(go_mod = \"//:go.mod\"), so Bazel's Go is go.mod's toolchain line; change MODULE.bazel", f.goSDKCalls, f.goSDKFromFile)
		}
		return nil
	}},
	{name: "flake.nix reads .bazelversion, go.mod and compose.yaml instead of naming versions", check: func(f lockstepFacts) error {
		for _, path := range []string{"./.bazelversion", "./go.mod", "./compose/compose.yaml"} {
			if !strings.Contains(f.flakeCode, path) {
				return fmt.Errorf("flake.nix does not read %s; change flake.nix", path)
			}
		}
		if m := regexp.MustCompile(`\b(go_\d+_\d+|bazel_\d+|postgresql_\d+|bazelisk)\b`).FindString(f.flakeCode); m != "" {
			return fmt.Errorf("flake.nix names %s itself instead of deriving it from the version files; change flake.nix", m)
		}
		return nil
	}},
	{name: "the flake's Go is the minor of go.mod's Go", nix: true, check: func(f lockstepFacts) error {
		minor := lockstepMinor(f.goSDK)
		want := "go_" + strings.ReplaceAll(minor, ".", "_")
		return lockstepFlakePicks(f, regexp.MustCompile(`^go_\d+_\d+$`), want, "go.mod asks for go"+f.goSDK)
	}},
	{name: "the flake's Bazel is the major of .bazelversion, not bazelisk", nix: true, check: func(f lockstepFacts) error {
		major, _, _ := strings.Cut(f.bazelVersion, ".")
		return lockstepFlakePicks(f, regexp.MustCompile(`^bazel(_\d+|isk)$`), "bazel_"+major, ".bazelversion says "+f.bazelVersion)
	}},
	{name: "the flake's PostgreSQL is the major of compose's image", nix: true, check: func(f lockstepFacts) error {
		major, err := lockstepComposeMajor(f)
		if err != nil {
			return err
		}
		return lockstepFlakePicks(f, regexp.MustCompile(`^postgresql_\d+$`), "postgresql_"+major, "compose/compose.yaml runs postgres:"+major)
	}},
	{name: "the test Postgres image's Major is compose's", check: func(f lockstepFacts) error {
		major, err := lockstepComposeMajor(f)
		if err != nil {
			return err
		}
		if f.pgimageMajor != major {
			return fmt.Errorf("compose/compose.yaml runs postgres:%s, but tools/pgimage/main.go has Major = %q: change tools/pgimage/main.go", major, f.pgimageMajor)
		}
		return nil
	}},
	{name: "every other file naming a Postgres major names compose's", check: func(f lockstepFacts) error {
		major, err := lockstepComposeMajor(f)
		if err != nil {
			return err
		}
		for _, rel := range lockstepPostgresUsers {
			if len(f.postgresMajors[rel]) == 0 {
				return fmt.Errorf("%s names no Postgres major (postgres:N, postgresql-N); is the pattern blind? check %s", rel, rel)
			}
			for _, got := range f.postgresMajors[rel] {
				if got != major {
					return fmt.Errorf("compose/compose.yaml runs postgres:%s, but %s names Postgres %s: change %s", major, rel, got, rel)
				}
			}
		}
		return nil
	}},
	{name: "the image tool's Debian is the distroless base's", check: func(f lockstepFacts) error {
		m := regexp.MustCompile(`^gcr\.io/distroless/static-debian(\d+)$`).FindStringSubmatch(f.distroless)
		if m == nil {
			return fmt.Errorf("MODULE.bazel: oci.pull image %q is not gcr.io/distroless/static-debianN; change MODULE.bazel", f.distroless)
		}
		if f.imagebuildDebian != m[1] {
			return fmt.Errorf("MODULE.bazel pulls %s, but tools/imagebuild/base.go has debianRelease = %q: change tools/imagebuild/base.go", f.distroless, f.imagebuildDebian)
		}
		return nil
	}},
	{name: "the Debian the scripts debootstrap is the distroless base's", check: func(f lockstepFacts) error {
		m := regexp.MustCompile(`static-debian(\d+)$`).FindStringSubmatch(f.distroless)
		if m == nil {
			return fmt.Errorf("MODULE.bazel: oci.pull image %q is not gcr.io/distroless/static-debianN; change MODULE.bazel", f.distroless)
		}
		for _, rel := range lockstepDebianUsers {
			if len(f.debianCodenames[rel]) == 0 {
				return fmt.Errorf("%s names no Debian code name; is the pattern blind? check %s", rel, rel)
			}
			for _, name := range f.debianCodenames[rel] {
				if lockstepDebianCodenames[name] != m[1] {
					return fmt.Errorf("MODULE.bazel pulls %s (Debian %s), but %s uses %s (Debian %s): change %s", f.distroless, m[1], rel, name, lockstepDebianCodenames[name], rel)
				}
			}
		}
		return nil
	}},
}

// TestVersionsAreInLockstep holds every consumer of a version to its source.
func TestVersionsAreInLockstep(t *testing.T) {
	root := repoRoot(t)
	nix := lockstepNix()
	f := lockstepReadFacts(t, root, nix, filepath.Join(root, ".ci", "nixstub"), nil)
	for _, c := range lockstepChecks {
		t.Run(c.name, func(t *testing.T) {
			if c.nix {
				lockstepNeedNix(t, nix)
			}
			if err := c.check(f); err != nil {
				t.Error(err)
			}
		})
	}
}

// lockstepCopy copies the files the checks read into a temporary tree.
func lockstepCopy(t *testing.T, root string) string {
	t.Helper()
	dir := t.TempDir()
	for _, rel := range lockstepFiles {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		lockstepWrite(t, dir, rel, string(data))
	}
	return dir
}

func lockstepWrite(t *testing.T, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// lockstepEdit rewrites a file of the tree at dir: every match of re
// becomes repl. It fails when re matches nothing, so an edit that no
// longer applies cannot pass as a drift that went unnoticed.
func lockstepEdit(t *testing.T, dir, rel, re, repl string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	rx := regexp.MustCompile(re)
	if !rx.Match(data) {
		t.Fatalf("%s: nothing matches %s; update this test", rel, re)
	}
	if err := os.WriteFile(p, rx.ReplaceAll(data, []byte(repl)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// lockstepOther is a number other than n ("17" -> "18").
// lockstepReplace is a drift case's edit: lockstepEdit of one file.
func lockstepReplace(rel, re, repl string) func(*testing.T, string) {
	return func(t *testing.T, dir string) { lockstepEdit(t, dir, rel, re, repl) }
}

func lockstepOther(n string) string {
	i, _ := strconv.Atoi(n)
	return strconv.Itoa(i + 1)
}

// lockstepPrev is the number before n ("9" -> "8").
func lockstepPrev(n string) string {
	i, _ := strconv.Atoi(n)
	return strconv.Itoa(i - 1)
}

// TestLockstepChecksFailOnDrift feeds each check a copy of the repository
// with one file drifted and expects its failure to name the file to change.
func TestLockstepChecksFailOnDrift(t *testing.T) {
	root := repoRoot(t)
	nix := lockstepNix()
	stub := filepath.Join(root, ".ci", "nixstub")
	base := lockstepReadFacts(t, root, "", stub, nil)
	pgMajor, err := lockstepComposeMajor(base)
	if err != nil {
		t.Fatal(err)
	}
	pgOther := lockstepOther(pgMajor)
	debian := regexp.MustCompile(`(\d+)$`).FindString(base.distroless)
	debianOther := lockstepOther(debian)
	goMinor := lockstepMinor(base.goSDK)
	goMajor, goMinorN, _ := strings.Cut(goMinor, ".")
	goOtherAttr := "go_" + goMajor + "_" + lockstepOther(goMinorN)
	bazelMajor, _, _ := strings.Cut(base.bazelVersion, ".")
	bazelOtherAttr := "bazel_" + lockstepOther(bazelMajor)
	pgOtherAttr := "postgresql_" + pgOther

	// A flake that names its versions instead of reading the files.
	hardCoded := fmt.Sprintf(`{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";
  outputs = { self, nixpkgs }: {
    devShells = nixpkgs.lib.genAttrs [ "x86_64-linux" "aarch64-darwin" ] (system:
      let pkgs = nixpkgs.legacyPackages.${system}; in {
        default = pkgs.mkShell { packages = [ pkgs.%s pkgs.%s pkgs.%s ]; };
      });
  };
}
`, goOtherAttr, bazelOtherAttr, pgOtherAttr)

	tests := []struct {
		drift string // what changed, a sentence
		edit  func(t *testing.T, dir string)
		fails string // the check that must fail
		names string // the file its message must name
	}{
		{
			drift: "go.mod loses its toolchain line while its go line names no full release",
			edit: func(t *testing.T, dir string) {
				lockstepEdit(t, dir, "go.mod", `(?m)^toolchain .*\n`, "")
				lockstepEdit(t, dir, "go.mod", `(?m)^go .*$`, "go "+goMinor)
			},
			fails: "go.mod names a full Go release: its toolchain line, or else its go line", names: "change go.mod",
		},
		{
			drift: "flake.lock moves to another nixpkgs commit (nix flake update)",
			edit:  lockstepReplace("flake.lock", `"rev": "[0-9a-f]{40}"`, `"rev": "0000000000000000000000000000000000000000"`),
			fails: "the version record is of flake.lock's nixpkgs", names: "refresh " + pinnedRecordFile,
		},
		{
			drift: "a recorded version loses its evidence",
			edit:  lockstepReplace(pinnedRecordFile, `"evidence":\s*"(?:[^"\\]|\\.)*"`, `"evidence": ""`),
			fails: "every recorded version cites its evidence", names: "refresh " + pinnedRecordFile,
		},
		{
			drift: ".bazelversion names a patch release the pin does not carry",
			edit:  lockstepReplace(".bazelversion", `(?s).*`, bazelMajor+".999.0\n"),
			fails: "the pin carries exactly the Bazel of .bazelversion", names: "change .bazelversion",
		},
		{
			drift: ".bazelversion names a major the pin does not record",
			edit:  lockstepReplace(".bazelversion", `(?s).*`, "0.0.1\n"),
			fails: "the pin carries exactly the Bazel of .bazelversion", names: "change .bazelversion",
		},
		{
			drift: "the record drops the Bazel one major back",
			edit:  lockstepReplace(pinnedRecordFile, `"bazel_`+lockstepPrev(bazelMajor)+`"`, `"bazel_none"`),
			fails: "the pin records the Bazel one major back, the documented fallback", names: "refresh " + pinnedRecordFile,
		},
		{
			drift: "go.mod's toolchain moves to a Go minor the pin lacks",
			edit:  lockstepReplace("go.mod", `(?m)^toolchain .*$`, "toolchain go"+goMajor+"."+lockstepOther(goMinorN)+".1"),
			fails: "the pin carries go.mod's Go minor, no older than its go line", names: "change go.mod",
		},
		{
			drift: "go.mod's go line passes the pin's Go patch release",
			edit:  lockstepReplace("go.mod", `(?m)^go .*$`, "go "+goMinor+".99"),
			fails: "the pin carries go.mod's Go minor, no older than its go line", names: "change go.mod",
		},
		{
			drift: "compose moves to a Postgres major the pin does not record",
			edit:  lockstepReplace("compose/compose.yaml", `postgres:`+pgMajor+`\b`, "postgres:"+pgOther),
			fails: "the pin carries compose's PostgreSQL major", names: "change compose/compose.yaml",
		},
		{
			drift: "go.mod's go line passes its toolchain",
			edit:  func(t *testing.T, dir string) { lockstepEdit(t, dir, "go.mod", `(?m)^go .*$`, "go 1.999.0") },
			fails: "go.mod's go line is no newer than its toolchain line", names: "change go.mod",
		},
		{
			drift: "MODULE.bazel downloads a Go SDK of its own",
			edit:  lockstepReplace("MODULE.bazel", `go_sdk\.from_file\([^)]*\)`, `go_sdk.download(version = "1.25.0")`),
			fails: "MODULE.bazel takes the Go SDK from go.mod and nowhere else", names: "change MODULE.bazel",
		},
		{
			drift: "flake.nix names its versions",
			edit:  func(t *testing.T, dir string) { lockstepWrite(t, dir, "flake.nix", hardCoded) },
			fails: "flake.nix reads .bazelversion, go.mod and compose.yaml instead of naming versions", names: "change flake.nix",
		},
		{
			drift: "flake.nix hard-codes another Go",
			edit:  func(t *testing.T, dir string) { lockstepWrite(t, dir, "flake.nix", hardCoded) },
			fails: "the flake's Go is the minor of go.mod's Go", names: "change flake.nix",
		},
		{
			drift: "flake.nix hard-codes another Bazel",
			edit:  func(t *testing.T, dir string) { lockstepWrite(t, dir, "flake.nix", hardCoded) },
			fails: "the flake's Bazel is the major of .bazelversion, not bazelisk", names: "change flake.nix",
		},
		{
			drift: "flake.nix hard-codes another PostgreSQL",
			edit:  func(t *testing.T, dir string) { lockstepWrite(t, dir, "flake.nix", hardCoded) },
			fails: "the flake's PostgreSQL is the major of compose's image", names: "change flake.nix",
		},
		{
			drift: "compose moves to the next Postgres major alone",
			edit:  lockstepReplace("compose/compose.yaml", `postgres:`+pgMajor+`\b`, "postgres:"+pgOther),
			fails: "the test Postgres image's Major is compose's", names: "change tools/pgimage/main.go",
		},
		{
			drift: "compose moves to the next Postgres major, the scripts stay",
			edit:  lockstepReplace("compose/compose.yaml", `postgres:`+pgMajor+`\b`, "postgres:"+pgOther),
			fails: "every other file naming a Postgres major names compose's", names: "change tools/pgimage/build.sh",
		},
		{
			drift: "tools/pgimage/main.go moves to another major",
			edit:  lockstepReplace("tools/pgimage/main.go", `const Major = "\d+"`, `const Major = "`+pgOther+`"`),
			fails: "the test Postgres image's Major is compose's", names: "change tools/pgimage/main.go",
		},
		{
			drift: "CI's service runs another Postgres",
			edit:  lockstepReplace(".github/workflows/ci.yml", `postgres:`+pgMajor+`\b`, "postgres:"+pgOther),
			fails: "every other file naming a Postgres major names compose's", names: "change .github/workflows/ci.yml",
		},
		{
			drift: "the e2e suite defaults to another Postgres",
			edit:  lockstepReplace("compose/e2e/stack_test.go", `postgres:`+pgMajor+`\b`, "postgres:"+pgOther),
			fails: "every other file naming a Postgres major names compose's", names: "change compose/e2e/stack_test.go",
		},
		{
			drift: "MODULE.bazel moves to another distroless Debian",
			edit:  lockstepReplace("MODULE.bazel", `static-debian`+debian+`\b`, "static-debian"+debianOther),
			fails: "the image tool's Debian is the distroless base's", names: "change tools/imagebuild/base.go",
		},
		{
			drift: "MODULE.bazel moves to another Debian, the rootfs stays",
			edit:  lockstepReplace("MODULE.bazel", `static-debian`+debian+`\b`, "static-debian"+debianOther),
			fails: "the Debian the scripts debootstrap is the distroless base's", names: "change tools/pgimage/build.sh",
		},
		{
			drift: "tools/imagebuild/base.go moves to another Debian",
			edit:  lockstepReplace("tools/imagebuild/base.go", `const debianRelease = "\d+"`, `const debianRelease = "`+debianOther+`"`),
			fails: "the image tool's Debian is the distroless base's", names: "change tools/imagebuild/base.go",
		},
	}
	checks := map[string]lockstepCheck{}
	for _, c := range lockstepChecks {
		checks[c.name] = c
	}
	tested := map[string]bool{}
	for _, tc := range tests {
		c, ok := checks[tc.fails]
		if !ok {
			t.Fatalf("no check named %q", tc.fails)
		}
		tested[tc.fails] = true
		t.Run("when "+tc.drift+", \""+tc.fails+"\" fails saying "+tc.names, func(t *testing.T) {
			useNix := ""
			if c.nix {
				lockstepNeedNix(t, nix)
				useNix = nix
			}
			dir := lockstepCopy(t, root)
			tc.edit(t, dir)
			extra := map[string]string{goOtherAttr: goMajor + "." + lockstepOther(goMinorN) + ".0", bazelOtherAttr: lockstepOther(bazelMajor) + ".0.0", pgOtherAttr: pgOther + ".0"}
			err := c.check(lockstepReadFacts(t, dir, useNix, stub, extra))
			if err == nil {
				t.Fatal("the check passed")
			}
			if !strings.Contains(err.Error(), tc.names) {
				t.Errorf("the check failed without saying %q:\n%v", tc.names, err)
			}
		})
	}
	t.Run("every check has a drift that makes it fail", func(t *testing.T) {
		for _, c := range lockstepChecks {
			if !tested[c.name] {
				t.Errorf("no drift case for %q", c.name)
			}
		}
	})
}
