// Command imagebuild builds Gantry's service images without Bazel: each
// static binary on a distroless-like base (nonroot passwd and group, CA
// certificates, time zones from Debian 13), configured from its
// service_image call in oci/BUILD.bazel (evaluated by tools/ocispec),
// written as one docker archive or loaded into Docker under the tags
// `bazel run //oci:load` uses.
//
//	go run ./tools/imagebuild -load                          # every service
//	go run ./tools/imagebuild -load -service notifier
//	go run ./tools/imagebuild -load -tag api=test/api:1 -tag notifier=test/notifier:1
//	go run ./tools/imagebuild -arch arm64 -o images-arm64.tar
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
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
	root, arch, service, out, binary, rootfs, version, commit string
	tags                                                      tagFlags
	load, hostBase                                            bool
}

// tagFlags are the -tag flags: NAME=REF for a service, or a bare REF when
// one service is built.
type tagFlags map[string]string

func (f tagFlags) String() string { return fmt.Sprint(map[string]string(f)) }

func (f tagFlags) Set(v string) error {
	name, ref, ok := strings.Cut(v, "=")
	if !ok {
		name, ref = "", v
	}
	if ref == "" {
		return fmt.Errorf("%q: give SERVICE=REPO:TAG, or REPO:TAG with one -service", v)
	}
	if _, dup := f[name]; dup {
		return fmt.Errorf("%q: a second tag for the same service", v)
	}
	f[name] = ref
	return nil
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	o := options{tags: tagFlags{}}
	fs := flag.NewFlagSet("imagebuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.root, "root", ".", "repository root")
	fs.StringVar(&o.arch, "arch", runtime.GOARCH, "amd64 or arm64")
	fs.StringVar(&o.service, "service", "", "build this service's image only (default: every service_image of oci/BUILD.bazel)")
	fs.Var(o.tags, "tag", "SERVICE=REPO:TAG, repeatable: the tag of a service's image (default: the repo_tags of //oci:SERVICE_load); REPO:TAG alone with -service")
	fs.StringVar(&o.out, "o", "", "write the images to this file, one docker archive")
	fs.BoolVar(&o.load, "load", false, "load the images into Docker")
	fs.StringVar(&o.binary, "binary", "", "use this linux binary instead of building one (with -service)")
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
	if o.service == "" && o.binary != "" {
		return o, fmt.Errorf("-binary is the binary of one service: give -service too")
	}
	if _, bare := o.tags[""]; bare && o.service == "" {
		return o, fmt.Errorf("-tag %s names no service: give -service, or write SERVICE=%s", o.tags[""], o.tags[""])
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
