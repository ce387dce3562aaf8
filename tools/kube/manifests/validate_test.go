package manifests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/tools/kube/cluster"
)

// Every kustomization, applied by kubectl (-k, its own kustomize) with
// --dry-run=server --warnings-as-errors into a namespace that enforces the
// "restricted" Pod Security Standard, on a real kube-apiserver and etcd of
// the pinned release: every admission check runs, nothing is stored. The
// check is first shown to fail: a copy of the base without a seccomp
// profile, and one whose selector misses its pods, are both rejected.
func TestTheAPIServerAcceptsEveryOverlay(t *testing.T) {
	root := cluster.RepoRoot(t)
	cp := cluster.NewTestControlPlane(t, root)
	const ns = "gantry"
	if err := cp.RestrictedNamespace(t.Context(), ns); err != nil {
		t.Fatal(err)
	}
	dir := copyDeploy(t, root)
	broken := func(name, patch string) string {
		k := filepath.Join(dir, "broken", name)
		if err := os.MkdirAll(k, 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, k, "kustomization.yaml", `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [../../deploy/base]
patches:
  - target: {kind: Deployment, name: gantry-api}
    patch: |-
`+patch)
		return k
	}
	tests := []struct {
		name   string
		dir    string
		reject string // a part of the rejection; empty: accepted
	}{
		{"rejects a copy of the base without a seccomp profile",
			broken("no-seccomp", "      - {op: remove, path: /spec/template/spec/securityContext/seccompProfile}"),
			`seccompProfile.type to "RuntimeDefault" or "Localhost"`},
		{"rejects a copy of the base whose selector misses its pods",
			broken("selector", "      - {op: replace, path: /spec/selector/matchLabels/app.kubernetes.io~1component, value: web}"),
			"`selector` does not match template `labels`"},
	}
	for _, k := range kustomizations {
		tests = append(tests, struct{ name, dir, reject string }{"accepts " + k, filepath.Join(dir, filepath.FromSlash(k)), ""})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := cp.Validate(t.Context(), ns, "--kustomize="+tt.dir)
			switch {
			case tt.reject == "" && err != nil:
				t.Fatal(err)
			case tt.reject != "" && err == nil:
				t.Fatalf("accepted:\n%s", out)
			case tt.reject != "" && !strings.Contains(out, tt.reject):
				t.Fatalf("rejected, but not for %q:\n%s", tt.reject, out)
			}
			t.Logf("kubectl apply --dry-run=server --warnings-as-errors -k %s:\n%s", tt.dir, strings.TrimSpace(out))
		})
	}
}
