package ocispec

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gantry-dev/gantry/tools/bazelspec"
)

// wiring follows the labels between one service's targets. The first
// thing that does not hold is its error; after it, lookups return empty
// targets so the caller can read on without checking each step.
type wiring struct {
	pkg    *bazelspec.Package
	byKind map[string][]*bazelspec.Target
	err    error
}

var none = &bazelspec.Target{Attrs: map[string]any{}}

func (w *wiring) fail(format string, args ...any) *bazelspec.Target {
	if w.err == nil {
		w.err = fmt.Errorf(format, args...)
	}
	return none
}

// one is the call's only target of a kind.
func (w *wiring) one(kind string) *bazelspec.Target {
	if ts := w.byKind[kind]; len(ts) == 1 {
		return ts[0]
	}
	return w.fail("declares %d %s targets, want one", len(w.byKind[kind]), kind)
}

// follow resolves the label in t's attribute to a target of the package
// of the given kind.
func (w *wiring) follow(t *bazelspec.Target, attr, kind string) *bazelspec.Target {
	return w.resolve(t, attr, t.String(attr), kind)
}

func (w *wiring) resolve(t *bazelspec.Target, attr, label, kind string) *bazelspec.Target {
	if w.err != nil {
		return none
	}
	target := w.pkg.Resolve(label)
	if target == nil || target.Kind != kind {
		return w.fail("%s's %s %q is no %s of the package", t.Name, attr, label, kind)
	}
	return target
}

// loadChoices are the platform images the load target chooses from by
// the host's CPU (a select()), or the one it always loads.
func (w *wiring) loadChoices(load *bazelspec.Target) []*bazelspec.Target {
	var labels []string
	switch v := load.Attrs["image"].(type) {
	case bazelspec.Select:
		for _, b := range v.Branches {
			if s, ok := b.(string); ok && !slices.Contains(labels, s) {
				labels = append(labels, s)
			}
		}
	case string:
		labels = []string{v}
	}
	slices.Sort(labels)
	var out []*bazelspec.Target
	for _, l := range labels {
		out = append(out, w.resolve(load, "image", l, "platform_transition_filegroup"))
	}
	if len(out) == 0 {
		w.fail("%s loads no platform image", load.Name)
	}
	return out
}

// transitionsOf checks that the index holds exactly the platform images
// the load chooses from, each the same image, and returns that image.
func (w *wiring) transitionsOf(index *bazelspec.Target, loaded []*bazelspec.Target) *bazelspec.Target {
	var names []string
	image := none
	for _, l := range index.Strings("images") {
		t := w.resolve(index, "images", l, "platform_transition_filegroup")
		names = append(names, t.Name)
		srcs := t.Strings("srcs")
		if len(srcs) != 1 {
			return w.fail("%s transitions %d targets, want the one image", t.Name, len(srcs))
		}
		img := w.resolve(t, "srcs", srcs[0], "oci_image")
		if image != none && img != image {
			return w.fail("%s holds two images, %s and %s", index.Name, image.Name, img.Name)
		}
		image = img
	}
	var loadedNames []string
	for _, t := range loaded {
		loadedNames = append(loadedNames, t.Name)
	}
	slices.Sort(names)
	if w.err == nil && !slices.Equal(names, loadedNames) {
		return w.fail("%s holds %s but the load chooses from %s", index.Name, strings.Join(names, ", "), strings.Join(loadedNames, ", "))
	}
	if image == none {
		return w.fail("%s holds no image", index.Name)
	}
	return image
}

// layerOf is the image's one layer, a tar of the service binary.
func (w *wiring) layerOf(image *bazelspec.Target) *bazelspec.Target {
	tars := image.Strings("tars")
	if len(tars) != 1 {
		return w.fail("%s has %d layers, want the one of the binary", image.Name, len(tars))
	}
	layer := w.resolve(image, "tars", tars[0], "tar")
	if w.err == nil && len(layer.Strings("srcs")) != 1 {
		return w.fail("%s packs %d targets, want the one binary", layer.Name, len(layer.Strings("srcs")))
	}
	return layer
}
