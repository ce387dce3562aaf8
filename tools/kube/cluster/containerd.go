package cluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/gantry-dev/gantry/tools/ociarchive"
)

// containerdConfig keeps the node's containerd apart from Docker's and
// from a system one: its own socket, root, state, runc root and opt dir,
// and network namespaces under its state. restrict_oom_score_adj: this
// machine's sandbox denies CAP_SYS_RESOURCE, and runc fails to start a
// container whose oom_score_adj it cannot lower. cgroupfs, as the kubelet.
const containerdConfig = `version = 2
root = "%[1]s/root"
state = "%[1]s/state"

[grpc]
  address = "%[1]s/containerd.sock"

[ttrpc]
  address = "%[1]s/containerd.sock.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "%[1]s/opt"

[plugins."io.containerd.runtime.v1.linux"]
  runtime_root = "%[1]s/runc-v1"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[2]q
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "%[1]s/runc"

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %[3]q
    conf_dir = %[4]q
    max_conf_num = 1
`

func (c *Cluster) containerdDir() string { return filepath.Join(c.State, "containerd") }

func (c *Cluster) startContainerd(ctx context.Context, cniBin string, detach bool) error {
	confDir, err := writeCNIConfig(c.State)
	if err != nil {
		return err
	}
	dir := c.containerdDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	config := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(config, fmt.Appendf(nil, containerdConfig, dir, PauseImage, cniBin, confDir), 0o644); err != nil {
		return err
	}
	if err := c.startHost("containerd", "containerd", detach, "--config="+config); err != nil {
		return err
	}
	return poll(ctx, "containerd at "+c.Socket, c.failed, func() (bool, error) {
		_, err := c.ctr(ctx, nil, "version")
		return err == nil, nil
	})
}

// startHost starts a program of the host's (containerd) rather than of
// Binaries.
func (c *Cluster) startHost(name, program string, detach bool, args ...string) error {
	path, err := exec.LookPath(program)
	if err != nil {
		return fmt.Errorf("%s is not installed (apt-get install -y containerd)", program)
	}
	p, err := startProcess(c.State, name, path, args, detach)
	if err != nil {
		return err
	}
	c.procs = append(c.procs, p)
	return nil
}

// ctr runs ctr against the node's containerd, in the namespace the
// kubelet's pods live in.
func (c *Cluster) ctr(ctx context.Context, stdin io.Reader, args ...string) (string, error) {
	return ctr(ctx, c.Socket, stdin, args...)
}

func ctr(ctx context.Context, socket string, stdin io.Reader, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "ctr", append([]string{"--address=" + socket, "--namespace=k8s.io"}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("ctr %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// importPause builds the sandbox image: no registry is reachable, and a
// pod cannot start without one. tools/kube/pause, as uid 65535: pods that
// must run as non-root run their sandbox as their own user.
func (c *Cluster) importPause(ctx context.Context, root string) error {
	img, err := ociarchive.GoImage(ctx, root, "./tools/kube/pause", "65535:65535")
	if err != nil {
		return err
	}
	tag, err := name.NewTag(PauseImage)
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(tarball.Write(tag, img, pw)) }()
	_, err = c.ctr(ctx, pr, "images", "import", "-")
	pr.CloseWithError(err)
	return err
}

// ImportDocker copies images from the local Docker engine into the node,
// where pods use them with imagePullPolicy: Never.
func (c *Cluster) ImportDocker(ctx context.Context, images ...string) error {
	for _, image := range images {
		save := exec.CommandContext(ctx, "docker", "save", image)
		var stderr bytes.Buffer
		save.Stderr = &stderr
		out, err := save.StdoutPipe()
		if err != nil {
			return err
		}
		if err := save.Start(); err != nil {
			return fmt.Errorf("docker save %s: %w", image, err)
		}
		_, ierr := c.ctr(ctx, out, "images", "import", "-")
		// Should ctr have stopped reading, docker save must not block;
		// save.Wait reports how it ended.
		_ = out.Close()
		if err := save.Wait(); err != nil {
			return fmt.Errorf("docker save %s: %v: %s", image, err, strings.TrimSpace(stderr.String()))
		}
		if ierr != nil {
			return ierr
		}
	}
	return nil
}
