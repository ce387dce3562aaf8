package bazelspec

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/bazelbuild/buildtools/build"
)

// check runs what needs every target: names, labels and $(location)s.
func (e *evaluator) check() {
	e.checkNames()
	others := map[string]*otherPackage{}
	for _, t := range e.pkg.Targets {
		if t.Generated || t.rule == nil {
			continue
		}
		for _, attrName := range sortedKeys(t.Attrs) {
			a, ok := t.rule.attrs[attrName]
			if !ok {
				continue // already reported
			}
			v := t.Attrs[attrName]
			for _, l := range append(conditions(v), labelsIn(a, v)...) {
				if why := e.resolve(l, others); why != "" {
					e.problems = append(e.problems, fmt.Sprintf("%s: %s: %s %s", t.describe(), attrName, l, why))
				}
			}
			if len(a.expandsWith) > 0 {
				e.checkExpansions(t, attrName, a)
			}
		}
	}
}

// conditions are the labels a select() chooses by.
func conditions(v any) []string {
	sel, ok := v.(Select)
	if !ok {
		return nil
	}
	var out []string
	for _, c := range sortedKeys(sel.Branches) {
		if c != "//conditions:default" {
			out = append(out, c)
		}
	}
	return out
}

// checkNames: Bazel refuses a package where two targets share a name, or a
// declared file shares one with a target, another declared file or a
// source file.
func (e *evaluator) checkNames() {
	seen := map[string]*Target{}
	claim := func(name, what string, t *Target) {
		if first, ok := seen[name]; ok {
			e.problems = append(e.problems, fmt.Sprintf("%s: %s %q is declared twice; first by %s", t.describe(), what, name, first.describe()))
			return
		}
		seen[name] = t
	}
	for _, t := range e.pkg.Targets {
		if t.Name != "" {
			claim(t.Name, "target", t)
		}
	}
	for _, t := range e.pkg.Targets {
		for _, out := range t.Outputs {
			claim(out, "output file", t)
			if e.sourceFile(e.pkg.Path, out) {
				e.problems = append(e.problems, fmt.Sprintf("%s: output file %q is also a source file of //%s", t.describe(), out, e.pkg.Path))
			}
		}
	}
}

// resolve says why label l (as written in the package) names nothing, or "".
func (e *evaluator) resolve(s string, others map[string]*otherPackage) string {
	l, err := ParseLabel(s, e.pkg.Path)
	if err != nil {
		return err.Error()
	}
	if l.Repo != "" && l.Repo != e.module.main {
		if !e.module.repos[l.Repo] {
			return fmt.Sprintf("names repository @%s, which MODULE.bazel neither depends on (bazel_dep) nor imports (use_repo)", l.Repo)
		}
		return "" // what is inside another repository cannot be seen from here
	}
	if l.Pkg == e.pkg.Path {
		for _, t := range e.pkg.Targets {
			if t.Name == l.Name || slices.Contains(t.Outputs, l.Name) {
				return ""
			}
		}
		if e.sourceFile(l.Pkg, l.Name) {
			return ""
		}
		return fmt.Sprintf("names no target of //%s, and no file %s/%s exists", l.Pkg, l.Pkg, l.Name)
	}
	other, ok := others[l.Pkg]
	if !ok {
		other, err = e.readPackage(l.Pkg)
		if err != nil {
			return err.Error()
		}
		others[l.Pkg] = other
	}
	if other == nil {
		return fmt.Sprintf("names package //%s, which has no BUILD.bazel", l.Pkg)
	}
	if r := other.rule(l.Name); r != nil {
		if !other.visibleTo(r, e.pkg.Path) {
			return fmt.Sprintf("names a target of //%s that //%s may not see (its visibility)", l.Pkg, e.pkg.Path)
		}
		return ""
	}
	if other.outputs[l.Name] || e.sourceFile(l.Pkg, l.Name) {
		return ""
	}
	return fmt.Sprintf("names no target in %s/BUILD.bazel, and no file %s/%s exists", l.Pkg, l.Pkg, l.Name)
}

// sourceFile reports whether name is a file of package pkg: under its
// directory, not inside a subpackage.
func (e *evaluator) sourceFile(pkg, name string) bool {
	fi, err := os.Stat(filepath.Join(e.root, filepath.FromSlash(pkg), filepath.FromSlash(name)))
	if err != nil || fi.IsDir() {
		return false
	}
	for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
		if hasBuildFile(filepath.Join(e.root, filepath.FromSlash(pkg), filepath.FromSlash(dir))) {
			return false
		}
	}
	return true
}

func hasBuildFile(dir string) bool {
	for _, f := range []string{"BUILD.bazel", "BUILD"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}

// locationRef finds $(location ...) and its kin, which Bazel expands only
// for labels among the rule's dependencies.
var locationRef = regexp.MustCompile(`\$\((?:execpaths?|rootpaths?|rlocationpaths?|locations?) ([^)\s]+)\)`)

func (e *evaluator) checkExpansions(t *Target, attrName string, a attr) {
	deps := map[Label]bool{}
	for _, depAttr := range a.expandsWith {
		for _, s := range labelsIn(t.rule.attrs[depAttr], t.Attrs[depAttr]) {
			if l, err := ParseLabel(s, e.pkg.Path); err == nil {
				deps[l] = true
			}
		}
	}
	for _, s := range stringsIn(t.Attrs[attrName]) {
		for _, m := range locationRef.FindAllStringSubmatch(s, -1) {
			l, err := ParseLabel(m[1], e.pkg.Path)
			if err != nil {
				e.problems = append(e.problems, fmt.Sprintf("%s: %s: %s: %v", t.describe(), attrName, m[0], err))
				continue
			}
			if !deps[l] {
				e.problems = append(e.problems, fmt.Sprintf("%s: %s: %s names %s, which is not in %s: Bazel expands only the labels of those", t.describe(), attrName, m[0], l, strings.Join(a.expandsWith, ", ")))
			}
		}
	}
}

// otherPackage is another package of this repository, read (not
// evaluated) from its BUILD file: its rules by name, and their visibility.
type otherPackage struct {
	path              string
	rules             map[string]*build.Rule
	outputs           map[string]bool
	defaultVisibility []string
}

// readPackage reads pkg's BUILD file; nil when there is none.
func (e *evaluator) readPackage(pkg string) (*otherPackage, error) {
	dir := filepath.Join(e.root, filepath.FromSlash(pkg))
	var data []byte
	var name string
	for _, f := range []string{"BUILD.bazel", "BUILD"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err == nil {
			data, name = b, path.Join(pkg, f)
			break
		}
	}
	if name == "" {
		return nil, nil
	}
	f, err := build.ParseBuild(name, data)
	if err != nil {
		return nil, err
	}
	p := &otherPackage{path: pkg, rules: map[string]*build.Rule{}, outputs: map[string]bool{}}
	for _, r := range f.Rules("") {
		if r.Kind() == "package" {
			p.defaultVisibility = r.AttrStrings("default_visibility")
			continue
		}
		if n := r.Name(); n != "" {
			p.rules[n] = r
		}
		if out := r.AttrString("out"); out != "" {
			p.outputs[out] = true
		}
		for _, out := range r.AttrStrings("outs") {
			p.outputs[out] = true
		}
	}
	return p, nil
}

func (p *otherPackage) rule(name string) *build.Rule { return p.rules[name] }

// RuleKind returns the kind of the rule label names in root's BUILD files
// ("go_binary"), read without evaluation; "" when there is no such rule.
func RuleKind(root, label string) (string, error) {
	l, err := ParseLabel(label, "")
	if err != nil {
		return "", err
	}
	e := &evaluator{root: root}
	p, err := e.readPackage(l.Pkg)
	if err != nil || p == nil {
		return "", err
	}
	if r := p.rule(l.Name); r != nil {
		return r.Kind(), nil
	}
	return "", nil
}

// visibleTo reports whether package pkg may depend on rule r: its
// visibility, else the package's default, else private.
func (p *otherPackage) visibleTo(r *build.Rule, pkg string) bool {
	vis := p.defaultVisibility
	if r.Attr("visibility") != nil {
		vis = r.AttrStrings("visibility")
	}
	for _, v := range vis {
		switch {
		case v == "//visibility:public", v == "//"+pkg+":__pkg__":
			return true
		case strings.HasSuffix(v, ":__subpackages__"):
			parent := strings.TrimSuffix(strings.TrimPrefix(v, "//"), ":__subpackages__")
			if parent == "" || pkg == parent || strings.HasPrefix(pkg, parent+"/") {
				return true
			}
		}
	}
	return false
}
