package main

import (
	"archive/tar"
	"bytes"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/tools/ociarchive"
	"github.com/gantry-dev/gantry/tools/ocispec"
)

var spec = ocispec.Spec{
	Entrypoint: []string{"/usr/local/bin/api"}, Cmd: []string{"serve"}, User: "65532:65532",
	Workdir: "/home/nonroot", ExposedPorts: []string{"8080/tcp"},
	Labels: map[string]string{"org.opencontainers.image.title": "gantry-api"},
}

// rootfs returns a tarball shaped like a debootstrapped Debian.
func rootfs(t *testing.T, versionID string) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	files := map[string]string{
		"./etc/os-release":                    "PRETTY_NAME=\"Debian\"\nVERSION_ID=\"" + versionID + "\"\n",
		"./etc/ssl/certs/ca-certificates.crt": "-----BEGIN CERTIFICATE-----\n",
		"./usr/share/zoneinfo/UTC":            "TZif",
		"./bin/sh":                            "#!",
		"./usr/bin/apt":                       "ELF",
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(files[name])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

func TestTheImageTakesItsConfigurationFromTheSpec(t *testing.T) {
	base, err := fromRootfs(rootfs(t, "13"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := assemble(spec, "arm64", base, []byte("binary"))
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	c := cf.Config
	if !slices.Equal(c.Entrypoint, spec.Entrypoint) || !slices.Equal(c.Cmd, spec.Cmd) || c.User != spec.User ||
		c.WorkingDir != spec.Workdir || c.Labels["org.opencontainers.image.title"] != "gantry-api" {
		t.Fatalf("config %+v", c)
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok {
		t.Fatalf("ports %v", c.ExposedPorts)
	}
	if cf.Architecture != "arm64" || cf.Variant != "v8" || cf.OS != "linux" {
		t.Fatalf("platform %s/%s/%s", cf.OS, cf.Architecture, cf.Variant)
	}
}

func TestTheBaseHasNonrootCertificatesAndZonesButNoShell(t *testing.T) {
	base, err := fromRootfs(rootfs(t, "13"))
	if err != nil {
		t.Fatal(err)
	}
	img, _ := assemble(spec, "amd64", base, []byte("binary"))
	files := map[string]*tar.Header{}
	layers, _ := img.Layers()
	for _, l := range layers {
		rc, _ := l.Uncompressed()
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			files[h.Name] = h
		}
		_ = rc.Close() // read to the end: closing loses nothing
	}
	for _, want := range []string{"etc/passwd", "etc/group", "etc/ssl/certs/ca-certificates.crt", "usr/share/zoneinfo/UTC", "usr/local/bin/api", "tmp/", "home/nonroot/"} {
		if files[want] == nil {
			t.Errorf("the image lacks %s", want)
		}
	}
	for _, unwanted := range []string{"bin/sh", "usr/bin/apt"} {
		if files[unwanted] != nil {
			t.Errorf("the image has %s", unwanted)
		}
	}
	if h := files["home/nonroot/"]; h == nil || h.Uid != 65532 {
		t.Errorf("home/nonroot is not owned by nonroot")
	}
	if h := files["usr/local/bin/api"]; h == nil || h.Mode != 0o755 || h.Uid != 0 {
		t.Errorf("the binary must be root-owned and 0755: %+v", h)
	}
}

func TestTheSameInputsGiveTheSameDigest(t *testing.T) {
	digest := func() string {
		base, _ := fromRootfs(rootfs(t, "13"))
		img, err := assemble(spec, "amd64", base, []byte("binary"))
		if err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		return d.String()
	}
	if a, b := digest(), digest(); a != b {
		t.Fatalf("%s != %s", a, b)
	}
}

func TestARootfsOfAnotherDebianReleaseIsRefused(t *testing.T) {
	_, err := fromRootfs(rootfs(t, "12"))
	if err == nil || !strings.Contains(err.Error(), `"12"`) {
		t.Fatalf("err %v", err)
	}
}

// hostFixture lays out, under a temporary directory, what -host-base reads
// on a Fedora-like machine with a macOS-like zoneinfo: no Debian bundle, a
// Fedora one, and a zoneinfo that is a symlink into a versioned tree. It
// returns the bundle paths to try and the zoneinfo path.
func hostFixture(t *testing.T) ([]string, string) {
	t.Helper()
	dir := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/pki/tls/certs/ca-bundle.crt", "fedora bundle")
	write("etc/ssl/cert.pem", "later bundle")
	write("var/db/timezone/tz/2026a/zoneinfo/UTC", "TZif utc")
	write("var/db/timezone/tz/2026a/zoneinfo/Europe/Berlin", "TZif berlin")
	links := map[string]string{
		"var/db/timezone/tz/2026a/zoneinfo/posixrules": "UTC",
		"var/db/timezone/zoneinfo":                     "tz/2026a/zoneinfo",
		"usr/share/zoneinfo":                           filepath.Join(dir, "var/db/timezone/zoneinfo"),
	}
	for rel, target := range links {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	bundles := []string{
		filepath.Join(dir, "etc/ssl/certs/ca-certificates.crt"),
		filepath.Join(dir, "etc/pki/tls/certs/ca-bundle.crt"),
		filepath.Join(dir, "etc/ssl/cert.pem"),
	}
	return bundles, filepath.Join(dir, "usr/share/zoneinfo")
}

func TestHostBaseFindsTheBundleAndFollowsASymlinkedZoneinfo(t *testing.T) {
	bundles, zoneinfo := hostFixture(t)
	base, err := hostBase(bundles, zoneinfo)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]ociarchive.Entry{}
	for _, e := range base {
		files[e.Name] = e
	}
	tests := []struct {
		name, file string
		kind       byte
		content    string // body, or link target
	}{
		{"the first bundle that exists is the image's bundle", "etc/ssl/certs/ca-certificates.crt", tar.TypeReg, "fedora bundle"},
		{"the zoneinfo root is a directory, not the host's symlink", "usr/share/zoneinfo/", tar.TypeDir, ""},
		{"a zone at the top is copied", "usr/share/zoneinfo/UTC", tar.TypeReg, "TZif utc"},
		{"a zone in a subdirectory is copied", "usr/share/zoneinfo/Europe/Berlin", tar.TypeReg, "TZif berlin"},
		{"a link inside the tree stays a link", "usr/share/zoneinfo/posixrules", tar.TypeSymlink, "UTC"},
		{"the nonroot home is there as well", "home/nonroot/", tar.TypeDir, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := files[tc.file]
			if !ok {
				t.Fatalf("no %s among %d entries", tc.file, len(files))
			}
			content := string(e.Body)
			if e.Kind == tar.TypeSymlink {
				content = e.Link
			}
			if e.Kind != tc.kind || content != tc.content {
				t.Errorf("%s: kind %q, content %q; want %q, %q", tc.file, e.Kind, content, tc.kind, tc.content)
			}
		})
	}
	t.Run("no host path leaks into the image", func(t *testing.T) {
		for name := range files {
			if strings.Contains(name, "var/db") || strings.HasPrefix(name, "/") {
				t.Errorf("entry %q", name)
			}
		}
	})
}

func TestHostBaseWithoutABundleNamesWhereItLooked(t *testing.T) {
	_, zoneinfo := hostFixture(t)
	missing := []string{"/nonexistent/ca-certificates.crt", "/nonexistent/ca-bundle.crt"}
	_, err := hostBase(missing, zoneinfo)
	if err == nil || !strings.Contains(err.Error(), missing[0]) || !strings.Contains(err.Error(), missing[1]) {
		t.Fatalf("err %v, want one naming %q", err, missing)
	}
}

// This machine's own files, where it has them (Debian, Fedora, macOS);
// elsewhere the fixtures above stand in.
func TestHostBaseTakesThisMachinesCertificatesAndZones(t *testing.T) {
	if _, err := os.Stat(hostZoneinfo + "/UTC"); err != nil {
		t.Skip("SKIPPING: this machine has no " + hostZoneinfo + "/UTC (apt-get install tzdata)")
	}
	if _, err := firstFile(hostCertBundles); err != nil {
		t.Skip("SKIPPING: " + err.Error())
	}
	base, err := hostBase(hostCertBundles, hostZoneinfo)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, e := range base {
		names[e.Name] = true
	}
	for _, want := range []string{"etc/passwd", "etc/ssl/certs/ca-certificates.crt", "usr/share/zoneinfo/UTC", "home/nonroot/"} {
		if !names[want] {
			t.Errorf("the host base lacks %s", want)
		}
	}
}
