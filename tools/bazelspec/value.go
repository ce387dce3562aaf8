package bazelspec

import (
	"fmt"

	"go.starlark.net/starlark"
)

// selectValue is what select() returns: a value of one branch, chosen by
// configuration, which a loading-phase evaluation keeps whole.
type selectValue struct {
	branches *starlark.Dict
	noMatch  string
}

func (s *selectValue) String() string        { return "select(" + s.branches.String() + ")" }
func (s *selectValue) Type() string          { return "select" }
func (s *selectValue) Freeze()               { s.branches.Freeze() }
func (s *selectValue) Truth() starlark.Bool  { return true }
func (s *selectValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: select") }

func selectBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var branches *starlark.Dict
	noMatch := ""
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "x", &branches, "no_match_error?", &noMatch); err != nil {
		return nil, err
	}
	for _, k := range branches.Keys() {
		if _, ok := k.(starlark.String); !ok {
			return nil, fmt.Errorf("select: the conditions must be label strings, not %s", k.Type())
		}
	}
	return &selectValue{branches: branches, noMatch: noMatch}, nil
}

// toGo converts an attribute value: None is nil, lists and tuples are
// []any, dicts map[string]any, select() a Select.
func toGo(v starlark.Value) (any, error) {
	switch x := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case starlark.String:
		return string(x), nil
	case starlark.Bool:
		return bool(x), nil
	case starlark.Int:
		i, ok := x.Int64()
		if !ok {
			return nil, fmt.Errorf("is an int too large for an attribute")
		}
		return i, nil
	case *starlark.List:
		return listToGo(x)
	case starlark.Tuple:
		return listToGo(x)
	case *starlark.Dict:
		out := make(map[string]any, x.Len())
		for _, kv := range x.Items() {
			k, ok := kv[0].(starlark.String)
			if !ok {
				return nil, fmt.Errorf("is a dict with a %s key; the attributes here take string keys", kv[0].Type())
			}
			val, err := toGo(kv[1])
			if err != nil {
				return nil, err
			}
			out[string(k)] = val
		}
		return out, nil
	case *selectValue:
		sel := Select{Branches: map[string]any{}, NoMatchError: x.noMatch}
		for _, kv := range x.branches.Items() {
			val, err := toGo(kv[1])
			if err != nil {
				return nil, err
			}
			sel.Branches[string(kv[0].(starlark.String))] = val
		}
		return sel, nil
	}
	return nil, fmt.Errorf("is a %s, which no attribute takes", v.Type())
}

func listToGo(it starlark.Indexable) (any, error) {
	out := make([]any, it.Len())
	for i := range out {
		v, err := toGo(it.Index(i))
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}
