package bazelspec

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fixture writes a small repository: MODULE.bazel, a go_binary that //oci
// may see and one it may not, the platforms, and oci/ with the given
// BUILD file and a macro file.
func fixture(t *testing.T, build string) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"MODULE.bazel": `module(name = "gantry")
bazel_dep(name = "platforms", version = "1.1.0")
bazel_dep(name = "rules_oci", version = "2.3.0")
bazel_dep(name = "tar.bzl", version = "0.10.8")
bazel_dep(name = "bazel_lib", version = "3.7.1")
bazel_dep(name = "container_structure_test", version = "1.22.1")
bazel_dep(name = "rules_shell", version = "0.8.0")
oci = use_extension("@rules_oci//oci:extensions.bzl", "oci")
use_repo(oci, "distroless_static")
`,
		"services/api/BUILD.bazel":    `go_binary(name = "api", visibility = ["//visibility:public"])`,
		"services/hidden/BUILD.bazel": `go_binary(name = "hidden")`,
		"platforms/BUILD.bazel": `package(default_visibility = ["//visibility:public"])
platform(name = "linux_amd64")
platform(name = "linux_arm64")
`,
		"oci/api.yaml": "schemaVersion: 2.0.0\n",
		"oci/image.bzl": `load("@rules_oci//oci:defs.bzl", "oci_image", "oci_load")
load("@tar.bzl", "tar")

def image(name, binary, user):
    if not binary.startswith("//"):
        fail("image(name = %r): binary must be an absolute label" % name)
    tar(
        name = name + "_layer",
        srcs = [binary],
        mtree = ["app uid=0 gid=0 mode=0755 type=file content=$(execpath %s)" % binary],
    )
    oci_image(
        name = name + "_image",
        base = "@distroless_static",
        entrypoint = ["/app"],
        tars = [":%s_layer" % name],
        user = user,
    )
    oci_load(
        name = name + "_load",
        image = ":%s_image" % name,
        repo_tags = ["gantry/%s:latest" % name],
    )
`,
		"oci/BUILD.bazel": build,
	}
	for rel, content := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const header = `load(":image.bzl", "image")
load("@rules_oci//oci:defs.bzl", "oci_image", "oci_image_index", "oci_load")
load("@tar.bzl", "tar")
load("@bazel_lib//lib:transitions.bzl", "platform_transition_filegroup")
load("@container_structure_test//:defs.bzl", "container_structure_test")
`

func TestAWellFormedPackageEvaluatesToItsTargets(t *testing.T) {
	root := fixture(t, header+`
image(name = "api", binary = "//services/api", user = "65532:65532")

platform_transition_filegroup(
    name = "api_amd64",
    srcs = [":api_image"],
    target_platform = "//platforms:linux_amd64",
)

oci_image_index(name = "index", images = [":api_amd64"])

filegroup(name = "digests", srcs = [":index.digest", ":api_image.digest"])

container_structure_test(
    name = "st",
    configs = ["api.yaml"],
    driver = "tar",
    image = select({"@platforms//cpu:arm64": ":api_load", "//conditions:default": ":api_load"}),
)
`)
	pkg, err := Evaluate(root, "oci")
	if err != nil {
		t.Fatalf("problems:\n%v", err)
	}
	calls := pkg.CallsOf("image")
	if len(calls) != 1 || calls[0].Args["name"] != "api" || calls[0].Args["binary"] != "//services/api" {
		t.Fatalf("calls of image: %+v", calls)
	}
	var declared []string
	for _, tg := range calls[0].Targets {
		if !tg.Generated {
			declared = append(declared, tg.Kind+" "+tg.Name)
		}
	}
	want := []string{"tar api_layer", "oci_image api_image", "oci_load api_load"}
	if !slices.Equal(declared, want) {
		t.Errorf("the call declared %q, want %q", declared, want)
	}
	img := pkg.Resolve("//oci:api_image")
	if img == nil || img.String("user") != "65532:65532" || !slices.Equal(img.Strings("entrypoint"), []string{"/app"}) {
		t.Errorf("api_image: %+v", img)
	}
	if d := pkg.Target("index.digest"); d == nil || !d.Generated {
		t.Errorf("oci_image_index declares no index.digest: %+v", d)
	}
}

// Each broken BUILD file fails evaluation with a problem that names the
// file, what is wrong and (for attributes) the rule source it was read from.
func TestEvaluationFindsWhatBazelsLoadingWouldRefuse(t *testing.T) {
	tests := []struct {
		name, build string
		want        []string // substrings of one problem
	}{
		{"an attribute the rule lacks",
			`oci_image(name = "i", base = "@distroless_static", entrypoints = ["/app"])`,
			[]string{"oci/BUILD.bazel:6", `oci_image "i" has no attribute "entrypoints"`, "rules_oci v2.3.0"}},
		{"a value of the wrong type",
			`oci_image(name = "i", base = "@distroless_static", user = 65532)`,
			[]string{`oci_image "i": user must be a string, not an int`}},
		{"a list where a list of labels or strings is not given",
			`oci_image(name = "i", base = "@distroless_static", cmd = {"serve": "x"})`,
			[]string{"cmd must be a list of strings or a label, not a dict"}},
		{"a value the attribute does not allow",
			`tar(name = "t", srcs = ["api.yaml"], compress = "brotli", mtree = ["x type=file content=$(execpath api.yaml)"])`,
			[]string{`compress is "brotli"; it must be one of`}},
		{"a mandatory attribute left out",
			`oci_load(name = "l", image = ":x")`,
			[]string{"mandatory attribute repo_tags is missing"}},
		{"a select() where the value is needed before configuration",
			`filegroup(name = "f", tags = select({"//conditions:default": []}))`,
			[]string{"tags takes no select()"}},
		{"a label that names no target of the package",
			`oci_image(name = "i", base = "@distroless_static", tars = [":missing_layer"])`,
			[]string{`tars: :missing_layer names no target of //oci`}},
		{"a label inside a select() that names nothing",
			`oci_load(name = "l", image = select({"@platforms//cpu:arm64": ":gone"}), repo_tags = ["a:b"])`,
			[]string{`image: :gone names no target of //oci`}},
		{"a label of a package that does not exist",
			`filegroup(name = "f", srcs = ["//services/nothere"])`,
			[]string{"//services/nothere names package //services/nothere, which has no BUILD.bazel"}},
		{"a label of a target the package may not see",
			`filegroup(name = "f", srcs = ["//services/hidden"])`,
			[]string{"may not see (its visibility)"}},
		{"a repository MODULE.bazel does not give",
			`oci_image(name = "i", base = "@distroless")`,
			[]string{"names repository @distroless, which MODULE.bazel neither depends on"}},
		{"two targets with one name",
			"filegroup(name = \"f\")\nfilegroup(name = \"f\")",
			[]string{`target "f" is declared twice`}},
		{"a target named like one a macro of the rules declares",
			"oci_image(name = \"i\", base = \"@distroless_static\")\nfilegroup(name = \"i.digest\")",
			[]string{`target "i.digest" is declared twice`}},
		{"an output file named like a source file",
			`tar(name = "t", out = "api.yaml", srcs = [], mtree = [])`,
			[]string{`output file "api.yaml" is also a source file`}},
		{"a $(execpath) of a label the rule does not depend on",
			`tar(name = "t", srcs = [], mtree = ["x type=file content=$(execpath //services/api)"])`,
			[]string{"$(execpath //services/api) names //services/api:api, which is not in srcs"}},
		{"an empty exposed_ports, which rules_oci writes as one empty port",
			`oci_image(name = "i", base = "@distroless_static", exposed_ports = [])`,
			[]string{"exposed_ports is an empty list"}},
		{"a fail() in a macro, with the line of the call",
			`image(name = "api", binary = "services/api", user = "1")`,
			[]string{"oci/BUILD.bazel:6", "oci/image.bzl:6", "binary must be an absolute label"}},
		{"a macro passing a wrong type, reported at both lines",
			`image(name = "api", binary = "//services/api", user = 1)`,
			[]string{"oci/BUILD.bazel:6 > oci/image.bzl:12", "user must be a string"}},
		{"a function defined in a BUILD file",
			"def f():\n    pass",
			[]string{"a BUILD file cannot define functions"}},
		{"a for loop at the top of a BUILD file",
			"for n in [\"a\"]:\n    filegroup(name = n)",
			[]string{"for loop not within a function"}},
		{"a load of a repository MODULE.bazel does not give",
			`load("@rules_docker//container:image.bzl", "container_image")`,
			[]string{"MODULE.bazel has no bazel_dep or use_repo giving @rules_docker"}},
		{"a load of rules whose attributes were never read",
			`load("@rules_oci//oci:pull.bzl", "oci_pull")`,
			[]string{"tools/bazelspec knows no rules of @rules_oci//oci:pull.bzl"}},
	}
	for _, tc := range tests {
		t.Run("fails on "+tc.name, func(t *testing.T) {
			_, err := Evaluate(fixture(t, header+tc.build), "oci")
			if err == nil {
				t.Fatal("no problem found")
			}
			for _, p := range AsProblems(err) {
				if containsAll(p, tc.want) {
					return
				}
			}
			t.Errorf("no problem contains all of %q; got:\n%v", tc.want, err)
		})
	}
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func TestParseLabelReadsEveryFormABuildFileWrites(t *testing.T) {
	tests := []struct {
		in   string
		want Label
	}{
		{"//services/api", Label{"", "services/api", "api"}},
		{"//services/api:api", Label{"", "services/api", "api"}},
		{":api_layer", Label{"", "oci", "api_layer"}},
		{"api.structure_test.yaml", Label{"", "oci", "api.structure_test.yaml"}},
		{"@distroless_static", Label{"distroless_static", "", "distroless_static"}},
		{"@tar.bzl", Label{"tar.bzl", "", "tar.bzl"}},
		{"@platforms//cpu:arm64", Label{"platforms", "cpu", "arm64"}},
		{"@//platforms:linux_amd64", Label{"", "platforms", "linux_amd64"}},
		{":api_index.digest", Label{"", "oci", "api_index.digest"}},
	}
	for _, tc := range tests {
		t.Run(tc.in+" is "+tc.want.String(), func(t *testing.T) {
			got, err := ParseLabel(tc.in, "oci")
			if err != nil || got != tc.want {
				t.Errorf("got %+v, %v", got, err)
			}
		})
	}
	for _, bad := range []string{"", "//a//b", "pkg:name", "//a:", "//a:b c", "@bad repo"} {
		t.Run("refuses "+bad, func(t *testing.T) {
			if _, err := ParseLabel(bad, "oci"); err == nil {
				t.Errorf("%q parsed", bad)
			}
		})
	}
}
