package ociarchive

import (
	"archive/tar"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// GoImage builds the main package pkg (relative to root) statically and
// packs it as the one file of an image that runs it as user: for the
// programs tests run in containers beside the services (a test receiver,
// a cluster's pause), which need no base at all.
func GoImage(ctx context.Context, root, pkg, user string) (v1.Image, error) {
	tmp, err := os.MkdirTemp("", "gantry-goimage-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(tmp) }() // a build output under the temp dir, at worst left behind
	name := path.Base(pkg)
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(tmp, name), pkg)
	build.Dir, build.Env = root, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	body, err := os.ReadFile(filepath.Join(tmp, name))
	if err != nil {
		return nil, err
	}
	layer, err := Layer([]Entry{{Name: name, Mode: 0o755, Kind: tar.TypeReg, Body: body}})
	if err != nil {
		return nil, err
	}
	return Image(runtime.GOARCH, v1.Config{Entrypoint: []string{"/" + name}, User: user}, layer)
}
