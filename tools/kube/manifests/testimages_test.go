package manifests

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/tools/kube/cluster"
)

// testImages are the images the cluster test runs, loaded into Docker
// under tags of its own: other work on this machine uses
// gantry/api:latest and gantry/notifier:latest, which the test must
// neither replace nor remove.
type testImages struct {
	api, apiNext, notifier, postgres string
}

// postgresTestImage stands in for postgres:17, which no registry here
// serves (tools/pgimage/build.sh builds it).
const postgresTestImage = "gantry-test/postgres:17"

// buildTestImages builds the API twice, stamped with two commits so that
// the second has another digest (the rolling update's new release), and
// the notifier, all with tools/imagebuild, and removes them from Docker
// when t ends.
func buildTestImages(ctx context.Context, t *testing.T, root string) (testImages, error) {
	if err := exec.CommandContext(ctx, "docker", "image", "inspect", postgresTestImage).Run(); err != nil {
		cluster.Unavailable(t, fmt.Errorf("docker has no %s (tools/pgimage/build.sh builds it; .ci/docker-up starts Docker)", postgresTestImage))
	}
	suffix := fmt.Sprintf("deploy-test-%d", time.Now().UnixNano())
	imgs := testImages{
		api:      "gantry/api:" + suffix + "-1",
		apiNext:  "gantry/api:" + suffix + "-2",
		notifier: "gantry/notifier:" + suffix,
		postgres: postgresTestImage,
	}
	tmp := t.TempDir()
	tool := filepath.Join(tmp, "imagebuild")
	if err := goBuild(ctx, root, tool, "./tools/imagebuild"); err != nil {
		return imgs, err
	}
	t.Cleanup(func() {
		for _, img := range []string{imgs.api, imgs.apiNext, imgs.notifier} {
			if out, err := exec.Command("docker", "rmi", img).CombinedOutput(); err != nil {
				t.Logf("docker rmi %s: %v\n%s", img, err, out)
			}
		}
	})
	run := func(args ...string) error {
		cmd := exec.CommandContext(ctx, tool, append([]string{"-root", root, "-load"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("imagebuild %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := run("-tag", imgs.api, "-commit", suffix+"-1"); err != nil {
		return imgs, err
	}
	if err := run("-tag", imgs.apiNext, "-commit", suffix+"-2"); err != nil {
		return imgs, err
	}
	return imgs, buildNotifierImage(ctx, root, tool, tmp, imgs.notifier, run)
}

// buildNotifierImage builds the notifier's image with imagebuild's
// -service when it has one (it builds every service_image of oci/ then).
// Until then, the notifier binary goes into the API's image in place of
// the api binary: the same base, user and layout, the entrypoint's name
// aside, which the pod's args do not depend on.
func buildNotifierImage(ctx context.Context, root, tool, tmp, tag string, run func(...string) error) error {
	usage, _ := exec.CommandContext(ctx, tool, "-h").CombinedOutput() // -h exits non-zero; its usage is the answer
	if strings.Contains(string(usage), "-service") {
		return run("-service", "notifier", "-tag", tag)
	}
	bin := filepath.Join(tmp, "notifier")
	if err := goBuild(ctx, root, bin, "./services/notifier"); err != nil {
		return err
	}
	return run("-binary", bin, "-tag", tag)
}

// goBuild builds a static linux binary of pkg, as the images hold.
func goBuild(ctx context.Context, root, out, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Dir, cmd.Env = root, append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// dockerID is an image's ID in Docker: the digest of its config, which
// the kubelet reports as a running container's imageID.
func dockerID(ctx context.Context, image string) (string, error) {
	out, err := exec.CommandContext(ctx, "docker", "image", "inspect", "--format={{.Id}}", image).Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return "", fmt.Errorf("docker image inspect %s: %s", image, exit.Stderr)
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}
