package manifests

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bazelbuild/buildtools/build"
	"go.yaml.in/yaml/v3"

	"github.com/gantry-dev/gantry/tools/ocispec"
)

// builtImage is what oci/BUILD.bazel says of a service's image.
type builtImage struct {
	Tag        string // what //oci:load names it in Docker
	User       string // uid:gid
	Entrypoint []string
	Repository string // where //oci:push pushes it
}

// builtImages are the images oci/ declares, by service. oci/BUILD.bazel
// declares the API's alone so far (one oci_image, one oci_load, one
// oci_push); the notifier's arrives with the per-service images, and this
// is the one place that reads them.
func builtImages(t *testing.T, root string) map[string]builtImage {
	t.Helper()
	spec, err := ocispec.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := ocispec.LoadTag(root)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, ocispec.File)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := build.ParseBuild(path, data)
	if err != nil {
		t.Fatal(err)
	}
	var repo string
	for _, r := range f.Rules("oci_push") {
		repo = r.AttrString("repository")
	}
	if repo == "" {
		t.Fatalf("%s: no oci_push with a literal repository", ocispec.File)
	}
	return map[string]builtImage{"api": {Tag: tag, User: spec.User, Entrypoint: spec.Entrypoint, Repository: repo}}
}

// composeService is what the manifests are compared with in
// compose/compose.yaml, with ${VAR:-default} read as its default.
type composeService struct {
	Image       string            `yaml:"image"`
	User        string            `yaml:"user"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
}

var composeDefault = regexp.MustCompile(`\$\{[A-Za-z0-9_]+:-([^}]*)\}`)

func readCompose(t *testing.T, root string) map[string]composeService {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "compose", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Services map[string]composeService `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatalf("compose/compose.yaml: %v", err)
	}
	for name, s := range file.Services {
		s.Image = composeDefault.ReplaceAllString(s.Image, "$1")
		file.Services[name] = s
	}
	return file.Services
}

// service is the service whose binary an image runs: gantry/api (and
// ghcr.io/gantry-dev/gantry/api, where //oci:push puts it) runs
// services/api. Other images (PostgreSQL) are none of Gantry's.
func service(image string) (string, bool) {
	dir, name := path.Split(ImageName(image))
	if dir == "gantry/" || strings.HasSuffix(dir, "/gantry/") {
		return name, true
	}
	return "", false
}
