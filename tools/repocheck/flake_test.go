package repocheck

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// flakeFixture is the repository's flake evaluated against the stub
// carrying the recorded pin, and the numbers to drift from.
type flakeFixture struct {
	nix, root, stub string
	facts           lockstepFacts
	pinned          map[string]string // the stub's nixpkgs: the record
	pgMajor         string
	bazelMajor      string
}

func newFlakeFixture(t *testing.T) flakeFixture {
	t.Helper()
	nix := lockstepNix()
	lockstepNeedNix(t, nix)
	root := repoRoot(t)
	fx := flakeFixture{nix: nix, root: root, stub: filepath.Join(root, ".ci", "nixstub")}
	fx.facts = lockstepReadFacts(t, root, "", fx.stub, nil)
	fx.pinned = fx.facts.record.versions()
	var err error
	if fx.pgMajor, err = lockstepComposeMajor(fx.facts); err != nil {
		t.Fatal(err)
	}
	fx.bazelMajor, _, _ = strings.Cut(fx.facts.bazelVersion, ".")
	return fx
}

// with is the recorded pin with changes on top.
func (fx flakeFixture) with(changes map[string]string) map[string]string {
	m := maps.Clone(fx.pinned)
	maps.Copy(m, changes)
	return m
}

// tree is dir == "" for the repository itself, else a copy with one edit.
func (fx flakeFixture) tree(t *testing.T, rel, re, repl string) string {
	t.Helper()
	if rel == "" {
		return fx.root
	}
	dir := lockstepCopy(t, fx.root)
	lockstepEdit(t, dir, rel, re, repl)
	return dir
}

func TestFlakeShellIsTheToolchainTheFilesAskFor(t *testing.T) {
	fx := newFlakeFixture(t)
	fl, err := lockstepEvalFlake(fx.nix, fx.stub, fx.root, "", fx.pinned)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("every system has a shell, the checks and nixfmt-tree as nix fmt", func(t *testing.T) {
		for _, s := range []string{"aarch64-darwin", "aarch64-linux", "x86_64-darwin", "x86_64-linux"} {
			if _, ok := fl.Shells[s]; !ok {
				t.Errorf("no devShells.%s.default", s)
			}
			if fl.Formatter[s] != "nixfmt-tree" {
				t.Errorf("formatter.%s is %q, want nixfmt-tree", s, fl.Formatter[s])
			}
			for _, check := range []string{"shell", "versions-agree", "recorded-versions"} {
				if _, ok := fl.Checks[s][check]; !ok {
					t.Errorf("checks.%s lacks %s: %v", s, check, fl.Checks[s])
				}
			}
		}
	})
	t.Run("the shell sets GOTOOLCHAIN=local, CGO_ENABLED=0 and USE_BAZEL_VERSION to .bazelversion", func(t *testing.T) {
		want := lockstepShellEnv{GOTOOLCHAIN: "local", CGOEnabled: "0", UseBazelVersion: fx.facts.bazelVersion}
		got := fl.Shell
		got.ShellHook = ""
		if got != want {
			t.Errorf("the shell's environment is %+v, want %+v", got, want)
		}
	})
	t.Run("the shell puts tools/bin first on PATH and warns about nothing", func(t *testing.T) {
		if !strings.Contains(fl.Shell.ShellHook, "/tools/bin:$PATH") {
			t.Errorf("the shellHook does not put tools/bin on PATH:\n%s", fl.Shell.ShellHook)
		}
		if strings.Contains(fl.Shell.ShellHook, "WARNING") {
			t.Errorf("the shellHook warns with agreeing versions:\n%s", fl.Shell.ShellHook)
		}
	})
	t.Run("the shell has the unversioned tools and no second gazelle, buildifier, buildozer or golangci-lint", func(t *testing.T) {
		shell := fl.Shells["x86_64-linux"]
		for _, want := range []string{"docker-client", "go-migrate", "gopls", "crane", "jq"} {
			if !slices.Contains(shell, want) {
				t.Errorf("the shell lacks %s: %q", want, shell)
			}
		}
		for _, unwanted := range []string{"bazel-gazelle", "bazel-buildtools", "golangci-lint", "bazelisk"} {
			if slices.Contains(shell, unwanted) {
				t.Errorf("the shell has nixpkgs' %s, a second version beside the pinned one in tools/bin: %q", unwanted, shell)
			}
		}
	})
}

// TestFlakeFollowsTheVersionFiles evaluates flake.nix with a version file
// changed and a nixpkgs that carries what it then asks for.
func TestFlakeFollowsTheVersionFiles(t *testing.T) {
	fx := newFlakeFixture(t)
	goMinor := lockstepMinor(fx.facts.goSDK)
	goMajor, goMinorN, _ := strings.Cut(goMinor, ".")
	goNext := goMajor + "." + lockstepOther(goMinorN)
	goNextAttr := "go_" + goMajor + "_" + lockstepOther(goMinorN)
	bazelNext := lockstepOther(fx.bazelMajor)
	pgNext := lockstepOther(fx.pgMajor)
	tests := []struct {
		name     string
		rel, re  string
		repl     string
		nixpkgs  map[string]string
		wantAttr string
	}{
		{
			name: "a .bazelversion of " + bazelNext + ".0.0 makes the shell take bazel_" + bazelNext,
			rel:  ".bazelversion", re: `(?s).*`, repl: bazelNext + ".0.0\n",
			nixpkgs:  map[string]string{"bazel_" + bazelNext: bazelNext + ".0.0"},
			wantAttr: "bazel_" + bazelNext,
		},
		{
			name: "a toolchain line of go" + goNext + ".2 makes the shell take " + goNextAttr,
			rel:  "go.mod", re: `(?m)^toolchain .*$`, repl: "toolchain go" + goNext + ".2",
			nixpkgs:  map[string]string{goNextAttr: goNext + ".2"},
			wantAttr: goNextAttr,
		},
		{
			name: "go.mod without a toolchain line (go mod tidy drops one equal to the go line) makes the shell take the go line's " + goNextAttr,
			rel:  "go.mod", re: `(?ms)^go .*?^toolchain [^\n]*$`, repl: "go " + goNext + ".0",
			nixpkgs:  map[string]string{goNextAttr: goNext + ".1"},
			wantAttr: goNextAttr,
		},
		{
			name: "a compose image of postgres:" + pgNext + " makes the shell take postgresql_" + pgNext,
			rel:  "compose/compose.yaml", re: `postgres:` + fx.pgMajor + `\b`, repl: "postgres:" + pgNext,
			nixpkgs:  map[string]string{"postgresql_" + pgNext: pgNext + ".1"},
			wantAttr: "postgresql_" + pgNext,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := fx.tree(t, tc.rel, tc.re, tc.repl)
			fl, err := lockstepEvalFlake(fx.nix, fx.stub, dir, "", fx.with(tc.nixpkgs))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(fl.Shells["x86_64-linux"], tc.wantAttr) {
				t.Errorf("the shell has %q, want %s among them", fl.Shells["x86_64-linux"], tc.wantAttr)
			}
		})
	}
}

// TestFlakeFailsOnDrift: what the pin cannot satisfy stops evaluation (Go,
// PostgreSQL) or fails the checks (Bazel), naming the file and versions.
func TestFlakeFailsOnDrift(t *testing.T) {
	fx := newFlakeFixture(t)
	goAttr := "go_" + strings.ReplaceAll(lockstepMinor(fx.facts.goSDK), ".", "_")
	tests := []struct {
		name    string
		attr    string // what eval.nix evaluates: "" for everything
		rel, re string // an edit of the tree, if rel is set
		repl    string
		nixpkgs map[string]string
		want    string // the evaluation error must contain it
	}{
		{
			name:    "a nixpkgs whose bazel_N is another release fails the checks, naming .bazelversion and both versions",
			attr:    "checks.x86_64-linux.versions-agree",
			nixpkgs: map[string]string{"bazel_" + fx.bazelMajor: fx.bazelMajor + ".999.0"},
			want:    fmt.Sprintf(".bazelversion says %s, but bazel_%s in nixpkgs (flake.lock) is %s.999.0", fx.facts.bazelVersion, fx.bazelMajor, fx.bazelMajor),
		},
		{
			name: "a .bazelversion whose major nixpkgs lacks fails the checks, naming .bazelversion",
			attr: "checks.x86_64-linux.versions-agree",
			rel:  ".bazelversion", re: `(?s).*`, repl: "99.0.0\n",
			want: ".bazelversion says 99.0.0, but nixpkgs (flake.lock) has no bazel_99",
		},
		{
			name: "a go line newer than nixpkgs' Go fails, naming go.mod and both versions",
			attr: "shells",
			rel:  "go.mod", re: `(?m)^go .*$`, repl: "go " + fx.facts.goSDK,
			nixpkgs: map[string]string{goAttr: lockstepMinor(fx.facts.goSDK) + ".0"},
			want:    fmt.Sprintf("go.mod's go line says %s, but %s in nixpkgs (flake.lock) is %s.0", fx.facts.goSDK, goAttr, lockstepMinor(fx.facts.goSDK)),
		},
		{
			name:    "a nixpkgs whose postgresql_N is another major fails, naming compose.yaml",
			attr:    "shells",
			nixpkgs: map[string]string{"postgresql_" + fx.pgMajor: "16.4"},
			want:    fmt.Sprintf("compose/compose.yaml runs postgres:%s, but postgresql_%s in nixpkgs (flake.lock) is 16.4", fx.pgMajor, fx.pgMajor),
		},
		{
			name:    "a nixpkgs that differs from the record fails recorded-versions, naming the record",
			attr:    "checks",
			nixpkgs: map[string]string{goAttr: lockstepMinor(fx.facts.goSDK) + ".99"},
			want:    "tools/nix/pinned-versions.json records versions that nixpkgs (flake.lock) does not carry: " + goAttr,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := fx.tree(t, tc.rel, tc.re, tc.repl)
			_, err := lockstepEvalFlake(fx.nix, fx.stub, dir, tc.attr, fx.with(tc.nixpkgs))
			if err == nil {
				t.Fatal("the flake evaluated")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("the evaluation failed without %q:\n%v", tc.want, err)
			}
		})
	}
}

// TestFlakeShellComesUpWhenBazelDrifts: the checks fail (above), but the
// shell still gives Go, Docker and PostgreSQL, and says why Bazel is gone.
func TestFlakeShellComesUpWhenBazelDrifts(t *testing.T) {
	fx := newFlakeFixture(t)
	drifted := fx.bazelMajor + ".999.0"
	dir := fx.tree(t, ".bazelversion", `(?s).*`, drifted+"\n")
	shells, err := lockstepEvalFlake(fx.nix, fx.stub, dir, "shells", fx.pinned)
	if err != nil {
		t.Fatalf("the shell does not evaluate with a drifted .bazelversion: %v", err)
	}
	env, err := lockstepEvalFlake(fx.nix, fx.stub, dir, "shell", fx.pinned)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the shell has Go, Docker and PostgreSQL but no Bazel", func(t *testing.T) {
		shell := shells.Shells["x86_64-linux"]
		goAttr := "go_" + strings.ReplaceAll(lockstepMinor(fx.facts.goSDK), ".", "_")
		for _, want := range []string{goAttr, "docker-client", "postgresql_" + fx.pgMajor} {
			if !slices.Contains(shell, want) {
				t.Errorf("the shell lacks %s: %q", want, shell)
			}
		}
		for _, attr := range shell {
			if strings.HasPrefix(attr, "bazel_") {
				t.Errorf("the shell has %s although .bazelversion says %s", attr, drifted)
			}
		}
	})
	t.Run("the shell warns, naming both versions", func(t *testing.T) {
		want := fmt.Sprintf("WARNING: .bazelversion says %s, but bazel_%s in nixpkgs (flake.lock) is %s", drifted, fx.bazelMajor, fx.pinned["bazel_"+fx.bazelMajor])
		if !strings.Contains(env.Shell.ShellHook, want) {
			t.Errorf("the shellHook lacks %q:\n%s", want, env.Shell.ShellHook)
		}
	})
}
