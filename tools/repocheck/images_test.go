package repocheck

import (
	"fmt"
	"io/fs"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/tools/bazelspec"
	"github.com/gantry-dev/gantry/tools/ocispec"
)

// The images are declared by oci/service_image.bzl, which no Bazel runs
// here: tools/bazelspec evaluates oci/BUILD.bazel with the rules replaced by
// recorders of their pinned attributes, and these tests hold what it
// declares to the binaries, the structure tests and compose.

// evaluateOCI evaluates oci/BUILD.bazel; any problem fails the test.
func evaluateOCI(t *testing.T) *bazelspec.Package {
	t.Helper()
	pkg, err := bazelspec.Evaluate(repoRoot(t), "oci")
	if err != nil {
		t.Fatalf("%s does not evaluate:\n%v", ocispec.File, err)
	}
	return pkg
}

// readServices are the service images of oci/BUILD.bazel.
func readServices(t *testing.T) []ocispec.Service {
	t.Helper()
	services, err := ocispec.Load(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	return services
}

// hostPrograms are the go_binaries under services/ that are no service:
// they run on the host, beside the stack, and have no image. Every other
// go_binary under services/ is a service: it has a service_image call, and
// compose runs that image.
var hostPrograms = map[string]string{
	"//services/bench": "the benchmark driver runs on the host and drives the stack it measures",
}

// serviceBinaries are the labels of every go_binary under services/.
func serviceBinaries(t *testing.T) []string {
	t.Helper()
	root := repoRoot(t)
	var labels []string
	err := filepath.WalkDir(filepath.Join(root, "services"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "BUILD.bazel" {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		for _, r := range parseStarlark(t, pkg+"/BUILD.bazel").Rules("go_binary") {
			label := "//" + pkg
			if r.Name() != path.Base(pkg) {
				label += ":" + r.Name()
			}
			labels = append(labels, label)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return labels
}

// The image package evaluates without a problem, and each service_image
// declared the targets docs/bazel.md lists, of the kinds it says; the
// targets over every image take in every service.
func TestOCIPackageEvaluatesWithThePinnedRules(t *testing.T) {
	pkg := evaluateOCI(t)
	services := readServices(t)
	kinds := map[string]string{
		"layer": "tar", "image": "oci_image", "image_linux_amd64": "platform_transition_filegroup",
		"image_linux_arm64": "platform_transition_filegroup", "index": "oci_image_index", "load": "oci_load",
		"push": "oci_push", "structure_test": "container_structure_test", "tarball": "filegroup",
	}
	for _, s := range services {
		for _, role := range slices.Sorted(maps.Keys(kinds)) {
			kind := kinds[role]
			want := s.Name + "_" + role
			if role == "tarball" {
				want = s.Name + "_image_tarball"
			}
			t.Run("//oci:"+want+" is the "+kind+" of "+s.Name, func(t *testing.T) {
				target := pkg.Target(s.Targets[role])
				if target == nil || target.Name != want || target.Kind != kind {
					t.Errorf("the %s of %s is %+v", role, s.Name, target)
				}
			})
		}
	}
	for _, agg := range []struct{ name, kind, attr, role, format string }{
		{"load", "sh_binary", "data", "load", ":%s"},
		{"push", "sh_binary", "data", "push", ":%s"},
		{"structure_test", "test_suite", "tests", "structure_test", ":%s"},
		{"digests", "filegroup", "srcs", "index", ":%s.digest"},
	} {
		t.Run("//oci:"+agg.name+" takes in every service's "+agg.role, func(t *testing.T) {
			target := pkg.Target(agg.name)
			if target == nil || target.Kind != agg.kind {
				t.Fatalf("//oci:%s is %+v, want a %s", agg.name, target, agg.kind)
			}
			var want []string
			for _, s := range services {
				want = append(want, fmt.Sprintf(agg.format, s.Targets[agg.role]))
			}
			if got := target.Strings(agg.attr); !slices.Equal(got, want) {
				t.Errorf("%s = %q, want %q: list every service_image in all_service_images", agg.attr, got, want)
			}
		})
	}
	for _, runner := range []string{"load", "push"} {
		t.Run("//oci:"+runner+" runs each target it holds, then passes on what follows --", func(t *testing.T) {
			target := pkg.Target(runner)
			var want []string
			for _, d := range target.Strings("data") {
				want = append(want, "$(rlocationpath "+d+")")
			}
			if got := target.Strings("args"); !slices.Equal(got, append(want, "--")) {
				t.Errorf("args = %q, want %q", got, append(want, "--"))
			}
		})
	}
}

// Each go_binary under services/ but the host programs has an image, and
// each image's binary is a go_binary under services/.
func TestEveryServiceBinaryHasAnImage(t *testing.T) {
	root := repoRoot(t)
	images := map[string]string{}
	for _, s := range readServices(t) {
		images[s.Binary] = s.Name
		t.Run("the "+s.Name+" image holds a go_binary of services/", func(t *testing.T) {
			kind, err := bazelspec.RuleKind(root, s.Binary)
			if err != nil || kind != "go_binary" || !strings.HasPrefix(s.Binary, "//services/") {
				t.Errorf("%s is %q (%v); want a go_binary under services/", s.Binary, kind, err)
			}
		})
	}
	binaries := serviceBinaries(t)
	for _, bin := range binaries {
		if why, ok := hostPrograms[bin]; ok {
			t.Logf("%s has no image: %s", bin, why)
			continue
		}
		t.Run(bin+" has an image", func(t *testing.T) {
			if _, ok := images[bin]; !ok {
				t.Errorf("%s is a service binary with no service_image call in %s: add one (docs/bazel.md, Adding a service), or list it in hostPrograms with the reason it has none", bin, ocispec.File)
			}
		})
	}
	for bin := range hostPrograms {
		t.Run("host program "+bin+" exists", func(t *testing.T) {
			if !slices.Contains(binaries, bin) {
				t.Errorf("hostPrograms lists %s, which is no go_binary under services/", bin)
			}
		})
	}
}

// portNumber drops the protocol: "8080/tcp" -> "8080".
func portNumber(p string) string {
	n, _, _ := strings.Cut(p, "/")
	return n
}

// structureTest is the part of a structure test config checked here.
type structureTest struct {
	MetadataTest struct {
		Entrypoint   []string `yaml:"entrypoint"`
		Cmd          []string `yaml:"cmd"`
		User         string   `yaml:"user"`
		Workdir      string   `yaml:"workdir"`
		ExposedPorts []string `yaml:"exposedPorts"`
	} `yaml:"metadataTest"`
	FileExistenceTests []struct {
		Path        string `yaml:"path"`
		ShouldExist bool   `yaml:"shouldExist"`
	} `yaml:"fileExistenceTests"`
}

// Each image's settings agree with its layer and its structure test.
func TestImageLayerAndStructureTestAgree(t *testing.T) {
	for _, s := range readServices(t) {
		if len(s.StructureTest) != 1 {
			t.Errorf("%s: %d structure test configs, want its own one", s.Name, len(s.StructureTest))
			continue
		}
		var st structureTest
		readYAML(t, s.StructureTest[0], &st)
		shouldExist := map[string]bool{}
		for _, fe := range st.FileExistenceTests {
			shouldExist[fe.Path] = fe.ShouldExist
		}
		var ports []string
		for _, p := range s.Spec.ExposedPorts {
			ports = append(ports, portNumber(p))
		}
		binary := s.Spec.Binary()
		tests := []struct {
			name      string
			got, want any
		}{
			{"the entrypoint", st.MetadataTest.Entrypoint, s.Spec.Entrypoint},
			{"the cmd", st.MetadataTest.Cmd, s.Spec.Cmd},
			{"the user", st.MetadataTest.User, s.Spec.User},
			{"the workdir", st.MetadataTest.Workdir, s.Spec.Workdir},
			{"the exposed ports", st.MetadataTest.ExposedPorts, ports},
			{"the binary to exist", shouldExist[binary], true},
			{"no /bin/sh", shouldExist["/bin/sh"], false},
			{"no /busybox/sh", shouldExist["/busybox/sh"], false},
		}
		for _, tc := range tests {
			t.Run(s.StructureTest[0]+" expects "+tc.name, func(t *testing.T) {
				if fmt.Sprint(tc.got) != fmt.Sprint(tc.want) {
					t.Errorf("got %v, want %v", tc.got, tc.want)
				}
			})
		}
		t.Run("the "+s.Name+" layer puts its binary at the entrypoint", func(t *testing.T) {
			want := strings.TrimPrefix(binary, "/") + " "
			content := "content=$(execpath " + s.Binary + ")"
			for _, line := range s.LayerMtree {
				if strings.HasPrefix(line, want) {
					if !strings.Contains(line, content) || !strings.Contains(line, "mode=0755") || !strings.Contains(line, "uid=0") {
						t.Errorf("mtree line %q: want %s, uid=0 and mode=0755", line, content)
					}
					return
				}
			}
			t.Errorf("no mtree line of the layer starts with %q: %q", want, s.LayerMtree)
		})
	}
}
