package manifests

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/tools/kube/cluster"
)

// facts are what the code and the repository's other files say, which the
// manifests must agree with.
type facts struct {
	root     string
	defaults configDefaults
	routes   map[string]bool            // the admin listener's paths
	built    map[string]builtImage      // by service
	compose  map[string]composeService  // by compose service
	env      map[string]map[string]bool // variables each service of oci/ reads
	ports    map[string][]string        // by service of oci/: "PORT" and/or "ADMIN_PORT", the listeners it opens
}

func readFacts(t *testing.T) facts {
	t.Helper()
	root := cluster.RepoRoot(t)
	f := facts{
		root:     root,
		defaults: readConfigDefaults(t, root),
		routes:   adminRoutes(t, root),
		built:    builtImages(t, root),
		compose:  readCompose(t, root),
		env:      map[string]map[string]bool{},
		ports:    map[string][]string{},
	}
	for s := range f.built {
		f.env[s] = envNames(t, root, s)
		f.ports[s] = listeners(t, root, s)
	}
	return f
}

// listeners are the settings of the ports a service opens: its main
// package hands cfg.Port and cfg.AdminPort (config.Config's) to a server.
func listeners(t *testing.T, root, service string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "services", service, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "cfg" {
					used[sel.Sel.Name] = true
				}
			}
			return true
		})
	}
	var out []string
	if used["Port"] {
		out = append(out, "PORT")
	}
	if used["AdminPort"] {
		out = append(out, "ADMIN_PORT")
	}
	if len(out) == 0 {
		t.Fatalf("services/%s opens no listener of config.Config's (cfg.Port, cfg.AdminPort)", service)
	}
	return out
}

// mainPackage reports whether services/NAME is a binary of the repository.
func mainPackage(root, name string) bool {
	_, err := os.Stat(filepath.Join(root, "services", name, "main.go"))
	return err == nil
}
