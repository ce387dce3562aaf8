package manifests

import (
	"crypto/rand"
	"hash/crc32"
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
// with compose/init-secrets, and an API token beside them if that did not
// write one (it does once compose mounts the bootstrap token too).
func writeDevSecrets(t *testing.T, root, dir string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(root, "compose", "init-secrets"), "--force")
	cmd.Env = append(os.Environ(), "GANTRY_SECRETS_DIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("compose/init-secrets: %v\n%s", err, out)
	}
	token := filepath.Join(dir, "api_token")
	if _, err := os.Stat(token); err == nil {
		return
	}
	if err := os.WriteFile(token, []byte(newToken()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// newToken is an API token in services/internal/auth's format: gantry_,
// 43 random base62 characters and the CRC32 of all before them in 6 base62
// digits. The API refusing it fails the cluster test, so a drift from the
// format cannot pass unnoticed.
func newToken() string {
	const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	body := []byte("gantry_")
	for len(body) < 7+43 {
		var b [1]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		if b[0] < 248 {        // 4*62: beyond it the first digits would be favoured
			body = append(body, base62[b[0]%62])
		}
	}
	sum := crc32.ChecksumIEEE(body)
	var digits [6]byte
	for i := 5; i >= 0; i-- {
		digits[i] = base62[sum%62]
		sum /= 62
	}
	return string(body) + string(digits[:])
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
