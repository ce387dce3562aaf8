package main

import (
	"archive/tar"
	"bytes"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

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

func TestHostBaseTakesThisMachinesCertificatesAndZones(t *testing.T) {
	if _, err := os.Stat("/usr/share/zoneinfo/UTC"); err != nil {
		t.Skip("SKIPPING: this machine has no /usr/share/zoneinfo (apt-get install tzdata)")
	}
	base, err := hostBase()
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
