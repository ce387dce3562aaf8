package manifests

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Component is where the prod overlay takes its images from, relative to
// the repository's root: a kustomize Component that Pin writes.
const Component = "deploy/overlays/prod/images/kustomization.yaml"

// Pinned replaces the image Name of the base with Repository@Digest.
type Pinned struct {
	Name, Repository, Digest string
}

// pushedRef is what crane prints for each image oci_push pushes:
// REPOSITORY@sha256:HEX, alone on its line or among other words.
var pushedRef = regexp.MustCompile(`[^\s@]+@sha256:[0-9a-f]{64}`)

// Pin pairs each image the base runs (names without tag, "gantry/api")
// with the reference pushed for it: the pushed repository whose last path
// element is the image's ("ghcr.io/gantry-dev/gantry/api" for gantry/api).
// Every image needs exactly one digest, and every digest an image: a
// release that pushed only some images, or the wrong ones, cannot pin.
func Pin(images []string, pushed io.Reader) ([]Pinned, error) {
	byBase := map[string]string{}
	for _, img := range images {
		byBase[path.Base(img)] = img
	}
	pins := map[string]Pinned{}
	sc := bufio.NewScanner(pushed)
	for sc.Scan() {
		for _, s := range pushedRef.FindAllString(sc.Text(), -1) {
			d, err := name.NewDigest(s)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s, err)
			}
			repo := d.Context().Name()
			img, ok := byBase[path.Base(repo)]
			if !ok {
				return nil, fmt.Errorf("%s is no image the base runs (it runs %s)", s, strings.Join(images, ", "))
			}
			p := Pinned{Name: img, Repository: repo, Digest: d.DigestStr()}
			if old, seen := pins[img]; seen && old != p {
				return nil, fmt.Errorf("two pushes for %s: %s@%s and %s; pin one release at a time", img, old.Repository, old.Digest, s)
			}
			pins[img] = p
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(pins) == 0 {
		return nil, fmt.Errorf("no pushed image (REPOSITORY@sha256:DIGEST) in the input; give it what `bazel run --config=release //oci:push` printed")
	}
	var out []Pinned
	for _, img := range slices.Sorted(slices.Values(images)) {
		p, ok := pins[img]
		if !ok {
			return nil, fmt.Errorf("no digest for %s in the input: push every image (//oci:push pushes them all) and give its whole output", img)
		}
		out = append(out, p)
	}
	return out, nil
}

// ComponentYAML is the Component file of pins.
func ComponentYAML(pins []Pinned) []byte {
	var b strings.Builder
	b.WriteString(`# The images of the prod overlay, by digest. Generated: a release writes it
# from what the push printed, and commits it.
#
#   bazel run --config=release //oci:push | go run ./tools/kube pin
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
images:
`)
	for _, p := range pins {
		fmt.Fprintf(&b, "  - name: %s\n    newName: %s\n    digest: %s\n", p.Name, p.Repository, p.Digest)
	}
	return []byte(b.String())
}
