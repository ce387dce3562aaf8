// Package ocispec reads the API image's settings from oci/BUILD.bazel, the
// one place they are written down. The image tool builds the same image
// without Bazel from them, and the repository checks compare them with
// compose.yaml, so the three cannot drift apart.
package ocispec

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/bazelbuild/buildtools/build"
)

// Spec is the runtime configuration of the API image.
type Spec struct {
	Entrypoint   []string
	Cmd          []string
	User         string
	Workdir      string
	ExposedPorts []string
	Labels       map[string]string
	Env          map[string]string
}

// Binary is where the image keeps the service binary: its entrypoint.
func (s Spec) Binary() string {
	if len(s.Entrypoint) == 0 {
		return ""
	}
	return s.Entrypoint[0]
}

// File is the BUILD file that defines the image, relative to the root.
const File = "oci/BUILD.bazel"

// Load parses the oci_image rule named "image" in root/oci/BUILD.bazel. Its
// attributes must be literals (or names of top-level literals): the point
// is that a program other than Bazel can read them.
func Load(root string) (Spec, error) {
	path := filepath.Join(root, File)
	data, err := os.ReadFile(path)
	if err != nil {
		return Spec{}, err
	}
	f, err := build.ParseBuild(path, data)
	if err != nil {
		return Spec{}, err
	}
	rule := findRule(f, "oci_image", "image")
	if rule == nil {
		return Spec{}, fmt.Errorf("%s: no oci_image named \"image\"", File)
	}
	ev := evaluator{file: f}
	var s Spec
	s.Entrypoint, err = ev.strings(rule, "entrypoint")
	if err == nil {
		s.Cmd, err = ev.strings(rule, "cmd")
	}
	if err == nil {
		s.User, err = ev.str(rule, "user")
	}
	if err == nil {
		s.Workdir, err = ev.str(rule, "workdir")
	}
	if err == nil {
		s.ExposedPorts, err = ev.strings(rule, "exposed_ports")
	}
	if err == nil {
		s.Labels, err = ev.dict(rule, "labels")
	}
	if err == nil {
		s.Env, err = ev.dict(rule, "env")
	}
	if err != nil {
		return Spec{}, fmt.Errorf("%s: %w", File, err)
	}
	if s.Binary() == "" || s.User == "" {
		return Spec{}, fmt.Errorf("%s: the image needs an entrypoint and a user", File)
	}
	return s, nil
}

func findRule(f *build.File, kind, name string) *build.Rule {
	for _, r := range f.Rules(kind) {
		if r.Name() == name {
			return r
		}
	}
	return nil
}

// LoadTag returns the first repo_tags entry of the oci_load rule "load":
// the name compose.yaml runs the image under.
func LoadTag(root string) (string, error) {
	path := filepath.Join(root, File)
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	f, err := build.ParseBuild(path, data)
	if err != nil {
		return "", err
	}
	rule := findRule(f, "oci_load", "load")
	if rule == nil {
		return "", fmt.Errorf("%s: no oci_load named \"load\"", File)
	}
	tags, err := evaluator{file: f}.strings(rule, "repo_tags")
	if err != nil || len(tags) == 0 {
		return "", fmt.Errorf("%s: oci_load \"load\" needs a literal repo_tags list", File)
	}
	return tags[0], nil
}
