package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/tools/gobuild"
	"github.com/gantry-dev/gantry/tools/kube/cluster"
)

const usage = `usage: go run ./tools/kube <command> [arguments]

commands:
  validate [-n NS] (-f FILE | -k DIR)...
                     start etcd and kube-apiserver on loopback, apply the
                     manifests with --dry-run=server --warnings-as-errors into
                     namespace NS (default gantry), labelled to enforce the
                     "restricted" Pod Security Standard; stop everything
  up                 start a single-node cluster and leave it running (root);
                     prints the environment for kubectl
  import IMAGE...    copy images from the local Docker into the node
                     (use them with imagePullPolicy: Never)
  env                print the environment for kubectl of the running cluster
  down               stop the cluster and restore the host; works after a crash
  run [-import IMAGE]... -- COMMAND [ARG...]
                     up, import, run COMMAND with KUBECONFIG set, down
  host save FILE     record the host state a node changes
  host diff FILE     compare the host with a record; exit 1 on a difference
  pin [-o FILE]      read what bazel run //oci:push printed on stdin and
                     write the prod overlay's images by digest (default
                     FILE: deploy/overlays/prod/images/kustomization.yaml)

The cluster lives in $GANTRY_KUBE_STATE (default /var/tmp/gantry-kube).
The binaries are built on first use: about 30 minutes on 2 cores.`

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg + "\n" + usage }

func exitCode(err error) int {
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

// run is the whole program with its dependencies passed in.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		return usageError{"no command given"}
	}
	state := cluster.StateDir(getenv)
	cmd, rest := args[1], args[2:]
	switch cmd {
	case "validate":
		return validate(ctx, rest, stdout)
	case "up":
		if len(rest) > 0 {
			return usageError{"up takes no arguments"}
		}
		c, err := up(ctx, state, true, stderr)
		if err != nil {
			return err
		}
		_, err = fmt.Fprint(stdout, c.Env())
		return err
	case "import":
		if len(rest) == 0 {
			return usageError{"import needs an IMAGE"}
		}
		c, err := load(ctx, state)
		if err != nil {
			return err
		}
		return c.ImportDocker(ctx, rest...)
	case "env":
		c, err := load(ctx, state)
		if err != nil {
			return err
		}
		_, err = fmt.Fprint(stdout, c.Env())
		return err
	case "down":
		return cluster.Down(state, stderr)
	case "run":
		return runWith(ctx, state, rest, stdout, stderr)
	case "host":
		return host(rest, stdout)
	case "pin":
		return pin(rest, stdin, stdout)
	case "help", "-h", "-help", "--help":
		_, err := fmt.Fprintln(stdout, usage)
		return err
	}
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

// sources collects repeated -f and -k flags in order, as kubectl takes them.
type sources struct {
	flag string
	list *[]string
}

func (s sources) String() string { return "" }
func (s sources) Set(v string) error {
	*s.list = append(*s.list, s.flag+"="+v)
	return nil
}

// validate dry-runs the manifests on a control plane of its own, and
// fails as well when that would not stop: it would still be running.
func validate(ctx context.Context, args []string, stdout io.Writer) (err error) {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	ns := fs.String("n", "gantry", "namespace")
	var list []string
	fs.Var(sources{"--filename", &list}, "f", "a manifest file or directory")
	fs.Var(sources{"--kustomize", &list}, "k", "a kustomization directory")
	if err := fs.Parse(args); err != nil {
		return usageError{"validate: " + err.Error()}
	}
	if len(list) == 0 || fs.NArg() > 0 {
		return usageError{"validate needs -f FILE or -k DIR, and nothing else"}
	}
	root, err := gobuild.FindRoot(".")
	if err != nil {
		return err
	}
	bin, err := cluster.BuildBinaries(ctx, root)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "gantry-validate-")
	if err != nil {
		return err
	}
	start := time.Now()
	cp, err := cluster.StartControlPlane(ctx, root, bin, dir)
	if err != nil {
		// StartControlPlane has stopped what it started, or said what
		// would not stop.
		return errors.Join(err, os.RemoveAll(dir))
	}
	defer func() { err = errors.Join(err, cp.Stop()) }()
	if _, err := fmt.Fprintf(stdout, "validate: control plane ready in %.1fs\n", time.Since(start).Seconds()); err != nil {
		return err
	}
	if err := cp.RestrictedNamespace(ctx, *ns); err != nil {
		return err
	}
	out, err := cp.Validate(ctx, *ns, list...)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(stdout, out)
	return err
}

func up(ctx context.Context, state string, detach bool, log io.Writer) (*cluster.Cluster, error) {
	root, err := gobuild.FindRoot(".")
	if err != nil {
		return nil, err
	}
	bin, err := cluster.BuildBinaries(ctx, root)
	if err != nil {
		return nil, err
	}
	return cluster.Up(ctx, cluster.Options{Root: root, Bin: bin, State: state, Detach: detach, Log: log})
}

func load(ctx context.Context, state string) (*cluster.Cluster, error) {
	root, err := gobuild.FindRoot(".")
	if err != nil {
		return nil, err
	}
	bin, err := cluster.FindBinaries(ctx, root)
	if err != nil {
		return nil, err
	}
	return cluster.Load(state, bin)
}

// runWith is up, import and COMMAND, with down however they end: an error,
// COMMAND failing, or a signal.
func runWith(ctx context.Context, state string, args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var images []string
	fs.Func("import", "an image to copy from Docker", func(v string) error { images = append(images, v); return nil })
	if err := fs.Parse(args); err != nil {
		return usageError{"run: " + err.Error()}
	}
	if fs.NArg() == 0 {
		return usageError{"run needs a COMMAND after --"}
	}
	c, err := up(ctx, state, false, stderr)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cluster.Down(state, stderr)) }()
	if err := c.ImportDocker(ctx, images...); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, fs.Arg(0), fs.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig, "PATH="+string(c.Binaries())+":"+os.Getenv("PATH"))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", strings.Join(fs.Args(), " "), err)
	}
	return nil
}

func host(args []string, stdout io.Writer) error {
	if len(args) != 2 || (args[0] != "save" && args[0] != "diff") {
		return usageError{"host needs save FILE or diff FILE"}
	}
	now, err := cluster.SnapshotHost()
	if err != nil {
		return err
	}
	if args[0] == "save" {
		return cluster.SaveHost(args[1], now)
	}
	before, err := cluster.LoadHost(args[1])
	if err != nil {
		return err
	}
	if d := cluster.Diff(before, now); len(d) > 0 {
		return fmt.Errorf("the host differs from %s:\n%s", args[1], strings.Join(d, "\n"))
	}
	_, err = fmt.Fprintf(stdout, "host: as recorded in %s\n", args[1])
	return err
}
