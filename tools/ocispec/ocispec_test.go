package ocispec

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeBuild(t *testing.T, content string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "oci"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, File), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestLoadReadsLiteralsAndNamedConstants(t *testing.T) {
	root := writeBuild(t, `
PORTS = ["8080/tcp"]
oci_image(
    name = "image",
    base = "@distroless_static",
    entrypoint = ["/usr/local/bin/api"],
    cmd = ["serve"],
    user = "65532:65532",
    workdir = "/home/nonroot",
    exposed_ports = PORTS,
    labels = {"org.opencontainers.image.title": "gantry-api"},
)
oci_image(name = "other", user = "0")
`)
	s, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	want := Spec{
		Entrypoint: []string{"/usr/local/bin/api"}, Cmd: []string{"serve"}, User: "65532:65532",
		Workdir: "/home/nonroot", ExposedPorts: []string{"8080/tcp"},
		Labels: map[string]string{"org.opencontainers.image.title": "gantry-api"},
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("got %+v\nwant %+v", s, want)
	}
}

func TestLoadRefusesWhatOnlyBazelCouldEvaluate(t *testing.T) {
	tests := map[string]string{
		"a computed entrypoint": `oci_image(name = "image", user = "1", entrypoint = ["/" + "api"])`,
		"a select() user":       `oci_image(name = "image", entrypoint = ["/api"], user = select({"//c": "1"}))`,
		"no image rule":         `oci_image(name = "base", entrypoint = ["/api"], user = "1")`,
		"no entrypoint":         `oci_image(name = "image", user = "1")`,
	}
	for name, content := range tests {
		t.Run("refuses "+name, func(t *testing.T) {
			_, err := Load(writeBuild(t, content))
			if err == nil || !strings.Contains(err.Error(), File) {
				t.Fatalf("err %v, want an error naming %s", err, File)
			}
		})
	}
}
