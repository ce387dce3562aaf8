// Command pgimage turns the Debian 13 rootfs that build.sh debootstraps
// (with postgresql-17) into Gantry's Postgres test image and loads it into
// Docker: the rootfs as one layer, the entrypoint and the directories
// postgres owns as a second, and the official image's runtime contract
// (STOPSIGNAL SIGINT, PGDATA, port 5432) in its config. No Dockerfile, no
// registry. For tests only: users run the official postgres:17.
package main

import (
	"archive/tar"
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/gantry-dev/gantry/tools/ociarchive"
)

// Major is the PostgreSQL major of the test image; a lockstep test holds it
// to compose.yaml's postgres tag.
const Major = "17"

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "pgimage: "+err.Error())
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("pgimage", flag.ContinueOnError)
	rootfs := fs.String("rootfs", "", "the debootstrapped rootfs tarball")
	entrypoint := fs.String("entrypoint", "tools/pgimage/entrypoint.sh", "the entrypoint script")
	tagName := fs.String("tag", "gantry-test/postgres:"+Major, "image tag")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tag, err := name.NewTag(*tagName)
	if err != nil {
		return err
	}
	uid, gid, err := postgresIDs(*rootfs)
	if err != nil {
		return err
	}
	script, err := os.ReadFile(*entrypoint)
	if err != nil {
		return err
	}
	img, err := assemble(*rootfs, script, uid, gid)
	if err != nil {
		return err
	}
	if err := ociarchive.Load(ctx, tag, img, os.Stderr); err != nil {
		return err
	}
	digest, _ := img.Digest()
	fmt.Printf("%s\tmanifest %s\n", tag, digest)
	return nil
}

func assemble(rootfs string, script []byte, uid, gid int) (v1.Image, error) {
	base, err := ociarchive.LayerFromFile(rootfs)
	if err != nil {
		return nil, err
	}
	extra, err := ociarchive.Layer([]ociarchive.Entry{
		{Name: "usr/local/bin/docker-entrypoint.sh", Mode: 0o755, Kind: tar.TypeReg, Body: script},
		{Name: "var/lib/postgresql/data/", Mode: 0o700, UID: uid, GID: gid, Kind: tar.TypeDir},
		// World-writable like the official image's: Docker copies this mode
		// onto a tmpfs mounted here, and a non-root postgres must be able to
		// create its socket and lock file in it.
		{Name: "run/postgresql/", Mode: 0o3777, UID: uid, GID: gid, Kind: tar.TypeDir},
	})
	if err != nil {
		return nil, err
	}
	// debootstrap built the rootfs for this machine's architecture.
	return ociarchive.Image(runtime.GOARCH, v1.Config{
		Entrypoint: []string{"/usr/local/bin/docker-entrypoint.sh"},
		Cmd:        []string{"postgres"},
		Env: []string{
			"PATH=/usr/lib/postgresql/" + Major + "/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"PGDATA=/var/lib/postgresql/data",
			"LANG=C.UTF-8",
		},
		ExposedPorts: map[string]struct{}{"5432/tcp": {}},
		StopSignal:   "SIGINT", // fast shutdown, as the official image
		User:         "root",   // the entrypoint fixes ownership, then drops to postgres
	}, base, extra)
}

// postgresIDs reads the postgres account from the rootfs itself: the host's
// /etc/passwd says nothing about the image.
func postgresIDs(rootfs string) (uid, gid int, err error) {
	f, err := os.Open(rootfs)
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = f.Close() }() // read only: closing loses nothing
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return 0, 0, fmt.Errorf("%s has no etc/passwd", rootfs)
		}
		if err != nil {
			return 0, 0, err
		}
		if strings.TrimPrefix(h.Name, "./") != "etc/passwd" {
			continue
		}
		sc := bufio.NewScanner(tr)
		for sc.Scan() {
			f := strings.Split(sc.Text(), ":")
			if len(f) > 3 && f[0] == "postgres" {
				uid, err1 := strconv.Atoi(f[2])
				gid, err2 := strconv.Atoi(f[3])
				if err1 != nil || err2 != nil {
					break
				}
				return uid, gid, nil
			}
		}
		return 0, 0, fmt.Errorf("%s: etc/passwd has no postgres user", rootfs)
	}
}
