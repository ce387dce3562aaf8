package main

import (
	"archive/tar"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/gantry-dev/gantry/tools/ociarchive"
	"github.com/gantry-dev/gantry/tools/ocispec"
)

// distroless sets these in its static image's config; ours must match so
// the program sees the same environment under either build.
var baseEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
}

// assemble builds the image: a base layer and a layer with the binary at
// the entrypoint's path, like oci/BUILD.bazel's tars on its base.
func assemble(spec ocispec.Spec, arch string, base []ociarchive.Entry, bin []byte) (v1.Image, error) {
	baseLayer, err := ociarchive.Layer(base)
	if err != nil {
		return nil, err
	}
	binLayer, err := ociarchive.Layer([]ociarchive.Entry{{Name: strings.TrimPrefix(spec.Binary(), "/"), Mode: 0o755, Kind: tar.TypeReg, Body: bin}})
	if err != nil {
		return nil, err
	}
	return ociarchive.Image(arch, config(spec), baseLayer, binLayer)
}

func config(spec ocispec.Spec) v1.Config {
	c := v1.Config{
		Entrypoint: spec.Entrypoint,
		Cmd:        spec.Cmd,
		User:       spec.User,
		WorkingDir: spec.Workdir,
		Labels:     spec.Labels,
		Env:        slices.Clone(baseEnv),
	}
	for _, k := range slices.Sorted(maps.Keys(spec.Env)) {
		c.Env = append(c.Env, k+"="+spec.Env[k])
	}
	if len(spec.ExposedPorts) > 0 {
		c.ExposedPorts = map[string]struct{}{}
		for _, p := range spec.ExposedPorts {
			if !strings.Contains(p, "/") {
				p += "/tcp"
			}
			c.ExposedPorts[p] = struct{}{}
		}
	}
	return c
}

// report prints what was built: the tag, the digests and the size of the
// uncompressed layers (ociarchive.Size).
func report(w io.Writer, ref name.Tag, img v1.Image) error {
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	cfg, err := img.ConfigName()
	if err != nil {
		return err
	}
	size, err := ociarchive.Size(img)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\tmanifest %s\tid %s\t%.2f MB uncompressed\n", ref, digest, cfg, float64(size)/1e6)
	return err
}
