package ocispec

import (
	"fmt"

	"github.com/bazelbuild/buildtools/build"
)

// evaluator resolves the literal values of attributes, following names to
// top-level assignments such as PORTS = ["8080/tcp"].
type evaluator struct {
	file *build.File
}

func (ev evaluator) resolve(e build.Expr) build.Expr {
	id, ok := e.(*build.Ident)
	if !ok {
		return e
	}
	for _, stmt := range ev.file.Stmt {
		if as, ok := stmt.(*build.AssignExpr); ok {
			if lhs, ok := as.LHS.(*build.Ident); ok && lhs.Name == id.Name {
				return as.RHS
			}
		}
	}
	return e
}

func (ev evaluator) attr(r *build.Rule, name string) build.Expr {
	if e := r.Attr(name); e != nil {
		return ev.resolve(e)
	}
	return nil
}

func (ev evaluator) str(r *build.Rule, name string) (string, error) {
	e := ev.attr(r, name)
	if e == nil {
		return "", nil
	}
	s, ok := e.(*build.StringExpr)
	if !ok {
		return "", fmt.Errorf("attribute %s must be a string literal", name)
	}
	return s.Value, nil
}

func (ev evaluator) strings(r *build.Rule, name string) ([]string, error) {
	e := ev.attr(r, name)
	if e == nil {
		return nil, nil
	}
	l, ok := e.(*build.ListExpr)
	if !ok {
		return nil, fmt.Errorf("attribute %s must be a list literal", name)
	}
	out := make([]string, 0, len(l.List))
	for _, item := range l.List {
		s, ok := ev.resolve(item).(*build.StringExpr)
		if !ok {
			return nil, fmt.Errorf("attribute %s must hold string literals", name)
		}
		out = append(out, s.Value)
	}
	return out, nil
}

func (ev evaluator) dict(r *build.Rule, name string) (map[string]string, error) {
	e := ev.attr(r, name)
	if e == nil {
		return nil, nil
	}
	d, ok := e.(*build.DictExpr)
	if !ok {
		return nil, fmt.Errorf("attribute %s must be a dict literal", name)
	}
	out := make(map[string]string, len(d.List))
	for _, kv := range d.List {
		k, ok1 := ev.resolve(kv.Key).(*build.StringExpr)
		v, ok2 := ev.resolve(kv.Value).(*build.StringExpr)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("attribute %s must map string literals to string literals", name)
		}
		out[k.Value] = v.Value
	}
	return out, nil
}
