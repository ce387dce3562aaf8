package manifests

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/gantry-dev/gantry/tools/kube/cluster"
)

// The kustomizations under deploy/ that a user applies, and the base.
var kustomizations = []string{"deploy/base", "deploy/overlays/dev", "deploy/overlays/prod"}

// copyDeploy copies the repository's deploy/ into a temporary directory,
// with the secret files the dev overlay generates its Secrets from, and
// returns the directory that holds deploy/: the tests never write into the
// repository.
func copyDeploy(t *testing.T, root string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "deploy"), os.DirFS(filepath.Join(root, "deploy"))); err != nil {
		t.Fatal(err)
	}
	writeDevSecrets(t, root, filepath.Join(dir, "deploy", "overlays", "dev", "secrets"))
	return dir
}

// writeDevSecrets makes the dev overlay's secret files as a user does,
// with compose/init-secrets: the database password, its URL and the
// bootstrap API token.
func writeDevSecrets(t *testing.T, root, dir string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(root, "compose", "init-secrets"), "--force")
	cmd.Env = append(os.Environ(), "GANTRY_SECRETS_DIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("compose/init-secrets: %v\n%s", err, out)
	}
	for _, f := range []string{"db_password", "database_url", "api_token"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("compose/init-secrets wrote no %s, which the dev overlay's Secrets are made from: %v", f, err)
		}
	}
}

// rendered is one kustomization rendered from a copy of deploy/.
type rendered struct {
	Path    string // as the user names it: deploy/overlays/dev
	Dir     string // where it was rendered from
	Objects []Object
	YAML    []byte
}

// renderAll renders every kustomization users apply, from one copy of
// deploy/ with the dev overlay's secret files written.
func renderAll(t *testing.T) []rendered {
	t.Helper()
	root := cluster.RepoRoot(t)
	dir := copyDeploy(t, root)
	var out []rendered
	for _, k := range kustomizations {
		kdir := filepath.Join(dir, filepath.FromSlash(k))
		objects, yaml, err := Render(filesys.MakeFsOnDisk(), kdir)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rendered{Path: k, Dir: kdir, Objects: objects, YAML: yaml})
	}
	return out
}
