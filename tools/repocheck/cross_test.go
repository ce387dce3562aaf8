package repocheck

import (
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/tools/gobuild"
)

// requireQEMUEnv turns a missing qemu-user into a failure (CI sets it).
const requireQEMUEnv = "GANTRY_REQUIRE_QEMU"

// Stamp values for the test builds; `version` must print them.
const (
	testVersion = "v0.0.0-repocheck"
	testCommit  = "0123456789abcdef0123456789abcdef01234567"
)

// elfMachine is the ELF machine of each GOARCH the image is built for.
var elfMachine = map[string]elf.Machine{
	"amd64": elf.EM_X86_64,
	"arm64": elf.EM_AARCH64,
}

// qemuFor runs a binary of arch on this host: directly when the host has
// that CPU, else under qemu-user. It skips (or fails, with
// GANTRY_REQUIRE_QEMU=1) when qemu-user is missing.
func qemuFor(t *testing.T, arch string) []string {
	t.Helper()
	if runtime.GOOS == "linux" && runtime.GOARCH == arch {
		return nil
	}
	name := map[string]string{"amd64": "qemu-x86_64", "arm64": "qemu-aarch64"}[arch]
	p, err := exec.LookPath(name)
	if err != nil {
		msg := name + " not found (apt-get install qemu-user): cannot run the " + arch + " binary"
		if os.Getenv(requireQEMUEnv) == "1" {
			t.Fatal(msg)
		}
		t.Skip("SKIPPING: " + msg + "; set " + requireQEMUEnv + "=1 to make this a failure")
	}
	return []string{p}
}

// checkStaticELF fails unless the file is a statically linked executable
// for arch: no program interpreter and no shared library needed, so it runs
// on distroless/static, which has no libc and no dynamic loader.
func checkStaticELF(t *testing.T, file, arch string) {
	t.Helper()
	f, err := elf.Open(file)
	if err != nil {
		t.Fatalf("%s is not an ELF file: %v", file, err)
	}
	defer func() { _ = f.Close() }() // read only: closing loses nothing
	if f.Machine != elfMachine[arch] || f.Class != elf.ELFCLASS64 {
		t.Errorf("machine %v, class %v; want %v, ELFCLASS64", f.Machine, f.Class, elfMachine[arch])
	}
	if f.Type != elf.ET_EXEC {
		t.Errorf("ELF type %v, want ET_EXEC (a position-dependent static executable)", f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("has a PT_INTERP program header: it needs a dynamic loader")
		}
		if p.Type == elf.PT_DYNAMIC {
			t.Error("has a PT_DYNAMIC segment: it is dynamically linked")
		}
	}
	needed, err := f.ImportedLibraries() // DT_NEEDED; none without .dynamic
	if err != nil {
		t.Errorf("reading DT_NEEDED: %v", err)
	}
	if len(needed) > 0 {
		t.Errorf("needs shared libraries %q", needed)
	}
	if f.Section(".symtab") != nil {
		t.Error("has a symbol table: the binary is not stripped (-s)")
	}
}

// TestCrossCompiledBinariesAreStaticAndRun builds each service binary the
// way its image needs it for each platform and runs it, under qemu-user
// where the CPU differs, so an "exec format error" cannot ship.
func TestCrossCompiledBinariesAreStaticAndRun(t *testing.T) {
	root := repoRoot(t)
	for _, s := range readServices(t) {
		for _, arch := range []string{"amd64", "arm64"} {
			t.Run("the linux/"+arch+" "+s.Name+" binary is a static ELF that prints its version", func(t *testing.T) {
				t.Parallel()
				out := filepath.Join(t.TempDir(), s.Name)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				defer cancel()
				err := gobuild.Build(ctx, gobuild.Options{Dir: root, Package: s.GoPackage(), GOARCH: arch, Out: out, Version: testVersion, Commit: testCommit})
				if err != nil {
					t.Fatal(err)
				}
				checkStaticELF(t, out, arch)

				argv := append(qemuFor(t, arch), out, "version")
				cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
				cmd.Env = []string{} // nothing from this machine: the image has no environment to speak of
				got, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, got)
				}
				line := strings.TrimSpace(string(got))
				for _, want := range []string{"gantry-" + s.Name, testVersion, testCommit, "linux/" + arch} {
					if !strings.Contains(line, want) {
						t.Errorf("version printed %q, want it to contain %q", line, want)
					}
				}
			})
		}
	}
}

// TestCleanBuildsAreBitIdentical builds the binaries twice from nothing, each
// time with an empty build cache, in a different directory and into a
// different output path, and compares the results byte for byte. Slow
// (two builds of the standard library and every dependency): skipped in
// -short mode.
func TestCleanBuildsAreBitIdentical(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPING in -short mode: two builds with empty caches take minutes")
	}
	root := repoRoot(t)
	// The second build runs from a copy of the module at another path:
	// -trimpath must keep that path out of the binary.
	copyRoot := filepath.Join(t.TempDir(), "elsewhere", "gantry")
	copyModule(t, root, copyRoot)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	services := readServices(t)
	sums := make([]map[string]string, 2)
	for i, dir := range []string{root, copyRoot} {
		tmp := t.TempDir()
		env := []string{
			"GOCACHE=" + filepath.Join(tmp, "gocache"),
			"GOFLAGS=-mod=readonly",
		}
		sums[i] = map[string]string{}
		// Every service from the same empty cache: the first builds the
		// standard library and the shared packages, the others reuse them.
		for _, s := range services {
			out := filepath.Join(tmp, "out", strings.Repeat("x", i+1), s.Name)
			start := time.Now()
			err := gobuild.Build(ctx, gobuild.Options{Dir: dir, Package: s.GoPackage(), GOARCH: "arm64", Out: out, Version: testVersion, Commit: testCommit, Env: env})
			if err != nil {
				t.Fatal(err)
			}
			sums[i][s.Name] = sha256File(t, out)
			t.Logf("build %d of %s in %s: sha256 %s (%s)", i+1, s.Name, dir, sums[i][s.Name], time.Since(start).Round(time.Second))
		}
	}
	for _, s := range services {
		if sums[0][s.Name] != sums[1][s.Name] {
			t.Errorf("two clean builds of %s differ: %s vs %s", s.Name, sums[0][s.Name], sums[1][s.Name])
		}
	}
}

// copyModule copies go.mod, go.sum and the Go packages the binary is built
// from (services/) to dst.
func copyModule(t *testing.T, src, dst string) {
	t.Helper()
	for _, rel := range []string{"go.mod", "go.sum", "services"} {
		err := filepath.WalkDir(filepath.Join(src, rel), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			r, err := filepath.Rel(src, p)
			if err != nil {
				return err
			}
			target := filepath.Join(dst, r)
			if d.IsDir() {
				return os.MkdirAll(target, 0o755)
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func sha256File(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read only: closing loses nothing
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
