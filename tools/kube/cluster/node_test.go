package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/gantry-dev/gantry/tools/ociarchive"
)

const helloImage = "gantry-kube-test/hello:1"

// The whole life of a cluster: up, a workload from Docker's images through
// a Service, a Job, down, and the host as it was. Each phase has a limit.
func TestTheClusterRunsAWorkloadAndLeavesTheHostAsItFound(t *testing.T) {
	root := RepoRoot(t)
	start := time.Now()
	needDocker(t)
	c := NewTestCluster(t, root)
	t.Logf("up in %.1fs", time.Since(start).Seconds())

	Phase(t, "import the workload's image from Docker", 2*time.Minute, func(ctx context.Context) error {
		if err := loadHello(ctx, root); err != nil {
			return err
		}
		t.Cleanup(func() {
			if out, err := exec.Command("docker", "rmi", helloImage).CombinedOutput(); err != nil {
				t.Logf("docker rmi %s: %v\n%s", helloImage, err, out)
			}
		})
		return c.ImportDocker(ctx, helloImage)
	})
	Phase(t, "apply the Deployment, Service and Job", time.Minute, func(ctx context.Context) error {
		if err := c.RestrictedNamespace(ctx, "hello"); err != nil {
			return err
		}
		_, err := c.Kubectl(ctx, "", "apply", "--namespace=hello", "--kustomize=testdata/manifests")
		return err
	})
	Phase(t, "the Deployment becomes available", 3*time.Minute, func(ctx context.Context) error {
		_, err := c.Kubectl(ctx, "", "rollout", "status", "--namespace=hello", "deployment/hello", "--timeout=3m")
		return err
	})
	Phase(t, "both pods answer through the Service's ClusterIP", time.Minute, func(ctx context.Context) error {
		ip, err := c.Kubectl(ctx, "", "get", "service", "hello", "--namespace=hello", "--output=jsonpath={.spec.clusterIP}")
		if err != nil {
			return err
		}
		return answersFromBothPods(ctx, "http://"+ip+":80/")
	})
	Phase(t, "a pod answers on its own IP", time.Minute, func(ctx context.Context) error {
		ips, err := c.Kubectl(ctx, "", "get", "pods", "--namespace=hello", "--selector=app=hello", "--output=jsonpath={.items[*].status.podIP}")
		if err != nil {
			return err
		}
		_, err = get(ctx, "http://"+strings.Fields(ips)[0]+":8080/")
		return err
	})
	Phase(t, "the Job completes and its log is readable", 2*time.Minute, func(ctx context.Context) error {
		if _, err := c.Kubectl(ctx, "", "wait", "--namespace=hello", "--for=condition=complete", "job/hello-job", "--timeout=2m"); err != nil {
			return err
		}
		out, err := c.Kubectl(ctx, "", "logs", "--namespace=hello", "job/hello-job")
		if err == nil && !strings.Contains(out, "hello job: done") {
			err = fmt.Errorf("the Job's log is %q", out)
		}
		return err
	})
	var total int64
	for name, bytes := range c.Memory() {
		t.Logf("memory: %s %d MiB", name, bytes>>20)
		total += bytes
	}
	t.Logf("memory: total %d MiB; the run so far took %.1fs", total>>20, time.Since(start).Seconds())
}

func needDocker(t *testing.T) {
	t.Helper()
	if err := exec.Command("docker", "info").Run(); err != nil {
		Unavailable(t, errors.New("the workload's image comes from Docker, and docker info fails (.ci/docker-up starts it)"))
	}
}

// loadHello builds testdata/hello into a one-file image and loads it into
// Docker, the way Gantry's own images get there.
func loadHello(ctx context.Context, root string) error {
	img, err := ociarchive.GoImage(ctx, root, "./tools/kube/cluster/testdata/hello", "65532:65532")
	if err != nil {
		return err
	}
	tag, err := name.NewTag(helloImage)
	if err != nil {
		return err
	}
	return ociarchive.Load(ctx, tag, img, io.Discard)
}

// answersFromBothPods polls url until two different pods have answered:
// kube-proxy balances the Service over both endpoints.
func answersFromBothPods(ctx context.Context, url string) error {
	seen := map[string]bool{}
	var last error
	for len(seen) < 2 {
		body, err := get(ctx, url)
		if err == nil {
			seen[body] = true
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("answers %v from %s; last error: %v", slices.Sorted(maps.Keys(seen)), url, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

func get(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	// A new connection each time: kube-proxy balances connections, and a
	// connection made before its rules were in place went somewhere else
	// (here, the sandbox's egress, which answers 404) and would be reused.
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }() // read to the end: closing loses nothing
	body, err := io.ReadAll(resp.Body)
	if err == nil && !strings.HasPrefix(string(body), "hello from hello-") {
		err = fmt.Errorf("GET %s: %s %q", url, resp.Status, body)
	}
	return string(body), err
}
