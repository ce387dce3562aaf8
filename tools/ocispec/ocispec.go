// Package ocispec reads the service images from oci/BUILD.bazel, the one
// place they are written down: each service_image call, evaluated by
// tools/bazelspec, and the targets it declared, followed through their
// labels. The image tool builds the same images without Bazel from them,
// and the repository checks compare them with compose.yaml, so the three
// cannot drift apart.
package ocispec

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gantry-dev/gantry/tools/bazelspec"
)

// File is the BUILD file that defines the images, relative to the root;
// Macro is the macro each image is declared with.
const (
	File  = "oci/BUILD.bazel"
	Macro = "service_image"
)

// Spec is the runtime configuration of an image.
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

// Service is one service's image: its settings and the targets that make,
// load, push and test it.
type Service struct {
	Name       string
	Binary     string // the go_binary's label, "//services/api"
	Spec       Spec
	Tag        string // what its load target tags the image in Docker
	Repository string // where its push target pushes
	LayerMtree []string
	// Platforms are the target platforms of the image's transitions, which
	// its index holds and its load chooses from.
	Platforms     []string
	StructureTest []string // the structure test's configs, relative to the root
	// Targets are the names of its targets in //oci by role: "layer",
	// "image", "index", "load", "push", "structure_test", "tarball" and one
	// per platform ("image_linux_amd64").
	Targets map[string]string
}

// GoPackage is the binary's main package for the go command: "./services/api".
func (s Service) GoPackage() string {
	pkg, _, _ := strings.Cut(strings.TrimPrefix(s.Binary, "//"), ":")
	return "./" + pkg
}

// Load evaluates root/oci/BUILD.bazel and returns its services, in the
// order of the calls. Any problem the evaluation finds is an error: the
// images are built from nothing else.
func Load(root string) ([]Service, error) {
	pkg, err := bazelspec.Evaluate(root, "oci")
	if err != nil {
		return nil, fmt.Errorf("%s does not evaluate:\n%w", File, err)
	}
	var services []Service
	for _, call := range pkg.CallsOf(Macro) {
		s, err := service(pkg, call)
		if err != nil {
			return nil, fmt.Errorf("%s: %s %q: %w", call.Pos, Macro, call.Args["name"], err)
		}
		services = append(services, s)
	}
	if len(services) == 0 {
		return nil, fmt.Errorf("%s: no %s call", File, Macro)
	}
	return services, nil
}

// Find returns the service of that name.
func Find(services []Service, name string) (Service, error) {
	var names []string
	for _, s := range services {
		if s.Name == name {
			return s, nil
		}
		names = append(names, s.Name)
	}
	return Service{}, fmt.Errorf("no service %q in %s (it has %s)", name, File, strings.Join(names, ", "))
}

// Names are the services' names.
func Names(services []Service) []string {
	names := make([]string, len(services))
	for i, s := range services {
		names[i] = s.Name
	}
	return names
}

// service follows one call's targets from the load and the push back to
// the layer, so a macro that wires them wrongly is found here too.
func service(pkg *bazelspec.Package, call *bazelspec.Call) (Service, error) {
	w := wiring{pkg: pkg, byKind: map[string][]*bazelspec.Target{}}
	for _, t := range call.Targets {
		if !t.Generated {
			w.byKind[t.Kind] = append(w.byKind[t.Kind], t)
		}
	}
	s := Service{Targets: map[string]string{}}
	s.Name, _ = call.Args["name"].(string)
	load, push, test := w.one("oci_load"), w.one("oci_push"), w.one("container_structure_test")
	if w.err != nil {
		return s, w.err
	}
	transitions := w.loadChoices(load)
	index := w.follow(push, "image", "oci_image_index")
	image := w.transitionsOf(index, transitions)
	layer := w.layerOf(image)
	tarball := w.follow(test, "image", "filegroup")
	if w.err == nil && (!slices.Equal(tarball.Strings("srcs"), []string{":" + load.Name}) || tarball.String("output_group") != "tarball") {
		w.fail("the structure test's image %s is not the tarball of %s", tarball.Name, load.Name)
	}
	if w.err != nil {
		return s, w.err
	}
	s.Binary = layer.Strings("srcs")[0]
	s.Spec = Spec{
		Entrypoint: image.Strings("entrypoint"), Cmd: image.Strings("cmd"),
		User: image.String("user"), Workdir: image.String("workdir"),
		ExposedPorts: image.Strings("exposed_ports"), Labels: image.Dict("labels"), Env: image.Dict("env"),
	}
	if s.Spec.Binary() == "" || s.Spec.User == "" {
		return s, fmt.Errorf("the image needs a literal entrypoint and user")
	}
	if tags := load.Strings("repo_tags"); len(tags) > 0 {
		s.Tag = tags[0]
	} else {
		return s, fmt.Errorf("%s needs a literal repo_tags list", load.Name)
	}
	s.Repository = push.String("repository")
	s.LayerMtree = layer.Strings("mtree")
	for _, c := range test.Strings("configs") {
		s.StructureTest = append(s.StructureTest, pkg.Path+"/"+strings.TrimPrefix(c, ":"))
	}
	for role, t := range map[string]*bazelspec.Target{"layer": layer, "image": image, "index": index, "load": load, "push": push, "structure_test": test, "tarball": tarball} {
		s.Targets[role] = t.Name
	}
	for _, t := range transitions {
		platform := t.String("target_platform")
		s.Platforms = append(s.Platforms, platform)
		s.Targets["image_"+platform[strings.LastIndex(platform, ":")+1:]] = t.Name
	}
	slices.Sort(s.Platforms)
	return s, nil
}
