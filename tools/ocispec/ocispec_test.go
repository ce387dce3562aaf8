package ocispec

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// realMacro is oci/service_image.bzl of this checkout, which the tests
// evaluate as it is and broken in one place at a time.
func realMacro(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "oci", "service_image.bzl"))
	if err != nil {
		t.Skip("SKIPPING: no oci/service_image.bzl beside this package (a sandboxed test has none): " + err.Error())
	}
	return string(data)
}

const twoServices = `load(":service_image.bzl", "all_service_images", "service_image")

service_image(
    name = "api",
    binary = "//services/api",
    cmd = ["serve"],
    entrypoint = ["/usr/local/bin/api"],
    exposed_ports = ["8080/tcp"],
    labels = {"org.opencontainers.image.title": "gantry-api"},
    repository = "ghcr.io/example/api",
    tag = "gantry/api:latest",
    user = "65532:65532",
    workdir = "/home/nonroot",
)

service_image(
    name = "notifier",
    binary = "//services/notifier",
    cmd = ["serve"],
    entrypoint = ["/usr/local/bin/notifier"],
    labels = {"org.opencontainers.image.title": "gantry-notifier"},
    repository = "ghcr.io/example/notifier",
    tag = "gantry/notifier:latest",
    user = "65532:65532",
    workdir = "/home/nonroot",
)

all_service_images(services = ["api", "notifier"])
`

// tree writes a repository with two service binaries and oci/ holding the
// given macro file and BUILD file.
func tree(t *testing.T, macro, build string) string {
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
		"services/api/BUILD.bazel":      `go_binary(name = "api", visibility = ["//visibility:public"])`,
		"services/notifier/BUILD.bazel": `go_binary(name = "notifier", visibility = ["//visibility:public"])`,
		"platforms/BUILD.bazel": `package(default_visibility = ["//visibility:public"])
platform(name = "linux_amd64")
platform(name = "linux_arm64")
`,
		"oci/run_each.sh":                  "#!/bin/sh\n",
		"oci/api.structure_test.yaml":      "schemaVersion: 2.0.0\n",
		"oci/notifier.structure_test.yaml": "schemaVersion: 2.0.0\n",
		"oci/service_image.bzl":            macro,
		"oci/BUILD.bazel":                  build,
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

func TestLoadFollowsEachServiceFromItsCall(t *testing.T) {
	services, err := Load(tree(t, realMacro(t), twoServices))
	if err != nil {
		t.Fatal(err)
	}
	if got := Names(services); !reflect.DeepEqual(got, []string{"api", "notifier"}) {
		t.Fatalf("services %q", got)
	}
	api, notifier := services[0], services[1]
	wantAPI := Spec{
		Entrypoint: []string{"/usr/local/bin/api"}, Cmd: []string{"serve"}, User: "65532:65532",
		Workdir: "/home/nonroot", ExposedPorts: []string{"8080/tcp"},
		Labels: map[string]string{"org.opencontainers.image.title": "gantry-api"},
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"the api image has the call's settings", api.Spec, wantAPI},
		{"the notifier image exposes no port", notifier.Spec.ExposedPorts, []string(nil)},
		{"the binary is the call's", notifier.Binary, "//services/notifier"},
		{"its go package follows from the label", notifier.GoPackage(), "./services/notifier"},
		{"the tag is the load target's", notifier.Tag, "gantry/notifier:latest"},
		{"the repository is the push target's", api.Repository, "ghcr.io/example/api"},
		{"both platforms are built", api.Platforms, []string{"//platforms:linux_amd64", "//platforms:linux_arm64"}},
		{"the structure test reads the service's config", notifier.StructureTest, []string{"oci/notifier.structure_test.yaml"}},
		{"the targets are named for the service", notifier.Targets["load"] + " " + notifier.Targets["image_linux_arm64"], "notifier_load notifier_image_linux_arm64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !reflect.DeepEqual(tc.got, tc.want) {
				t.Errorf("got %#v, want %#v", tc.got, tc.want)
			}
		})
	}
}

// Each edit breaks the macro's wiring, or the BUILD file, in one place;
// Load must refuse it with an error that says where.
func TestLoadRefusesImagesWiredWrongly(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"an index that lacks a platform the load may choose",
			`images = [":%s_image_%s" % (name, platform) for platform in _PLATFORMS],`,
			`images = [":%s_image_linux_amd64" % name],`,
			"holds api_image_linux_amd64 but the load chooses from api_image_linux_amd64, api_image_linux_arm64"},
		{"a push of the image instead of the index",
			`image = ":%s_index" % name,`,
			`image = ":%s_image" % name,`,
			`api_push's image ":api_image" is no oci_image_index`},
		{"a structure test of the image instead of the loaded tarball",
			`image = ":%s_image_tarball" % name,`,
			`image = ":%s_load" % name,`,
			`api_structure_test's image ":api_load" is no filegroup`},
		{"an attribute the rule lacks",
			`workdir = workdir,`,
			`working_dir = workdir,`,
			`oci_image "api_image" has no attribute "working_dir"`},
	}
	for _, tc := range tests {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			macro := realMacro(t)
			if !strings.Contains(macro, tc.old) {
				t.Fatalf("oci/service_image.bzl no longer has %q: update this test", tc.old)
			}
			_, err := Load(tree(t, strings.Replace(macro, tc.old, tc.new, 1), twoServices))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one containing %q", err, tc.want)
			}
		})
	}
	t.Run("refuses an entrypoint other than where the layer puts the binary", func(t *testing.T) {
		build := strings.Replace(twoServices, `entrypoint = ["/usr/local/bin/api"]`, `entrypoint = ["/app"]`, 1)
		_, err := Load(tree(t, realMacro(t), build))
		if err == nil || !strings.Contains(err.Error(), `entrypoint must be ["/usr/local/bin/api"]`) {
			t.Fatalf("err %v", err)
		}
	})
}
