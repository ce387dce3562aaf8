package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
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
	spec, err := ocispec.Load(o.root)
	if err != nil {
		return err
	}
	if o.tag == "" {
		if o.tag, err = ocispec.LoadTag(o.root); err != nil {
			return err
		}
	}
	ref, err := name.NewTag(o.tag)
	if err != nil {
		return fmt.Errorf("-tag: %w", err)
	}
	bin, err := binary(ctx, o)
	if err != nil {
		return err
	}
	base, err := baseFiles(o)
	if err != nil {
		return err
	}
	img, err := assemble(spec, o.arch, base, bin)
	if err != nil {
		return err
	}
	if o.out != "" {
		if err := tarball.WriteToFile(o.out, ref, img); err != nil {
			return err
		}
	}
	if o.load {
		if err := ociarchive.Load(ctx, ref, img, stderr); err != nil {
			return err
		}
	}
	return report(stdout, ref, img)
}

// binary builds the service for linux/arch with tools/gobuild's flags, the
// same ones the cross-compilation and reproducibility checks use.
func binary(ctx context.Context, o options) ([]byte, error) {
	if o.binary != "" {
		return os.ReadFile(o.binary)
	}
	dir, err := os.MkdirTemp("", "imagebuild-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }() // a leftover build under the temp dir, at worst
	out := filepath.Join(dir, "api")
	err = gobuild.Build(ctx, gobuild.Options{Dir: o.root, GOARCH: o.arch, Out: out, Version: o.version, Commit: o.commit})
	if err != nil {
		return nil, err
	}
	return os.ReadFile(out)
}
