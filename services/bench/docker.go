package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/services/loopback"
	"github.com/gantry-dev/gantry/tools/gobuild"
)

// measured is a figure, or why it could not be taken on this machine.
type measured struct {
	value string
	why   string
}

func (m measured) String() string {
	if m.why != "" {
		return "not measured: " + m.why
	}
	return m.value
}

func apiImage() string { return envOr("GANTRY_API_IMAGE", "gantry/api:latest") }

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// imageSize measures the API image uncompressed two ways: the layer tars
// (`docker save`), which is what an OCI image's uncompressed size means and
// includes every tar header and padding, and the file contents that Docker
// 20.10 reports in `docker images`, which is smaller.
func imageSize(ctx context.Context) measured {
	out, err := exec.CommandContext(ctx, "docker", "image", "inspect", "-f", "{{.Size}}", apiImage()).Output()
	if err != nil {
		return measured{why: "no Docker, or no " + apiImage() + " image (go run ./tools/imagebuild -load)"}
	}
	files, _ := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	save := exec.CommandContext(ctx, "docker", "save", apiImage())
	archive, err := save.StdoutPipe()
	if err != nil {
		return measured{why: err.Error()}
	}
	if err := save.Start(); err != nil {
		return measured{why: "docker save: " + err.Error()}
	}
	tars, err := layerTarSize(archive)
	if werr := save.Wait(); err == nil && werr != nil {
		err = fmt.Errorf("docker save: %w", werr)
	}
	if err != nil {
		return measured{why: err.Error()}
	}
	return measured{value: fmt.Sprintf("%.2f MB (%.2f MiB) as layer tars; %.2f MB of files (`docker images`)",
		float64(tars)/1e6, float64(tars)/(1<<20), float64(files)/1e6)}
}

// composeUp times `docker compose up --wait` of the real compose file from
// nothing (a new project, an empty volume, so Postgres initialises) to every
// service healthy or done.
func composeUp(ctx context.Context) measured {
	pg := envOr("GANTRY_POSTGRES_IMAGE", "postgres:17")
	for _, img := range []string{apiImage(), pg} {
		if exec.CommandContext(ctx, "docker", "image", "inspect", img).Run() != nil {
			return measured{why: "no Docker, or no " + img + " image"}
		}
	}
	root, err := gobuild.FindRoot(".")
	if err != nil {
		return measured{why: err.Error()}
	}
	dir, err := os.MkdirTemp("", "bench-compose-")
	if err != nil {
		return measured{why: err.Error()}
	}
	defer removeAll(dir)
	if _, err := runEnv(ctx, []string{"GANTRY_SECRETS_DIR=" + filepath.Join(dir, "secrets")}, filepath.Join(root, "compose", "init-secrets")); err != nil {
		return measured{why: err.Error()}
	}
	port, _ := loopback.FreePort()
	env := []string{"GANTRY_POSTGRES_IMAGE=" + pg, "GANTRY_API_IMAGE=" + apiImage(), "GANTRY_API_PORT=" + strconv.Itoa(port)}
	compose := func(args ...string) (string, error) {
		base := []string{"compose", "-p", "gantry-bench", "-f", filepath.Join(root, "compose", "compose.yaml"), "--project-directory", dir}
		return runEnv(ctx, env, "docker", append(base, args...)...)
	}
	defer func() {
		if _, err := compose("down", "--volumes", "--timeout", "5"); err != nil {
			fmt.Fprintln(os.Stderr, "bench: the gantry-bench compose project may still be running:", err)
		}
	}()
	start := time.Now()
	if _, err := compose("up", "--detach", "--wait", "--wait-timeout", "120"); err != nil {
		return measured{why: err.Error()}
	}
	return measured{value: time.Since(start).Round(100 * time.Millisecond).String()}
}
