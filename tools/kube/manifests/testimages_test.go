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
// the notifier, with tools/imagebuild as users do, and removes them from
// Docker when t ends.
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
	tool := filepath.Join(t.TempDir(), "imagebuild")
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
	// One service at a time: for a service not named, imagebuild would
	// load the image under its :latest tag.
	build := func(service, tag, commit string) error {
		cmd := exec.CommandContext(ctx, tool, "-root", root, "-load", "-service", service, "-tag", tag, "-commit", commit)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("imagebuild -service %s -tag %s: %v\n%s", service, tag, err, out)
		}
		return nil
	}
	if err := build("api", imgs.api, suffix+"-1"); err != nil {
		return imgs, err
	}
	if err := build("api", imgs.apiNext, suffix+"-2"); err != nil {
		return imgs, err
	}
	return imgs, build("notifier", imgs.notifier, suffix+"-1")
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
