package bazelspec

import (
	"os"
	"path/filepath"

	"github.com/bazelbuild/buildtools/build"
)

// moduleRepos are the repositories labels of the main module may name:
// its bazel_deps (by repo_name, else name) and what use_repo imports from
// module extensions, with bazel_tools, which Bazel always provides.
type moduleRepos struct {
	main  string // module(name = ...): "@gantry//x" is this repository
	repos map[string]bool
}

func readModule(root string) (moduleRepos, error) {
	m := moduleRepos{repos: map[string]bool{"bazel_tools": true}}
	p := filepath.Join(root, "MODULE.bazel")
	data, err := os.ReadFile(p)
	if err != nil {
		return m, err
	}
	f, err := build.ParseModule("MODULE.bazel", data)
	if err != nil {
		return m, err
	}
	for _, r := range f.Rules("") {
		switch r.Kind() {
		case "module":
			m.main = r.AttrString("name")
		case "bazel_dep":
			name := r.AttrString("repo_name")
			if name == "" {
				name = r.AttrString("name")
			}
			m.repos[name] = true
		case "use_repo":
			for i, arg := range r.Call.List {
				switch a := arg.(type) {
				case *build.StringExpr:
					if i > 0 {
						m.repos[a.Value] = true
					}
				case *build.AssignExpr:
					if id, ok := a.LHS.(*build.Ident); ok {
						m.repos[id.Name] = true
					}
				}
			}
		}
	}
	return m, nil
}
