// Package gobuild builds the service binaries the way every non-Bazel path
// in Gantry does (the image tool, the cross-compilation and reproducibility
// checks), so the flags live in one place. They mirror the Bazel build:
// CGO off (pure = "on"), static, paths trimmed, symbols stripped, and the
// version stamped into buildinfo as x_defs does.
package gobuild

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// Package is the main package built when Options name none: the API's.
const Package = "./services/api"

// StampVars are the variables -X sets; each service's go_binary stamps the
// same ones through x_defs, which a test in tools/repocheck checks.
const (
	VersionVar = "github.com/gantry-dev/gantry/services/internal/buildinfo.Version"
	CommitVar  = "github.com/gantry-dev/gantry/services/internal/buildinfo.Commit"
)

// Tags are the build tags of the binary. nethttpomithttp2 leaves HTTP/2
// out of net/http: the server speaks plain HTTP/1.1 behind whatever
// terminates TLS, and the healthcheck client calls localhost, so HTTP/2
// could never be negotiated; leaving it out takes about 0.5 MB off the
// binary and the image. services/api/BUILD.bazel sets the same gotags.
var Tags = []string{"nethttpomithttp2"}

// Options choose what to build; Dir is the repository root.
type Options struct {
	Dir     string
	Package string // the main package, "./services/notifier"; default Package
	GOOS    string // default linux
	GOARCH  string // amd64 or arm64
	Out     string
	Version string // default "dev"
	Commit  string // default "unknown"
	Env     []string
	// ExtraTags are build tags beyond Tags, for builds that never ship:
	// the benchmark's gantry_noauth, which measures what auth costs.
	ExtraTags []string
}

// Args returns the go command line for o: the one definition of the flags.
func Args(o Options) []string {
	ldflags := []string{"-s", "-w", "-buildid="}
	if o.Version != "" {
		ldflags = append(ldflags, "-X", VersionVar+"="+o.Version)
	}
	if o.Commit != "" {
		ldflags = append(ldflags, "-X", CommitVar+"="+o.Commit)
	}
	tags := append(slices.Clone(Tags), o.ExtraTags...)
	return []string{"build", "-trimpath", "-buildvcs=false", "-tags=" + strings.Join(tags, ","),
		"-ldflags=" + strings.Join(ldflags, " "), "-o", o.Out, o.mainPackage()}
}

func (o Options) mainPackage() string {
	if o.Package == "" {
		return Package
	}
	return o.Package
}

// Env returns the environment of the build: static and cross-compiled.
func Env(o Options) []string {
	goos := o.GOOS
	if goos == "" {
		goos = "linux"
	}
	env := append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+o.GOARCH)
	return append(env, o.Env...)
}

// Build runs the go command.
func Build(ctx context.Context, o Options) error {
	cmd := exec.CommandContext(ctx, "go", Args(o)...)
	cmd.Dir = o.Dir
	cmd.Env = Env(o)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(Args(o), " "), err, out)
	}
	return nil
}

// FindRoot returns the repository root: the nearest directory at or above
// dir that holds go.mod. Tools and tests find the files they check from it.
func FindRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod at or above %s: run this inside the repository", dir)
		}
		dir = parent
	}
}
