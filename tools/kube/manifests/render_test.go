package manifests

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/gantry-dev/gantry/tools/kube/cluster"
)

const kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [service.yaml]\n"

// A field the API server would drop without a word (kubectl apply keeps
// quiet about most) is an error when rendering.
func TestRenderRefusesWhatTheServerWouldDrop(t *testing.T) {
	tests := []struct {
		name, service, want string
	}{
		{"a misspelled field", "spec:\n  selector: {app: x}\n  ports: [{port: 80, targetPorts: 8080}]\n", `unknown field "spec.ports[0].targetPorts"`},
		{"a field in the wrong case", "spec:\n  Selector: {app: x}\n  ports: [{port: 80}]\n", `unknown field "spec.Selector"`},
		{"a value of the wrong type", "spec:\n  ports: [{port: eighty}]\n", "cannot unmarshal string"},
	}
	for _, tt := range tests {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "kustomization.yaml", kustomization)
			write(t, dir, "service.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n"+tt.service)
			_, _, err := Render(filesys.MakeFsOnDisk(), dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
	t.Run("refuses a kind it has no type for", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "kustomization.yaml", kustomization)
		write(t, dir, "service.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: x}\n")
		if _, _, err := Render(filesys.MakeFsOnDisk(), dir); err == nil || !strings.Contains(err.Error(), "add its k8s.io/api type") {
			t.Fatalf("got %v, want an error naming what to add", err)
		}
	})
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// kubectl apply -k renders with the kustomize kubectl embeds; the library
// here must be the same minor version, or the two could render the same
// directory differently. k8s.io/api is the Kubernetes release's own.
func TestTheLibrariesMatchThePinnedKubernetes(t *testing.T) {
	root := cluster.RepoRoot(t)
	require := func(file, module string) string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(module) + ` (v\S+)`).FindSubmatch(data)
		if m == nil {
			t.Fatalf("%s requires no %s", file, module)
		}
		return string(m[1])
	}
	minor := func(v string) string { return v[:strings.LastIndex(v, ".")] }
	kube := ".ci/tools/kubernetes/go.mod"
	if ours, kubectl := require("go.mod", "sigs.k8s.io/kustomize/api"), require(kube, "sigs.k8s.io/kustomize/api"); minor(ours) != minor(kubectl) {
		t.Errorf("go.mod has sigs.k8s.io/kustomize/api %s; kubectl (%s) embeds %s", ours, kube, kubectl)
	}
	release := require(kube, "k8s.io/kubernetes")
	if ours, want := require("go.mod", "k8s.io/api"), "v0."+strings.TrimPrefix(release, "v1."); ours != want {
		t.Errorf("go.mod has k8s.io/api %s; Kubernetes %s (%s) is %s", ours, release, kube, want)
	}
}
