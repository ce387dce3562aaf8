package bazelspec

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// Label is a parsed Bazel label. Repo is "" for this repository.
type Label struct {
	Repo, Pkg, Name string
}

func (l Label) String() string {
	s := "//" + l.Pkg + ":" + l.Name
	if l.Repo != "" {
		s = "@" + l.Repo + s
	}
	return s
}

// The characters Bazel allows in package names and target names
// (LabelValidator), less a few it allows that no label here needs.
var (
	pkgName    = regexp.MustCompile(`^[A-Za-z0-9_.+\-/]*$`)
	targetName = regexp.MustCompile(`^[A-Za-z0-9_.+\-/=,@~!%^#$&()\[\]{}<>?|;]+$`)
	repoName   = regexp.MustCompile(`^@?[A-Za-z0-9_.+\-~]+$`)
)

// ParseLabel parses s as Bazel does when a BUILD file in package pkg
// names it: "//p:n", "//p", "@r//p:n", "@r", ":n" and "n" (a target of
// pkg).
func ParseLabel(s, pkg string) (Label, error) {
	bad := func(why string) (Label, error) { return Label{}, fmt.Errorf("%q is not a label: %s", s, why) }
	var l Label
	rest := s
	if strings.HasPrefix(rest, "@") {
		repo, after, ok := strings.Cut(rest[1:], "//")
		if !ok {
			// "@r" is "@r//:r".
			if !repoName.MatchString(repo) {
				return bad("bad repository name")
			}
			repo = strings.TrimPrefix(repo, "@")
			return Label{Repo: repo, Name: repo}, nil
		}
		if repo != "" && !repoName.MatchString(repo) {
			return bad("bad repository name")
		}
		l.Repo = strings.TrimPrefix(repo, "@")
		rest = "//" + after
	}
	switch {
	case strings.HasPrefix(rest, "//"):
		p, name, hasName := strings.Cut(rest[2:], ":")
		if !pkgName.MatchString(p) || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
			return bad("bad package name")
		}
		if !hasName {
			if p == "" {
				return bad("no target name")
			}
			name = path.Base(p)
		}
		l.Pkg, l.Name = p, name
	case strings.HasPrefix(rest, ":"):
		l.Pkg, l.Name = pkg, rest[1:]
	case strings.Contains(rest, ":"):
		return bad(`a colon needs a package before it ("//pkg:name") or nothing (":name")`)
	default:
		l.Pkg, l.Name = pkg, rest
	}
	if !targetName.MatchString(l.Name) || strings.HasPrefix(l.Name, "/") || strings.HasSuffix(l.Name, "/") || strings.Contains(l.Name, "//") {
		return bad("bad target name")
	}
	return l, nil
}
