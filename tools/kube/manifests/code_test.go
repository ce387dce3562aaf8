package manifests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// What the manifests are held to, read from the services' code: tools/
// cannot import services/internal, so the facts come from its source, and
// from running the binaries.

const module = "github.com/gantry-dev/gantry/"

// goConsts are the constants of a Go file whose values are an integer
// literal or one times a time unit (8080, 20 * time.Second), as
// durations or plain numbers.
func goConsts(t *testing.T, file string) map[string]int64 {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	units := map[string]time.Duration{"Millisecond": time.Millisecond, "Second": time.Second, "Minute": time.Minute, "Hour": time.Hour}
	consts := map[string]int64{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if i >= len(vs.Values) {
					continue
				}
				switch v := vs.Values[i].(type) {
				case *ast.BasicLit:
					if x, err := strconv.ParseInt(v.Value, 0, 64); err == nil {
						consts[n.Name] = x
					}
				case *ast.BinaryExpr:
					lit, ok1 := v.X.(*ast.BasicLit)
					sel, ok2 := v.Y.(*ast.SelectorExpr)
					if !ok1 || !ok2 || v.Op != token.MUL || units[sel.Sel.Name] == 0 {
						continue
					}
					if x, err := strconv.ParseInt(lit.Value, 0, 64); err == nil {
						consts[n.Name] = x * int64(units[sel.Sel.Name])
					}
				}
			}
		}
	}
	return consts
}

// configDefaults are services/internal/config's defaults.
type configDefaults struct {
	Port, AdminPort int32
	ShutdownTimeout time.Duration
}

func readConfigDefaults(t *testing.T, root string) configDefaults {
	t.Helper()
	file := filepath.Join(root, "services", "internal", "config", "config.go")
	c := goConsts(t, file)
	for _, name := range []string{"DefaultPort", "DefaultAdminPort", "DefaultShutdownTimeout"} {
		if _, ok := c[name]; !ok {
			t.Fatalf("%s: no constant %s of a literal value; this test reads the defaults from there", file, name)
		}
	}
	return configDefaults{
		Port:            int32(c["DefaultPort"]),      //nolint:gosec // G115: a port number, checked by the config package
		AdminPort:       int32(c["DefaultAdminPort"]), //nolint:gosec // G115: as above
		ShutdownTimeout: time.Duration(c["DefaultShutdownTimeout"]),
	}
}

// adminRoutes are the paths the admin listener serves (process.Admin's
// "GET /path" patterns).
func adminRoutes(t *testing.T, root string) map[string]bool {
	t.Helper()
	file := filepath.Join(root, "services", "internal", "process", "admin.go")
	routes := map[string]bool{}
	for _, s := range stringLiterals(t, file) {
		if p, ok := strings.CutPrefix(s, "GET /"); ok {
			routes["/"+p] = true
		}
	}
	if len(routes) == 0 {
		t.Fatalf("%s: no \"GET /path\" route; this test reads the admin listener's routes from there", file)
	}
	return routes
}

func stringLiterals(t *testing.T, file string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil {
				out = append(out, s)
			}
		}
		return true
	})
	return out
}

// runtimeVars are read by the Go runtime of every binary, not by its code.
var runtimeVars = map[string]bool{"GOMEMLIMIT": true, "GOGC": true, "GOMAXPROCS": true, "GODEBUG": true, "GOTRACEBACK": true}

var envName = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$|^[A-Z]{2,}$`)

// envNames are the names a service's binary may read from its
// environment: every string literal shaped like a variable's name in the
// non-test Go files of its package and of the module's packages it
// imports, and what the Go runtime reads. A name set in a manifest and
// missing here is read by nothing: a typo, or a setting that went away.
func envNames(t *testing.T, root, service string) map[string]bool {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Dir,GoFiles", "./services/"+service)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("go list ./services/%s: %v\n%s", service, err, exit.Stderr)
		}
		t.Fatal(err)
	}
	names := map[string]bool{}
	for name := range runtimeVars {
		names[name] = true
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct {
			ImportPath, Dir string
			GoFiles         []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(p.ImportPath, module) {
			continue
		}
		for _, f := range p.GoFiles {
			for _, s := range stringLiterals(t, filepath.Join(p.Dir, f)) {
				if envName.MatchString(s) {
					names[s] = true
				}
			}
		}
	}
	return names
}

// binaries are the services built once per run of the tests, in binDir,
// which TestMain makes and removes.
var (
	binaries = map[string]string{}
	binDir   string
)

func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "manifests-bin-"); err != nil {
		panic(err)
	}
	code := m.Run()
	_ = os.RemoveAll(binDir) // a temporary directory, at worst left behind
	os.Exit(code)
}

// binary builds a service's binary, for running it as a container would.
func binary(t *testing.T, root, service string) string {
	t.Helper()
	if b, ok := binaries[service]; ok {
		return b
	}
	out := filepath.Join(binDir, service)
	if err := goBuild(t.Context(), root, out, "./services/"+service); err != nil {
		t.Fatal(err)
	}
	binaries[service] = out
	return out
}

// runBinary runs a service's binary with args and exactly env, as a
// container's entrypoint with its args, and returns its exit status and
// stderr.
func runBinary(t *testing.T, bin string, args, env []string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env, cmd.Stderr, cmd.Dir = env, &stderr, t.TempDir()
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &exit) && ctx.Err() == nil:
		return exit.ExitCode(), stderr.String()
	}
	t.Fatalf("%s %s: %v (it should have stopped at once: no database is reachable)\n%s", bin, strings.Join(args, " "), err, stderr.String())
	return 0, ""
}
