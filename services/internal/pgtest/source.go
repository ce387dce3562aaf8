package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// ModeEnv chooses where the tests' PostgreSQL comes from: "initdb" (the
// local server programs), "container" (Docker), or unset for the first of
// the two that this machine has. CI sets "container" to prove the path that
// machines without PostgreSQL installed take.
const ModeEnv = "GANTRY_PGTEST"

// ImageEnv names the image of container mode. Unset, it is the db image of
// compose/compose.yaml, so that the tests run the PostgreSQL users run.
const ImageEnv = "GANTRY_POSTGRES_IMAGE"

// errNoServer is why database tests skip: this machine has no way to run
// PostgreSQL, or, as under Bazel's sandbox, no compose/compose.yaml to
// take the image from. Every other error in choosing one is a failure.
var errNoServer = errors.New("no PostgreSQL for database tests")

// source is where a cluster's server comes from: the programs in bin, or
// the image when it runs in a container.
type source struct {
	bin   Binaries
	image string
}

// machine is what choose asks of this machine; tests pass fakes.
type machine struct {
	getenv       func(string) string
	binaries     func() (Binaries, error)
	docker       func() error
	composeImage func() (string, error)
}

// selected is the source of every cluster in this test process.
var selected = sync.OnceValues(func() (source, error) {
	return choose(machine{os.Getenv, FindBinaries, dockerReady, composeImage})
})

// choose prefers the local programs (no image to pull, a faster start) and
// falls back to a container, unless ModeEnv names one of the two.
func choose(m machine) (source, error) {
	mode := m.getenv(ModeEnv)
	if mode != "" && mode != "initdb" && mode != "container" {
		return source{}, fmt.Errorf("%s=%q: want initdb, container, or unset for the first that works", ModeEnv, mode)
	}
	var binErr error
	if mode != "container" {
		bin, err := m.binaries()
		if err == nil {
			return source{bin: bin}, nil
		}
		if mode == "initdb" {
			return source{}, fmt.Errorf("%w: %s=initdb, but %v", errNoServer, ModeEnv, err)
		}
		binErr = err
	}
	if err := m.docker(); err != nil {
		if mode == "container" {
			return source{}, fmt.Errorf("%w: %s=container, but Docker is not usable: %v", errNoServer, ModeEnv, err)
		}
		return source{}, fmt.Errorf("%w: %v; and Docker, which could run one instead, is not usable: %v", errNoServer, binErr, err)
	}
	image := m.getenv(ImageEnv)
	if image == "" {
		var err error
		if image, err = m.composeImage(); err != nil {
			return source{}, fmt.Errorf("%w: Docker could run one, but in which image? Set %s (%v)", errNoServer, ImageEnv, err)
		}
	}
	return source{image: image}, nil
}

// dockerReady says why Docker cannot run containers here, if it cannot.
func dockerReady() error {
	if _, err := exec.LookPath("docker"); err != nil {
		return errors.New("there is no docker command on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput()
	if err != nil {
		return fmt.Errorf("docker info: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// composeImage reads the db image's default from compose/compose.yaml. The
// go command finds the repository, as `go test` puts it first on PATH.
func composeImage() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("the tests run outside the gantry module, so compose/compose.yaml is out of reach")
	}
	path := filepath.Join(filepath.Dir(gomod), "compose", "compose.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return defaultImage(data, path)
}

var imageDefault = regexp.MustCompile(`(?m)^\s*image:\s*"?\$\{` + ImageEnv + `:-([^}\s]+)\}"?\s*$`)

// defaultImage finds `image: ${GANTRY_POSTGRES_IMAGE:-default}` in a
// compose file; there is exactly one, on the db service.
func defaultImage(compose []byte, path string) (string, error) {
	m := imageDefault.FindAllSubmatch(compose, -1)
	if len(m) != 1 {
		return "", fmt.Errorf("%s: want one line `image: ${%s:-IMAGE}`, found %d", path, ImageEnv, len(m))
	}
	return string(bytes.TrimSpace(m[0][1])), nil
}
