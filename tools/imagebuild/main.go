// Command imagebuild builds Gantry's API image without Bazel: the static
// binary on a distroless-like base (nonroot passwd and group, CA
// certificates, time zones from Debian 13), configured from the oci_image
// rule in oci/BUILD.bazel, written as a docker archive or loaded into
// Docker under the tag `bazel run //oci:load` uses.
//
//	go run ./tools/imagebuild -load
//	go run ./tools/imagebuild -arch arm64 -o api-arm64.tar
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "imagebuild: "+err.Error())
		os.Exit(1)
	}
}

type options struct {
	root, arch, tag, out, binary, rootfs, version, commit string
	load, hostBase                                        bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("imagebuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.root, "root", ".", "repository root")
	fs.StringVar(&o.arch, "arch", runtime.GOARCH, "amd64 or arm64")
	fs.StringVar(&o.tag, "tag", "", "image tag (default: the repo_tags of //oci:load)")
	fs.StringVar(&o.out, "o", "", "write a docker archive to this file")
	fs.BoolVar(&o.load, "load", false, "load the image into Docker")
	fs.StringVar(&o.binary, "binary", "", "use this linux binary instead of building one")
	fs.StringVar(&o.rootfs, "rootfs", defaultRootfs(), "Debian 13 rootfs tarball for certificates and time zones (tools/pgimage/build.sh makes one)")
	fs.BoolVar(&o.hostBase, "host-base", false, "take certificates and time zones from this machine instead of -rootfs")
	fs.StringVar(&o.version, "version", "dev", "version stamped into the binary")
	fs.StringVar(&o.commit, "commit", "unknown", "commit stamped into the binary")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if !o.load && o.out == "" {
		return o, fmt.Errorf("nothing to do: give -load, -o FILE or both")
	}
	if o.arch != "amd64" && o.arch != "arm64" {
		return o, fmt.Errorf("-arch %q: the images are built for amd64 and arm64", o.arch)
	}
	return o, nil
}

func defaultRootfs() string {
	dir := os.Getenv("GANTRY_CACHE")
	if dir == "" {
		dir = "/var/cache/gantry"
	}
	return dir + "/trixie-rootfs.tar"
}
