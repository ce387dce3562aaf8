package manifests

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/gantry-dev/gantry/tools/kube/cluster"
)

var (
	images         = []string{"gantry/api", "gantry/notifier"}
	digestA        = "sha256:" + strings.Repeat("a", 64)
	digestB        = "sha256:" + strings.Repeat("b", 64)
	pushedAPI      = "ghcr.io/gantry-dev/gantry/api@" + digestA
	pushedNotifier = "ghcr.io/gantry-dev/gantry/notifier@" + digestB
)

func TestPinPairsEachImageWithItsPush(t *testing.T) {
	// What `bazel run //oci:push` prints: Bazel's lines, then crane's
	// reference for each image pushed.
	out := "INFO: Running command line: bazel-bin/oci/push\n" + pushedAPI + "\n" + "2026/11/30 tagged latest\n" + pushedNotifier + "\n"
	pins, err := Pin(images, strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	want := []Pinned{
		{Name: "gantry/api", Repository: "ghcr.io/gantry-dev/gantry/api", Digest: digestA},
		{Name: "gantry/notifier", Repository: "ghcr.io/gantry-dev/gantry/notifier", Digest: digestB},
	}
	if !slices.Equal(pins, want) {
		t.Fatalf("got %v, want %v", pins, want)
	}
}

func TestPinRefusesAnIncompleteOrForeignPush(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"nothing pushed", "INFO: Build completed successfully\n", "no pushed image"},
		{"one image of two", pushedAPI + "\n", "no digest for gantry/notifier"},
		{"an image the base does not run", pushedAPI + "\n" + pushedNotifier + "\nghcr.io/gantry-dev/gantry/worker@" + digestA + "\n", "worker@" + digestA + " is no image the base runs"},
		{"two releases of one image", pushedAPI + "\n" + pushedNotifier + "\nghcr.io/gantry-dev/gantry/api@" + digestB + "\n", "two pushes for gantry/api"},
	}
	for _, tt := range tests {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			_, err := Pin(images, strings.NewReader(tt.input))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
}

// The committed Component is what pin writes for its own references, and
// pins every image the base runs: the prod overlay is never by tag.
func TestTheCommittedPinsAreWhatPinWrites(t *testing.T) {
	root := cluster.RepoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, Component))
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	re := regexp.MustCompile(`(?m)^    newName: (\S+)\n    digest: (\S+)$`)
	for _, m := range re.FindAllStringSubmatch(string(data), -1) {
		refs = append(refs, m[1]+"@"+m[2])
	}
	base, _, err := Render(filesys.MakeFsOnDisk(), filepath.Join(root, "deploy", "base"))
	if err != nil {
		t.Fatal(err)
	}
	pins, err := Pin(Images(base), strings.NewReader(strings.Join(refs, "\n")))
	if err != nil {
		t.Fatalf("%s: %v", Component, err)
	}
	if got := ComponentYAML(pins); string(got) != string(data) {
		t.Errorf("%s is not what `go run ./tools/kube pin` writes for its digests:\n%s", Component, got)
	}
	for _, p := range pins {
		if p.Digest == "sha256:"+strings.Repeat("0", 64) {
			t.Logf("%s is not released yet: its digest is the placeholder of zeros until a release pins it", p.Name)
		}
	}
}
