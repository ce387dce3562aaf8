package pgtest

// A container stands in for initdb and pg_ctl on machines without them:
// the same superuser, password and settings as a local cluster, on a
// loopback port chosen here, so that it stays the same across Stop and
// Start, as a local cluster's does.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-dev/gantry/services/loopback"
)

const (
	// passwordFile is where the container finds the superuser password.
	passwordFile = "/run/secrets/pgtest_password"
	// containerLabel marks the containers, so that any a killed test run
	// left behind can be found: docker ps -a --filter label=gantry.pgtest
	containerLabel = "gantry.pgtest"
	// readyTimeout covers the image's first-start initialisation.
	readyTimeout = 60 * time.Second
)

// initContainer writes the password file the container will read; the
// first Start creates the container.
func initContainer(image string) (*Cluster, error) {
	// MkdirTemp makes it 0700: nobody else on this machine reads the file.
	dir, err := os.MkdirTemp("", "gantry-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{image: image, dir: dir}
	// 0644, whatever the umask: the file is bind-mounted alone, and the
	// image's entrypoint may read it as its postgres user.
	pw := c.passwordPath()
	if err := os.WriteFile(pw, []byte(Password+"\n"), 0o644); err != nil {
		c.Remove()
		return nil, err
	}
	if err := os.Chmod(pw, 0o644); err != nil { //nolint:gosec // a test password, which the container's postgres user must read
		c.Remove()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) passwordPath() string { return filepath.Join(c.dir, "password") }

func (c *Cluster) startContainer() error {
	if c.id == "" {
		if err := c.firstStart(); err != nil {
			return err
		}
	} else if _, err := docker("start", c.id); err != nil {
		return err
	}
	return c.waitReady()
}

// firstStart creates and starts the container, on another port if the one
// chosen was taken in the meantime.
func (c *Cluster) firstStart() error {
	var err error
	for range 3 {
		if c.Port, err = loopback.FreePort(); err != nil {
			return err
		}
		if c.id, err = docker(c.createArgs()...); err != nil {
			return err
		}
		if _, err = docker("start", c.id); err == nil {
			return nil
		}
		_, _ = docker("rm", "--force", "--volumes", c.id) // best effort: the start already failed
		c.id = ""
		if !strings.Contains(err.Error(), "port is already allocated") && !strings.Contains(err.Error(), "address already in use") {
			return err
		}
	}
	return err
}

func (c *Cluster) createArgs() []string {
	args := []string{"create", "--label", containerLabel,
		"--publish", fmt.Sprintf("127.0.0.1:%d:5432", c.Port),
		// A file, never the environment, which docker inspect shows.
		"--mount", "type=bind,readonly,source=" + c.passwordPath() + ",target=" + passwordFile,
		"--env", "POSTGRES_PASSWORD_FILE=" + passwordFile,
		// Like the local cluster's initdb: no fsync for a throwaway cluster.
		"--env", "POSTGRES_INITDB_ARGS=--no-sync",
		"--shm-size", "128m",
		c.image}
	for _, s := range settings {
		args = append(args, "-c", s)
	}
	return args
}

// waitReady waits until the superuser can connect over TCP, which the
// image allows only once its first-start initialisation is over.
func (c *Cluster) waitReady() error {
	deadline := time.Now().Add(readyTimeout)
	for {
		err := ping(c.URL("postgres"))
		if err == nil {
			return nil
		}
		state, serr := docker("inspect", "--format", "{{.State.Status}}", c.id)
		switch {
		case serr != nil:
			return serr
		case state != "running":
			return c.failure("the container is " + state)
		case time.Now().After(deadline):
			return c.failure(fmt.Sprintf("no connection after %s: %v", readyTimeout, err))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func ping(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// failure describes a container that did not come up, with the end of its
// log, where the server says why.
func (c *Cluster) failure(what string) error {
	logs, _ := exec.Command("docker", "logs", "--tail", "30", c.id).CombinedOutput()
	return fmt.Errorf("PostgreSQL in container %.12s (image %s, port %d): %s; its last log lines:\n%s", c.id, c.image, c.Port, what, logs)
}

// stopContainer stops the server as pg_ctl -m fast would: the images stop
// PostgreSQL with SIGINT, which cuts open connections.
func (c *Cluster) stopContainer() error {
	_, err := docker("stop", c.id)
	return err
}

// removeContainer removes the container with its volume (the official
// image declares one for its data) and the password file.
func (c *Cluster) removeContainer() {
	// Remove runs as cleanup, with nobody to tell; the label finds a
	// container a failure leaves (docker ps -a --filter label=gantry.pgtest).
	if c.id != "" {
		_, _ = docker("rm", "--force", "--volumes", c.id)
	}
	_ = os.RemoveAll(c.dir)
}

// docker runs the docker command and returns what it printed; its error
// carries what docker said was wrong.
func docker(args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("docker", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %v: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}
