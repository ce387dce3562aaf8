package bazelspec

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// kind is the type of an attribute as a rule (attr.string, attr.label, ...)
// or a macro of the rules (a list or a label, ...) declares it.
type kind int

const (
	aString kind = iota
	aInt
	aBool
	aStringList
	aStringDict
	aLabel
	aLabelList
	aOutput
	// rules_oci's macros write a list or dict into a file for their rule's
	// label attribute; tar's mtree is also "auto"; bazel_lib's template is
	// a label or the lines of one.
	aLabelOrStringList
	aLabelOrStringDict
	aMtree
)

var kindNames = map[kind]string{
	aString: "a string", aInt: "an int", aBool: "a bool", aStringList: "a list of strings",
	aStringDict: "a dict of strings to strings", aLabel: "a label", aLabelList: "a list of labels",
	aOutput: "an output file name", aLabelOrStringList: "a list of strings or a label",
	aLabelOrStringDict: "a dict of strings to strings or a label", aMtree: `"auto", a list of mtree lines or a label`,
}

// attr is one attribute of a rule or one parameter of a macro.
type attr struct {
	kind      kind
	mandatory bool
	values    []any // the values an attr.string or attr.int allows, if limited
	nonEmpty  bool  // allow_empty = False
	// noSelect: the macro reads the value in Starlark (types.is_list, ...),
	// or Bazel needs it before configuration (name, visibility, tags), so
	// select() is refused.
	noSelect bool
	// expandsWith names the attributes whose labels $(location ...) and
	// friends in this attribute's strings may name (the rule's deps).
	expandsWith []string
}

// ruleKind is what a select() branch must be: a macro passes a select to
// its rule unchanged, so a list-or-label parameter takes labels only.
func (a attr) ruleKind() kind {
	switch a.kind {
	case aLabelOrStringList, aLabelOrStringDict, aMtree:
		return aLabel
	}
	return a.kind
}

// Select is a select() call: its branches by condition label.
type Select struct {
	Branches     map[string]any
	NoMatchError string
}

// typeProblem says why v is not a value of attribute a, or "".
func typeProblem(a attr, v any) string {
	if sel, ok := v.(Select); ok {
		if a.noSelect {
			return "takes no select(): the value is needed before configuration, or read by the macro"
		}
		for _, cond := range sortedKeys(sel.Branches) {
			if p := valueProblem(a.ruleKind(), a, sel.Branches[cond]); p != "" {
				return "select() branch " + cond + ": " + p
			}
		}
		return ""
	}
	return valueProblem(a.kind, a, v)
}

func valueProblem(k kind, a attr, v any) string {
	if v == nil {
		return "" // None: the default
	}
	want := "must be " + kindNames[k] + fmt.Sprintf(", not %s", describe(v))
	ok := false
	switch k {
	case aString:
		_, ok = v.(string)
	case aInt:
		_, ok = v.(int64)
	case aBool:
		_, ok = v.(bool)
		if i, isInt := v.(int64); isInt && (i == 0 || i == 1) {
			ok = true
		}
	case aStringList:
		ok = allStrings(v)
	case aStringDict:
		ok = stringDict(v)
	case aLabel, aOutput:
		s, isString := v.(string)
		ok = isString && s != ""
	case aLabelList:
		ok = allStrings(v)
	case aLabelOrStringList:
		_, isString := v.(string)
		ok = isString || allStrings(v)
	case aLabelOrStringDict:
		_, isString := v.(string)
		ok = isString || stringDict(v)
	case aMtree:
		_, isString := v.(string)
		ok = isString || allStrings(v)
	}
	if !ok {
		return want
	}
	if len(a.values) > 0 && !slices.Contains(a.values, v) {
		return fmt.Sprintf("is %v; it must be one of %v", render(v), renderAll(a.values))
	}
	if l, isList := v.([]any); isList && a.nonEmpty && len(l) == 0 {
		return "must not be empty"
	}
	return ""
}

func allStrings(v any) bool {
	l, ok := v.([]any)
	if !ok {
		return false
	}
	for _, e := range l {
		if _, ok := e.(string); !ok {
			return false
		}
	}
	return true
}

func stringDict(v any) bool {
	d, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for _, e := range d {
		if _, ok := e.(string); !ok {
			return false
		}
	}
	return true
}

func describe(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an int"
	case bool:
		return "a bool"
	case []any:
		return "a list"
	case map[string]any:
		return "a dict"
	case Select:
		return "a select()"
	}
	return fmt.Sprintf("%T", v)
}

func render(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

func renderAll(vs []any) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = render(v)
	}
	return strings.Join(parts, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// labelsIn are the label strings of value v of attribute a: the labels of
// label attributes (a list-or-label parameter's string), and the branches
// of a select() of them. Select conditions are collected by the caller.
func labelsIn(a attr, v any) []string {
	if sel, ok := v.(Select); ok {
		var out []string
		for _, cond := range sortedKeys(sel.Branches) {
			out = append(out, labelsOf(a.ruleKind(), sel.Branches[cond])...)
		}
		return out
	}
	return labelsOf(a.kind, v)
}

func labelsOf(k kind, v any) []string {
	switch k {
	case aLabel, aLabelOrStringList, aLabelOrStringDict:
		if s, ok := v.(string); ok {
			return []string{s}
		}
	case aMtree:
		if s, ok := v.(string); ok && s != "auto" {
			return []string{s}
		}
	case aLabelList:
		var out []string
		if l, ok := v.([]any); ok {
			for _, e := range l {
				if s, ok := e.(string); ok {
					out = append(out, s)
				}
			}
		}
		return out
	}
	return nil
}

// stringsIn are every string inside v: what $(location) expansion reads.
func stringsIn(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, stringsIn(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for _, k := range sortedKeys(x) {
			out = append(out, stringsIn(x[k])...)
		}
		return out
	case Select:
		var out []string
		for _, k := range sortedKeys(x.Branches) {
			out = append(out, stringsIn(x.Branches[k])...)
		}
		return out
	}
	return nil
}
