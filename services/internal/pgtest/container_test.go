package pgtest

import (
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// inspected is what docker inspect says about a cluster's container.
type inspected struct {
	Config struct {
		Env    []string
		Labels map[string]string
	}
	HostConfig struct {
		PortBindings map[string][]struct{ HostIP, HostPort string }
	}
	Mounts []struct{ Type, Name, Source, Destination string }
}

func inspect(t *testing.T, id string) inspected {
	t.Helper()
	out, err := docker("inspect", id)
	if err != nil {
		t.Fatal(err)
	}
	var got []inspected
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 {
		t.Fatalf("docker inspect %s: %v\n%s", id, err, out)
	}
	return got[0]
}

// The container path is proved only when it is taken: CI runs this package
// with GANTRY_PGTEST=container.
func TestAContainerClusterKeepsItsPortAndDataAndLeavesNothingBehind(t *testing.T) {
	if src, err := selected(); err != nil || src.image == "" {
		if os.Getenv(ModeEnv) == "container" {
			t.Fatalf("%s=container, but: %v", ModeEnv, err)
		}
		t.Skipf("SKIPPING: PostgreSQL runs from initdb here (%s=container runs it in Docker)", ModeEnv)
	}
	c := NewCluster(t) // ready once the superuser's password, specials and all, works
	got := inspect(t, c.id)

	t.Run("the password is a file, never in the environment", func(t *testing.T) {
		for _, e := range got.Config.Env {
			if strings.Contains(e, Password) || strings.HasPrefix(e, "POSTGRES_PASSWORD=") {
				t.Errorf("the environment holds the password: %q", e)
			}
		}
		if !slices.Contains(got.Config.Env, "POSTGRES_PASSWORD_FILE="+passwordFile) {
			t.Errorf("no POSTGRES_PASSWORD_FILE in %q", got.Config.Env)
		}
		for p, want := range map[string]os.FileMode{c.dir: 0o700 | os.ModeDir, c.passwordPath(): 0o644} {
			if fi, err := os.Stat(p); err != nil {
				t.Error(err)
			} else if fi.Mode() != want {
				t.Errorf("%s: mode %v, want %v", p, fi.Mode(), want)
			}
		}
	})
	t.Run("the port is published on loopback only", func(t *testing.T) {
		b := got.HostConfig.PortBindings["5432/tcp"]
		if len(b) != 1 || b[0].HostIP != "127.0.0.1" || b[0].HostPort != strconv.Itoa(c.Port) {
			t.Errorf("5432/tcp is bound to %+v, want 127.0.0.1:%d", b, c.Port)
		}
	})
	t.Run("it is labelled, so a leftover can be found", func(t *testing.T) {
		if _, ok := got.Config.Labels[containerLabel]; !ok {
			t.Errorf("labels %v lack %s", got.Config.Labels, containerLabel)
		}
	})

	t.Run("a restart keeps the port and the databases", func(t *testing.T) {
		url := CreateDB(t, c.URL("postgres"))
		if err := c.Stop(); err != nil {
			t.Fatal(err)
		}
		if err := ping(url); err == nil {
			t.Fatal("connected to a stopped server")
		}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		if err := ping(url); err != nil {
			t.Fatalf("after the restart, on the same URL: %v", err)
		}
	})

	t.Run("Remove leaves no container, volume or password file", func(t *testing.T) {
		c.Remove()
		if _, err := docker("inspect", c.id); err == nil {
			t.Errorf("container %s is still there", c.id)
		}
		for _, m := range got.Mounts {
			if m.Type == "volume" {
				if _, err := docker("volume", "inspect", m.Name); err == nil {
					t.Errorf("volume %s is still there", m.Name)
				}
			}
		}
		if _, err := os.Stat(c.dir); !os.IsNotExist(err) {
			t.Errorf("%s: %v, want it gone", c.dir, err)
		}
	})
}
