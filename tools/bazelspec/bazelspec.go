// Package bazelspec evaluates a BUILD file and the macros it loads the way
// Bazel would load the package, without Bazel: with go.starlark.net, and
// with each rule it calls replaced by a recorder that knows the rule's
// attributes as the version MODULE.bazel pins declares them (rules.go).
//
// What it finds is what Bazel's loading phase would refuse: an attribute a
// rule lacks, a value of the wrong type, a select() where none is taken, a
// mandatory attribute left out, two targets (or outputs) with one name, a
// label that names no target (this repository's labels against the
// evaluated targets and the BUILD files of other packages; other
// repositories' against MODULE.bazel's bazel_dep and use_repo), and a
// $(location) that names no dependency. What it cannot find is anything of
// analysis or execution: a provider a rule does not accept, a toolchain, an
// action that fails. It is not Bazel; docs/bazel.md says what that leaves.
//
// The evaluated targets, with their attributes, are also what tools read:
// tools/ocispec takes the images' settings from them.
package bazelspec

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Package is what evaluating one BUILD file declared.
type Package struct {
	Path    string // the package, "oci"
	Targets []*Target
	Calls   []*Call // calls of the package's own macros (its local .bzl files)
}

// Target is one target of the package.
type Target struct {
	Kind  string // the rule or macro called: "oci_image"; or what a macro of the rules declared: "write_file"
	Name  string
	Attrs map[string]any // as given, None left out: string, int64, bool, []any, map[string]any, Select
	// Generated: declared by a macro of the rules beside its rule (no Attrs).
	Generated bool
	Outputs   []string // files it declares: out = "x.txt", NAME.json.sha256
	Call      *Call    // the package macro call that declared it, if any
	Pos       string   // where: the BUILD file's line, then the .bzl's

	rule *rule
}

// Call is one call of a macro defined in the package's own .bzl files.
type Call struct {
	Macro   string
	Args    map[string]any // converted like Target.Attrs; what cannot be is left out
	Pos     string
	Targets []*Target
}

// Target returns the target of the package with the given name, or nil.
func (p *Package) Target(name string) *Target {
	for _, t := range p.Targets {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Resolve returns the target of the package that label (as written in the
// package, ":x" or "//oci:x") names, or nil.
func (p *Package) Resolve(label string) *Target {
	l, err := ParseLabel(label, p.Path)
	if err != nil || l.Repo != "" || l.Pkg != p.Path {
		return nil
	}
	return p.Target(l.Name)
}

// CallsOf returns the calls of the named package macro.
func (p *Package) CallsOf(macro string) []*Call {
	var calls []*Call
	for _, c := range p.Calls {
		if c.Macro == macro {
			calls = append(calls, c)
		}
	}
	return calls
}

// String returns the string attribute, or "" when absent or not a string.
func (t *Target) String(attr string) string {
	s, _ := t.Attrs[attr].(string)
	return s
}

// Strings returns a list-of-strings attribute, or nil.
func (t *Target) Strings(attr string) []string {
	return stringList(t.Attrs[attr])
}

// Dict returns a dict-of-strings attribute, or nil.
func (t *Target) Dict(attr string) map[string]string {
	d, ok := t.Attrs[attr].(map[string]any)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(d))
	for k, v := range d {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

func stringList(v any) []string {
	l, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// LoadingErrors are everything wrong that one evaluation found, each
// naming the file and line to change.
type LoadingErrors []string

func (p LoadingErrors) Error() string {
	return strings.Join(p, "\n")
}

// AsProblems returns the problems err lists, or err's text as the only one.
func AsProblems(err error) []string {
	var p LoadingErrors
	if errors.As(err, &p) {
		return slices.Clone(p)
	}
	return []string{err.Error()}
}

func (t *Target) describe() string {
	return fmt.Sprintf("%s: %s %q", t.Pos, t.Kind, t.Name)
}
