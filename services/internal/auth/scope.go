package auth

import (
	"fmt"
	"slices"
	"strings"
)

// Scope is one permission a token may carry.
type Scope string

// The scopes there are. A token is granted them by name when it is
// created; no scope implies another.
const (
	TasksRead      Scope = "tasks:read"
	TasksWrite     Scope = "tasks:write"
	WebhooksManage Scope = "webhooks:manage"
)

// AllScopes is every scope, in the order they are listed to people.
var AllScopes = []Scope{TasksRead, TasksWrite, WebhooksManage}

// Scopes is a set of scopes, sorted and without repeats.
type Scopes []Scope

// ParseScopes reads a comma-separated list such as "tasks:read,tasks:write";
// "all" grants every scope. An unknown scope is an error naming the known
// ones.
func ParseScopes(list string) (Scopes, error) {
	var s Scopes
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
			continue
		case name == "all":
			s = append(s, AllScopes...)
		case slices.Contains(AllScopes, Scope(name)):
			s = append(s, Scope(name))
		default:
			return nil, fmt.Errorf("unknown scope %q; the scopes are %s (or all)", name, AllScopes)
		}
	}
	if len(s) == 0 {
		return nil, fmt.Errorf("no scope given; the scopes are %s (or all)", AllScopes)
	}
	slices.Sort(s)
	return slices.Compact(s), nil
}

// Has reports whether s grants scope.
func (s Scopes) Has(scope Scope) bool { return slices.Contains(s, scope) }

// String is the comma-separated list ParseScopes reads.
func (s Scopes) String() string {
	names := make([]string, len(s))
	for i, sc := range s {
		names[i] = string(sc)
	}
	return strings.Join(names, ",")
}
