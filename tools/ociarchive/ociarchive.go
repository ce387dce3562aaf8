// Package ociarchive assembles container images from files and tarballs
// with fixed timestamps and owners, and loads them into Docker. It is how
// Gantry builds images where Bazel does not run: no Dockerfile, no registry,
// and the same inputs always give the same digest.
package ociarchive

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Epoch is every timestamp the package writes.
var Epoch = time.Unix(0, 0).UTC()

// Entry is one file of a layer.
type Entry struct {
	Name     string // without a leading slash; directories end in "/"
	Mode     int64
	UID, GID int
	Kind     byte // tar.TypeReg, tar.TypeDir or tar.TypeSymlink
	Body     []byte
	Link     string
}

// Layer writes entries as an uncompressed tar in name order.
func Layer(entries []Entry) (v1.Layer, error) {
	entries = slices.Clone(entries)
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name: e.Name, Mode: e.Mode, Uid: e.UID, Gid: e.GID, Typeflag: e.Kind,
			Linkname: e.Link, Size: int64(len(e.Body)), ModTime: Epoch, Format: tar.FormatPAX,
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("layer: %s: %w", e.Name, err)
		}
		if _, err := tw.Write(e.Body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	})
}

// LayerFromFile uses an existing tarball, such as a debootstrapped rootfs,
// as a layer without reading it into memory.
func LayerFromFile(path string) (v1.Layer, error) {
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return os.Open(path) })
}

// Load writes img as a docker archive tagged tag and pipes it into
// `docker load`.
func Load(ctx context.Context, tag name.Tag, img v1.Image, stderr io.Writer) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(tarball.Write(tag, img, pw)) }()
	cmd := exec.CommandContext(ctx, "docker", "load")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pr, io.Discard, stderr
	if err := cmd.Run(); err != nil {
		pr.CloseWithError(err)
		return fmt.Errorf("docker load: %w", err)
	}
	return nil
}

// Size is the sum of the uncompressed layer tars, headers and padding
// included: the image's uncompressed size as a registry or `docker save`
// has it. `docker images` shows less: Docker 20.10 counts file contents.
func Size(img v1.Image) (int64, error) {
	layers, err := img.Layers()
	if err != nil {
		return 0, err
	}
	var size int64
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			return 0, err
		}
		n, err := io.Copy(io.Discard, rc)
		_ = rc.Close() // read to the end: closing loses nothing
		if err != nil {
			return 0, err
		}
		size += n
	}
	return size, nil
}

// Image stacks layers into a linux image for arch with config. arm64 gets
// variant v8, as distroless's images have, so either can stand in for the
// other in an index.
func Image(arch string, config v1.Config, layers ...v1.Layer) (v1.Image, error) {
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = "linux", arch, v1.Time{Time: Epoch}
	if arch == "arm64" {
		cf.Variant = "v8"
	}
	cf.Config = config
	return mutate.ConfigFile(img, cf)
}
