package pgtest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gantry-dev/gantry/services/loopback"
)

// Binaries are the PostgreSQL server programs a cluster needs.
type Binaries struct {
	InitDB, PgCtl string
}

// Tool returns the path of another program of the same installation, such
// as pgbench.
func (b Binaries) Tool(name string) string {
	return filepath.Join(filepath.Dir(b.PgCtl), name)
}

// FindBinaries looks on PATH, then in Debian's versioned directories,
// which are on no PATH, newest major first. PATH finds the Nix shell's
// PostgreSQL, Fedora's (/usr/bin) and one under /usr/local/bin; under
// bazel test PATH is Bazel's fixed /bin:/usr/bin:/usr/local/bin unless
// --config=db passes the shell's. Links are resolved, so that Tool finds
// the programs installed beside them.
func FindBinaries() (Binaries, error) {
	initdb, err1 := exec.LookPath("initdb")
	pgctl, err2 := exec.LookPath("pg_ctl")
	if err1 == nil && err2 == nil {
		initdb, err1 = filepath.EvalSymlinks(initdb)
		pgctl, err2 = filepath.EvalSymlinks(pgctl)
	}
	if err1 == nil && err2 == nil {
		return Binaries{initdb, pgctl}, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return majorOf(b) - majorOf(a) })
	for _, d := range dirs {
		b := Binaries{filepath.Join(d, "initdb"), filepath.Join(d, "pg_ctl")}
		if isExecutable(b.InitDB) && isExecutable(b.PgCtl) {
			return b, nil
		}
	}
	return Binaries{}, fmt.Errorf("initdb and pg_ctl are neither on PATH (%s) nor under /usr/lib/postgresql/*/bin (apt-get install postgresql)", os.Getenv("PATH"))
}

func majorOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode()&0o111 != 0
}

// Cluster is a PostgreSQL server in a temporary directory, or in a
// container, listening on 127.0.0.1 only.
type Cluster struct {
	bin   Binaries
	image string // set when a container runs the server instead of bin
	id    string // the container, once created
	dir   string
	Port  int
	cred  *syscall.Credential
}

// settings are the server's, whatever runs it. Durability is off: these
// databases live for one test run.
var settings = []string{"fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200"}

// NewCluster starts a cluster of t's own, for tests that stop and start the
// server; it is removed when t ends.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	c := InitCluster(t)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	return c
}

// InitCluster creates a cluster of t's own without starting it, for tests
// of a service that starts before its database.
func InitCluster(t testing.TB) *Cluster {
	t.Helper()
	src, err := selected()
	if errors.Is(err, errNoServer) && os.Getenv(RequireEnv) == "" {
		t.Skip("SKIPPING: " + err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	c, err := initCluster(src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Remove)
	return c
}

// StartCluster creates and starts a cluster; the caller must Remove it.
func StartCluster(bin Binaries) (*Cluster, error) {
	return startCluster(source{bin: bin})
}

func startCluster(src source) (*Cluster, error) {
	c, err := initCluster(src)
	if err != nil {
		return nil, err
	}
	if err := c.Start(); err != nil {
		c.Remove()
		return nil, err
	}
	return c, nil
}

func initCluster(src source) (*Cluster, error) {
	if src.image != "" {
		return initContainer(src.image)
	}
	bin := src.bin
	dir, err := os.MkdirTemp("", "gantry-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, dir: dir}
	if err := c.dropRoot(); err != nil {
		_ = os.RemoveAll(dir) // an empty directory under the temp dir, at worst left behind
		return nil, err
	}
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(Password+"\n"), 0o600); err != nil {
		return nil, err
	}
	if c.cred != nil {
		// initdb runs as that user and must read the file.
		if err := os.Chown(pwfile, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return nil, err
		}
	}
	out, err := c.command(bin.InitDB, "-D", c.data(), "-U", "postgres", "--pwfile", pwfile,
		"-A", "scram-sha-256", "-E", "UTF8", "--no-locale", "--no-sync").CombinedOutput()
	if err != nil {
		c.Remove()
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	return c, nil
}

// dropRoot arranges for the server to run as an unprivileged user when the
// tests run as root (as in CI containers): initdb refuses to run as root.
func (c *Cluster) dropRoot() error {
	if os.Geteuid() != 0 {
		return nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		return os.Chown(c.dir, int(uid), int(gid))
	}
	return errors.New("running as root, and there is neither a postgres nor a nobody user to run PostgreSQL as")
}

func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

// Start starts the server, on the same port as before if it ran already.
func (c *Cluster) Start() error {
	if c.image != "" {
		return c.startContainer()
	}
	var out []byte
	var err error
	for attempt := range 3 {
		if c.Port == 0 || attempt > 0 {
			if c.Port, err = loopback.FreePort(); err != nil {
				return err
			}
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c %s", c.Port, c.dir, strings.Join(settings, " -c "))
		out, err = c.command(c.bin.PgCtl, "-D", c.data(), "-l", filepath.Join(c.dir, "log"), "-o", opts, "-w", "-t", "60", "start").CombinedOutput()
		if err == nil {
			return nil
		}
	}
	log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
	return fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
}

// Stop shuts the server down fast: open connections are cut, as in a crash
// of the database host seen from the client.
func (c *Cluster) Stop() error {
	if c.image != "" {
		return c.stopContainer()
	}
	out, err := c.command(c.bin.PgCtl, "-D", c.data(), "-m", "fast", "-w", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return nil
}

// Remove stops the server if it runs and deletes its directory.
func (c *Cluster) Remove() {
	if c.image != "" {
		c.removeContainer()
		return
	}
	// Fails when the server is not running, which is fine: then there is
	// nothing to stop.
	_ = c.command(c.bin.PgCtl, "-D", c.data(), "-m", "immediate", "-w", "stop").Run()
	// Remove runs as cleanup, with nobody to tell; a leftover directory
	// under the temp dir is all a failure leaves.
	_ = os.RemoveAll(c.dir)
}

// URL is a superuser URL for database db, the password percent-encoded.
func (c *Cluster) URL(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword("postgres", Password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}
