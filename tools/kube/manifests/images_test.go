package manifests

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

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

// builtImages are the images oci/ declares (its service_image calls, as
// tools/ocispec evaluates them), by service.
func builtImages(t *testing.T, root string) map[string]builtImage {
	t.Helper()
	services, err := ocispec.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	images := map[string]builtImage{}
	for _, s := range services {
		images[s.Name] = builtImage{Tag: s.Tag, User: s.Spec.User, Entrypoint: s.Spec.Entrypoint, Repository: s.Repository}
	}
	return images
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
