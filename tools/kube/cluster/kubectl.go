package cluster

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// Kubectl runs the pinned kubectl as the admin, with stdin as its input,
// and returns what it printed; the error carries the output too.
func (cp *ControlPlane) Kubectl(ctx context.Context, stdin string, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, cp.bin.path("kubectl"), append([]string{"--kubeconfig=" + cp.Kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("kubectl %s: %v\n%s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// RestrictedNamespace creates namespace ns with the "restricted" Pod
// Security Standard enforced, and its default ServiceAccount, which only a
// controller-manager would otherwise create (and on a cluster may create
// first).
func (cp *ControlPlane) RestrictedNamespace(ctx context.Context, ns string) error {
	manifest := fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: %s
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/warn: restricted
`, ns)
	if _, err := cp.Kubectl(ctx, manifest, "apply", "-f", "-"); err != nil {
		return err
	}
	out, err := cp.Kubectl(ctx, "", "create", "serviceaccount", "default", "--namespace="+ns)
	if err != nil && !strings.Contains(out, "already exists") {
		return err
	}
	return nil
}

// Validate is a server-side dry run of the manifests sources name (kubectl's
// -f FILE, -k DIR, -R ...) into namespace ns: every admission check runs,
// nothing is stored. Warnings are errors: Pod Security only warns about a
// Deployment whose pods it would refuse.
func (cp *ControlPlane) Validate(ctx context.Context, ns string, sources ...string) (string, error) {
	args := append([]string{"apply", "--dry-run=server", "--warnings-as-errors", "--namespace=" + ns}, sources...)
	out, err := cp.Kubectl(ctx, "", args...)
	if err != nil {
		return out, fmt.Errorf("%s: rejected by a server-side dry run into namespace %s:\n%s", strings.Join(sources, " "), ns, strings.TrimSpace(out))
	}
	return out, nil
}
