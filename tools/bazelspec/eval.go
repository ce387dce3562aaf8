package bazelspec

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

// Bazel's Starlark dialect, for BUILD and .bzl files alike: no top-level
// if or for, no while, no recursion, no reassigned globals, no set.
var dialect = &syntax.FileOptions{}

type evaluator struct {
	root     string
	pkg      *Package
	module   moduleRepos
	modules  map[string]starlark.StringDict // loaded .bzl files by label
	loading  map[string]bool
	calls    []*Call // the package macro calls under way, innermost last
	problems LoadingErrors
}

// Evaluate loads root/<pkg>/BUILD.bazel as Bazel's loading phase would and
// returns its targets. The error, if any, is LoadingErrors: the package is
// returned too, as far as it was evaluated.
func Evaluate(root, pkg string) (*Package, error) {
	repos, err := readModule(root)
	if err != nil {
		return nil, err
	}
	e := &evaluator{
		root: root, pkg: &Package{Path: pkg}, module: repos,
		modules: map[string]starlark.StringDict{}, loading: map[string]bool{},
	}
	file := path.Join(pkg, "BUILD.bazel")
	src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
	if err != nil {
		return nil, err
	}
	if _, err := e.exec(file, src, e.buildGlobals(), true); err != nil {
		e.problems = append(e.problems, err.Error())
	}
	e.check()
	if len(e.problems) > 0 {
		return e.pkg, e.problems
	}
	return e.pkg, nil
}

// exec runs one Starlark file and returns its globals. A BUILD file may
// define no function.
func (e *evaluator) exec(file string, src []byte, predeclared starlark.StringDict, build bool) (starlark.StringDict, error) {
	f, err := dialect.Parse(file, src, 0)
	if err != nil {
		return nil, err
	}
	if build {
		for _, stmt := range f.Stmts {
			if def, ok := stmt.(*syntax.DefStmt); ok {
				return nil, fmt.Errorf("%s: a BUILD file cannot define functions (def %s): move it to a .bzl file", def.Def, def.Name.Name)
			}
		}
	}
	prog, err := starlark.FileProgram(f, predeclared.Has)
	if err != nil {
		return nil, err
	}
	thread := &starlark.Thread{Name: file, Load: e.load, Print: func(*starlark.Thread, string) {}}
	globals, err := prog.Init(thread, predeclared)
	if err != nil {
		return nil, evalError(err)
	}
	return globals, nil
}

// evalError puts a Starlark failure on one line: the stack that led to it,
// from the BUILD file inwards, then the message (fail()'s, say).
func evalError(err error) error {
	var ee *starlark.EvalError
	if !errors.As(err, &ee) {
		return err
	}
	var frames []string
	for _, f := range ee.CallStack {
		if f.Pos.IsValid() && f.Pos.Filename() != "<builtin>" {
			frames = append(frames, fmt.Sprintf("%s:%d", f.Pos.Filename(), f.Pos.Line))
		}
	}
	return fmt.Errorf("%s: %s", strings.Join(frames, " > "), ee.Msg)
}

// buildGlobals are what a BUILD file sees beside Starlark's own: select()
// and the native rules and functions.
func (e *evaluator) buildGlobals() starlark.StringDict {
	g := starlark.StringDict{
		"select":       starlark.NewBuiltin("select", selectBuiltin),
		"package_name": starlark.NewBuiltin("package_name", e.packageName),
	}
	for name, r := range nativeRules {
		g[name] = e.recorder(r, name)
	}
	return g
}

// bzlGlobals are what a .bzl file sees: select() and native.
func (e *evaluator) bzlGlobals() starlark.StringDict {
	members := starlark.StringDict{"package_name": starlark.NewBuiltin("native.package_name", e.packageName)}
	for name, r := range nativeRules {
		members[name] = e.recorder(r, "native."+name)
	}
	return starlark.StringDict{
		"select": starlark.NewBuiltin("select", selectBuiltin),
		"native": starlarkstruct.FromStringDict(starlark.String("native"), members),
	}
}

func (e *evaluator) packageName(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return starlark.String(e.pkg.Path), nil
}

// load resolves a load() statement: a .bzl file of this repository is
// evaluated (its functions wrapped so their calls are recorded); one of
// another repository must be a module MODULE.bazel depends on, and is
// replaced by the recorders of its rules.
func (e *evaluator) load(_ *starlark.Thread, module string) (starlark.StringDict, error) {
	l, err := ParseLabel(module, e.pkg.Path)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(l.Name, ".bzl") {
		return nil, fmt.Errorf("load(%q): not a .bzl file", module)
	}
	if l.Repo != "" && l.Repo != e.module.main {
		if !e.module.repos[l.Repo] {
			return nil, fmt.Errorf("load(%q): MODULE.bazel has no bazel_dep or use_repo giving @%s", module, l.Repo)
		}
		exports, ok := rules[l.String()]
		if !ok {
			return nil, fmt.Errorf("load(%q): tools/bazelspec knows no rules of %s; add their attributes, as the pinned version declares them, to tools/bazelspec/rules.go", module, l)
		}
		stub := starlark.StringDict{}
		for name, r := range exports {
			stub[name] = e.recorder(r, name)
		}
		return stub, nil
	}
	file := path.Join(l.Pkg, l.Name)
	if g, ok := e.modules[file]; ok {
		return g, nil
	}
	if e.loading[file] {
		return nil, fmt.Errorf("load(%q): a cycle of loads", module)
	}
	e.loading[file] = true
	defer delete(e.loading, file)
	src, err := os.ReadFile(filepath.Join(e.root, filepath.FromSlash(file)))
	if err != nil {
		return nil, fmt.Errorf("load(%q): %w", module, err)
	}
	globals, err := e.exec(file, src, e.bzlGlobals(), false)
	if err != nil {
		return nil, err
	}
	e.modules[file] = e.wrapMacros(globals)
	return e.modules[file], nil
}

// wrapMacros records each call of a file's public functions as a Call, so
// the targets it declares can be told apart by the call that made them.
func (e *evaluator) wrapMacros(globals starlark.StringDict) starlark.StringDict {
	out := starlark.StringDict{}
	for name, v := range globals {
		fn, ok := v.(*starlark.Function)
		if !ok || strings.HasPrefix(name, "_") {
			out[name] = v
			continue
		}
		out[name] = starlark.NewBuiltin(name, func(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			call := &Call{Macro: fn.Name(), Args: map[string]any{}, Pos: position(thread)}
			for i, a := range args {
				if i < fn.NumParams() {
					param, _ := fn.Param(i)
					call.Args[param], _ = toGo(a)
				}
			}
			for _, kv := range kwargs {
				call.Args[string(kv[0].(starlark.String))], _ = toGo(kv[1])
			}
			e.pkg.Calls = append(e.pkg.Calls, call)
			e.calls = append(e.calls, call)
			defer func() { e.calls = e.calls[:len(e.calls)-1] }()
			return starlark.Call(thread, fn, args, kwargs)
		})
	}
	return out
}

// position is where the rule or macro being called was called: each
// Starlark frame from the BUILD file inwards, "oci/BUILD.bazel:22 >
// oci/service_image.bzl:80".
func position(thread *starlark.Thread) string {
	var frames []string
	stack := thread.CallStack()
	for i := range stack {
		if p := stack[i].Pos; p.IsValid() && p.Filename() != "<builtin>" {
			frames = append(frames, fmt.Sprintf("%s:%d", p.Filename(), p.Line))
		}
	}
	return strings.Join(frames, " > ")
}

// recorder is the stand-in for a rule or a macro of the rules: it checks
// the call's attributes against the rule's and records the target.
func (e *evaluator) recorder(r *rule, calledAs string) *starlark.Builtin {
	return starlark.NewBuiltin(calledAs, func(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		pos := position(thread)
		if len(args) > 0 {
			return nil, fmt.Errorf("%s: %s takes keyword arguments only", pos, calledAs)
		}
		t := &Target{Kind: r.kind, Attrs: map[string]any{}, Pos: pos, rule: r}
		for _, kv := range kwargs {
			name := string(kv[0].(starlark.String))
			v, err := toGo(kv[1])
			if err != nil {
				e.problems = append(e.problems, fmt.Sprintf("%s: %s: %s %v", pos, r.kind, name, err))
				continue
			}
			if v != nil {
				t.Attrs[name] = v
			}
		}
		t.Name, _ = t.Attrs["name"].(string)
		e.declare(t)
		return starlark.None, nil
	})
}

// declare checks a recorded call against its rule and adds its targets.
func (e *evaluator) declare(t *Target) {
	r := t.rule
	for _, name := range sortedKeys(t.Attrs) {
		a, ok := r.attrs[name]
		if !ok {
			e.problems = append(e.problems, fmt.Sprintf("%s has no attribute %q (%s)", t.describe(), name, r.source))
			continue
		}
		if p := typeProblem(a, t.Attrs[name]); p != "" {
			e.problems = append(e.problems, fmt.Sprintf("%s: %s %s (%s)", t.describe(), name, p, r.source))
		}
	}
	for _, name := range sortedKeys(r.attrs) {
		if _, given := t.Attrs[name]; r.attrs[name].mandatory && !given {
			e.problems = append(e.problems, fmt.Sprintf("%s: mandatory attribute %s is missing (%s)", t.describe(), name, r.source))
		}
	}
	if t.Name != "" {
		if _, err := ParseLabel(":"+t.Name, e.pkg.Path); err != nil {
			e.problems = append(e.problems, fmt.Sprintf("%s: name: %v", t.describe(), err))
		}
	}
	if r.outputs != nil {
		t.Outputs = r.outputs(t.Name, t.Attrs)
	}
	e.add(t)
	if r.generate == nil {
		return
	}
	gen, problems := r.generate(t.Name, t.Attrs)
	for _, p := range problems {
		e.problems = append(e.problems, t.describe()+": "+p)
	}
	for _, g := range gen {
		e.add(&Target{Kind: g.kind, Name: g.name, Generated: true, Outputs: g.outs, Pos: t.Pos + " (by " + t.Kind + ")"})
	}
}

func (e *evaluator) add(t *Target) {
	if n := len(e.calls); n > 0 {
		t.Call = e.calls[n-1]
		for _, c := range e.calls {
			c.Targets = append(c.Targets, t)
		}
	}
	e.pkg.Targets = append(e.pkg.Targets, t)
}
