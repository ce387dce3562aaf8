package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/gantry-dev/gantry/tools/gobuild"
	"github.com/gantry-dev/gantry/tools/ociarchive"
	"github.com/gantry-dev/gantry/tools/ocispec"
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	services, err := ocispec.Load(o.root)
	if err != nil {
		return err
	}
	if o.service != "" {
		s, err := ocispec.Find(services, o.service)
		if err != nil {
			return fmt.Errorf("-service: %w", err)
		}
		services = []ocispec.Service{s}
	}
	refs, err := tagsFor(services, o.tags)
	if err != nil {
		return err
	}
	base, err := baseFiles(o)
	if err != nil {
		return err
	}
	images := map[name.Reference]v1.Image{}
	for _, s := range services {
		ref := refs[s.Name]
		img, err := build(ctx, o, s, base)
		if err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
		if o.load {
			if err := ociarchive.Load(ctx, ref, img, stderr); err != nil {
				return err
			}
		}
		if err := report(stdout, ref, img); err != nil {
			return err
		}
		images[ref] = img
	}
	if o.out != "" {
		return tarball.MultiRefWriteToFile(o.out, images)
	}
	return nil
}

// tagsFor gives each service its tag: the -tag given for it, else the one
// its load target gives. A -tag for a service not built is a mistake.
func tagsFor(services []ocispec.Service, given tagFlags) (map[string]name.Tag, error) {
	refs := map[string]name.Tag{}
	for _, s := range services {
		tag := s.Tag
		if t, ok := given[s.Name]; ok {
			tag = t
		} else if t, ok := given[""]; ok {
			tag = t // with -service: the one service built
		}
		ref, err := name.NewTag(tag)
		if err != nil {
			return nil, fmt.Errorf("the tag of %s: %w", s.Name, err)
		}
		refs[s.Name] = ref
	}
	for svc, tag := range given {
		if _, ok := refs[svc]; !ok && svc != "" {
			return nil, fmt.Errorf("-tag %s=%s: no such service is built (building %v)", svc, tag, ocispec.Names(services))
		}
	}
	return refs, nil
}

// build makes one service's image for o.arch.
func build(ctx context.Context, o options, s ocispec.Service, base []ociarchive.Entry) (v1.Image, error) {
	bin, err := binary(ctx, o, s)
	if err != nil {
		return nil, err
	}
	return assemble(s.Spec, o.arch, base, bin)
}

// binary builds the service for linux/arch with tools/gobuild's flags, the
// same ones the cross-compilation and reproducibility checks use.
func binary(ctx context.Context, o options, s ocispec.Service) ([]byte, error) {
	if o.binary != "" {
		return os.ReadFile(o.binary)
	}
	dir, err := os.MkdirTemp("", "imagebuild-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }() // a leftover build under the temp dir, at worst
	out := filepath.Join(dir, s.Name)
	err = gobuild.Build(ctx, gobuild.Options{Dir: o.root, Package: s.GoPackage(), GOARCH: o.arch, Out: out, Version: o.version, Commit: o.commit})
	if err != nil {
		return nil, err
	}
	return os.ReadFile(out)
}
