package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/gantry-dev/gantry/tools/ociarchive"
)

// debianRelease is the release the base files come from. MODULE.bazel pulls
// distroless static-debian13; a lockstep test holds the two together.
const debianRelease = "13"

// The accounts and groups of distroless's static image: root, nobody, and
// nonroot (65532), whose home is the working directory.
const (
	passwd = "root:x:0:0:root:/root:/sbin/nologin\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
		"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	group = "root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n"
	// Go's resolver reads it; without it the order of files and DNS is a guess.
	nsswitch = "hosts: files dns\n"
)

// skeleton is the part of the base that is written here, not copied.
func skeleton() []ociarchive.Entry {
	return []ociarchive.Entry{
		{Name: "etc/", Mode: 0o755, Kind: tar.TypeDir},
		{Name: "etc/passwd", Mode: 0o644, Kind: tar.TypeReg, Body: []byte(passwd)},
		{Name: "etc/group", Mode: 0o644, Kind: tar.TypeReg, Body: []byte(group)},
		{Name: "etc/nsswitch.conf", Mode: 0o644, Kind: tar.TypeReg, Body: []byte(nsswitch)},
		{Name: "home/", Mode: 0o755, Kind: tar.TypeDir},
		{Name: "home/nonroot/", Mode: 0o700, UID: 65532, GID: 65532, Kind: tar.TypeDir},
		{Name: "root/", Mode: 0o700, Kind: tar.TypeDir},
		{Name: "tmp/", Mode: 0o1777, Kind: tar.TypeDir},
		{Name: "usr/", Mode: 0o755, Kind: tar.TypeDir},
		{Name: "usr/local/", Mode: 0o755, Kind: tar.TypeDir},
		{Name: "usr/local/bin/", Mode: 0o755, Kind: tar.TypeDir},
	}
}

// copied says which files of the Debian rootfs the base takes.
func copied(name string) bool {
	switch name {
	case "etc/os-release", "usr/lib/os-release", "etc/ssl/certs/ca-certificates.crt":
		return true
	}
	return strings.HasPrefix(name, "usr/share/zoneinfo/")
}

func baseFiles(o options) ([]ociarchive.Entry, error) {
	if o.hostBase {
		return hostBase(hostCertBundles, hostZoneinfo)
	}
	f, err := os.Open(o.rootfs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no Debian %s rootfs at %s: run tools/pgimage/build.sh (it debootstraps one), pass -rootfs, or use -host-base", debianRelease, o.rootfs)
	}
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only: closing loses nothing
	return fromRootfs(f)
}

// fromRootfs takes the base files from a Debian rootfs tarball and checks
// that it is the release the Bazel image is built on.
func fromRootfs(r io.Reader) ([]ociarchive.Entry, error) {
	files := skeleton()
	dirs := map[string]bool{"etc/ssl/": true, "etc/ssl/certs/": true, "usr/lib/": true, "usr/share/": true}
	tr := tar.NewReader(r)
	var release string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("rootfs: %w", err)
		}
		name := strings.TrimPrefix(filepath.ToSlash(filepath.Clean(h.Name)), "./")
		if h.Typeflag == tar.TypeDir {
			name += "/"
		}
		if !copied(name) {
			continue
		}
		e := ociarchive.Entry{Name: name, Mode: h.Mode & 0o7777, Kind: h.Typeflag, Link: h.Linkname}
		switch h.Typeflag {
		case tar.TypeReg:
			if e.Body, err = io.ReadAll(tr); err != nil {
				return nil, err
			}
		case tar.TypeDir, tar.TypeSymlink:
		default:
			continue
		}
		if name == "usr/lib/os-release" || (name == "etc/os-release" && h.Typeflag == tar.TypeReg) {
			release = versionID(e.Body)
		}
		files = append(files, e)
	}
	if release != debianRelease {
		return nil, fmt.Errorf("the rootfs is Debian %q, want %s, the release of the Bazel image's base", release, debianRelease)
	}
	for d := range dirs {
		files = append(files, ociarchive.Entry{Name: d, Mode: 0o755, Kind: tar.TypeDir})
	}
	return files, nil
}

func versionID(osRelease []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(osRelease))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VERSION_ID="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// hostCertBundles are where systems keep their CA certificates as one PEM
// file, in the order of Go's crypto/x509 on Linux (root_linux.go). The first
// that exists goes into the image at the path Go tries first.
var hostCertBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Arch
	"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora, RHEL
	"/etc/ssl/ca-bundle.pem",                            // openSUSE
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7
	"/etc/ssl/cert.pem",                                 // Alpine, macOS
}

// hostZoneinfo is the time zone database; a symlink on macOS.
const hostZoneinfo = "/usr/share/zoneinfo"

// hostBase is the fallback for machines without a Debian 13 rootfs: this
// machine's certificates (the first of certBundles that exists) and time
// zones (the tree at zoneinfo), whatever release they are from.
func hostBase(certBundles []string, zoneinfo string) ([]ociarchive.Entry, error) {
	certs, err := firstFile(certBundles)
	if err != nil {
		return nil, fmt.Errorf("-host-base: %w", err)
	}
	zones, err := zoneFiles(zoneinfo)
	if err != nil {
		return nil, fmt.Errorf("-host-base: %w", err)
	}
	files := append(skeleton(),
		ociarchive.Entry{Name: "etc/ssl/", Mode: 0o755, Kind: tar.TypeDir},
		ociarchive.Entry{Name: "etc/ssl/certs/", Mode: 0o755, Kind: tar.TypeDir},
		ociarchive.Entry{Name: "etc/ssl/certs/ca-certificates.crt", Mode: 0o644, Kind: tar.TypeReg, Body: certs})
	return append(files, zones...), nil
}

// firstFile reads the first of paths that exists.
func firstFile(paths []string) ([]byte, error) {
	for _, p := range paths {
		body, err := os.ReadFile(p)
		if !errors.Is(err, fs.ErrNotExist) {
			return body, err
		}
	}
	return nil, fmt.Errorf("no CA certificate bundle at %s (install ca-certificates)", strings.Join(paths, ", "))
}

// zoneFiles are the files under dir, named as in the image
// (usr/share/zoneinfo/...). dir may be a symlink, as on macOS, where
// /usr/share/zoneinfo points into /var/db/timezone; links inside the tree
// stay links.
func zoneFiles(dir string) ([]ociarchive.Entry, error) {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("no time zones: %w (install tzdata)", err)
	}
	var files []ociarchive.Entry
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		name := path.Join("usr/share/zoneinfo", filepath.ToSlash(rel))
		switch {
		case d.IsDir():
			files = append(files, ociarchive.Entry{Name: name + "/", Mode: 0o755, Kind: tar.TypeDir})
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			files = append(files, ociarchive.Entry{Name: name, Mode: 0o777, Kind: tar.TypeSymlink, Link: link})
			return err
		case d.Type().IsRegular():
			body, err := os.ReadFile(p)
			files = append(files, ociarchive.Entry{Name: name, Mode: 0o644, Kind: tar.TypeReg, Body: body})
			return err
		}
		return nil
	})
	return files, err
}
