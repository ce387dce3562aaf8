package repocheck

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gantry-dev/gantry/tools/ocispec"
)

// compose/compose.yaml runs what oci/BUILD.bazel builds: these hold each
// service image to the compose services that run it.

func readYAML(t *testing.T, rel string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}

// stringList is a compose value that may be written as a string or a list.
type stringList []string

func (l *stringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = strings.Fields(n.Value)
		return nil
	}
	var s []string
	if err := n.Decode(&s); err != nil {
		return err
	}
	*l = s
	return nil
}

// composePort is the container side of a ports entry, in the short
// ("[ip:]host:container[/proto]") or the long (target: N) syntax.
type composePort struct{ container string }

func (p *composePort) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		s := interpolate(n.Value)
		p.container = s[strings.LastIndex(s, ":")+1:]
		return nil
	}
	var long struct {
		Target string `yaml:"target"`
	}
	if err := n.Decode(&long); err != nil {
		return err
	}
	p.container = long.Target
	return nil
}

var composeVar = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*(?::?([-?+])([^}]*))?\}`)

// interpolate replaces each ${VAR:-default} (or ${VAR-default}) by its
// default and any other ${VAR...} by "": what compose does with no such
// variable set.
func interpolate(s string) string {
	return composeVar.ReplaceAllStringFunc(s, func(v string) string {
		if m := composeVar.FindStringSubmatch(v); m[1] == "-" {
			return m[2]
		}
		return ""
	})
}

func TestInterpolateUsesComposeDefaults(t *testing.T) {
	tests := []struct{ in, want string }{
		{"${GANTRY_API_IMAGE:-gantry/api:latest}", "gantry/api:latest"},
		{"${BIND:-127.0.0.1}:${PORT:-8080}:8080", "127.0.0.1:8080:8080"},
		{"${PORT-9090}:8080/tcp", "9090:8080/tcp"},
		{"${UNSET}x", "x"},
		{"${REQUIRED:?must-be-set}", ""},
		{"plain", "plain"},
	}
	for _, tc := range tests {
		t.Run(tc.in+" becomes "+tc.want, func(t *testing.T) {
			if got := interpolate(tc.in); got != tc.want {
				t.Errorf("interpolate(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// composeService is what a service of compose/compose.yaml says about how
// it runs its image (merge keys applied).
type composeService struct {
	Image       string     `yaml:"image"`
	User        string     `yaml:"user"`
	WorkingDir  string     `yaml:"working_dir"`
	Entrypoint  stringList `yaml:"entrypoint"`
	Command     stringList `yaml:"command"`
	Healthcheck struct {
		Test stringList `yaml:"test"`
	} `yaml:"healthcheck"`
	Ports           []composePort     `yaml:"ports"`
	Environment     map[string]string `yaml:"environment"`
	StopGracePeriod string            `yaml:"stop_grace_period"`
	ReadOnly        bool              `yaml:"read_only"`
	CapDrop         []string          `yaml:"cap_drop"`
	SecurityOpt     []string          `yaml:"security_opt"`
	Restart         string            `yaml:"restart"`
	Deploy          struct {
		Resources struct {
			Limits map[string]any `yaml:"limits"`
		} `yaml:"resources"`
	} `yaml:"deploy"`
}

const composeFile = "compose/compose.yaml"

// readCompose reads the services of compose/compose.yaml.
func readCompose(t *testing.T) map[string]composeService {
	t.Helper()
	var c struct {
		Services map[string]composeService `yaml:"services"`
	}
	readYAML(t, composeFile, &c)
	return c.Services
}

// runnersOf are the compose services that run the image of s by default,
// sorted by name; those that run its default command come first.
func runnersOf(services map[string]composeService, s ocispec.Service) (main, other []string) {
	for _, name := range slices.Sorted(maps.Keys(services)) {
		c := services[name]
		if interpolate(c.Image) != s.Tag {
			continue
		}
		if len(c.Command) == 0 || slices.Equal(c.Command, s.Spec.Cmd) {
			main = append(main, name)
		} else {
			other = append(other, name)
		}
	}
	return main, other
}

// imageVar is the variable compose/compose.yaml reads a service's image
// from, GANTRY_<NAME>_IMAGE: compose/up and compose/e2e/run build each
// image under the tag it names.
func imageVar(service string) string {
	return "GANTRY_" + strings.ToUpper(service) + "_IMAGE"
}

// Compose runs each image the way oci/BUILD.bazel builds it, and runs every
// image: one it does not run is an image no one tests.
func TestComposeRunsEveryImageAsBuilt(t *testing.T) {
	compose := readCompose(t)
	for _, s := range readServices(t) {
		exposed := map[string]bool{}
		for _, p := range s.Spec.ExposedPorts {
			exposed[portNumber(p)] = true
		}
		main, other := runnersOf(compose, s)
		t.Run(composeFile+" runs the "+s.Name+" image's default command", func(t *testing.T) {
			if len(main) == 0 {
				t.Errorf("no service runs %s (the tag //oci:%s gives) with its default command %q: add one (docs/bazel.md, Adding a service)", s.Tag, s.Targets["load"], s.Spec.Cmd)
			}
		})
		for _, name := range append(slices.Clone(main), other...) {
			c := compose[name]
			runsServe := slices.Contains(main, name)
			t.Run(name+"'s image is ${"+imageVar(s.Name)+":-"+s.Tag+"}", func(t *testing.T) {
				if want := "${" + imageVar(s.Name) + ":-" + s.Tag + "}"; c.Image != want {
					t.Errorf("image %q, want %q", c.Image, want)
				}
			})
			t.Run(name+" runs as the image's user, with its entrypoint and working directory", func(t *testing.T) {
				if c.User != s.Spec.User {
					t.Errorf("compose user %q, image user %q", c.User, s.Spec.User)
				}
				if len(c.Entrypoint) > 0 && !slices.Equal(c.Entrypoint, s.Spec.Entrypoint) {
					t.Errorf("compose entrypoint %q, image %q", c.Entrypoint, s.Spec.Entrypoint)
				}
				if c.WorkingDir != "" && c.WorkingDir != s.Spec.Workdir {
					t.Errorf("compose working_dir %q, image %q", c.WorkingDir, s.Spec.Workdir)
				}
			})
			t.Run(name+" is hardened: read-only, no capabilities, no new privileges", func(t *testing.T) {
				if !c.ReadOnly || !slices.Equal(c.CapDrop, []string{"ALL"}) || !slices.Contains(c.SecurityOpt, "no-new-privileges:true") {
					t.Errorf("read_only %v, cap_drop %q, security_opt %q", c.ReadOnly, c.CapDrop, c.SecurityOpt)
				}
			})
			t.Run(name+" publishes only ports the image exposes", func(t *testing.T) {
				for _, p := range c.Ports {
					if !exposed[portNumber(p.container)] {
						t.Errorf("compose publishes container port %q; the image exposes %q", p.container, s.Spec.ExposedPorts)
					}
				}
			})
			if !runsServe {
				continue
			}
			t.Run(name+"'s healthcheck execs the entrypoint's binary without a shell", func(t *testing.T) {
				test := c.Healthcheck.Test
				if len(test) < 3 || test[0] != "CMD" || test[1] != s.Spec.Binary() || test[2] != "healthcheck" {
					t.Errorf("healthcheck test %q: want [\"CMD\", %q, \"healthcheck\", ...]; the image has no shell for CMD-SHELL", test, s.Spec.Binary())
				}
			})
			t.Run(name+" restarts, and has limits", func(t *testing.T) {
				if c.Restart != "unless-stopped" || len(c.Deploy.Resources.Limits) == 0 {
					t.Errorf("restart %q, limits %v", c.Restart, c.Deploy.Resources.Limits)
				}
			})
		}
	}
}

// Docker kills a container whose stop takes longer than its grace period,
// so each service's whole shutdown (SHUTDOWN_DELAY, then up to
// SHUTDOWN_TIMEOUT of draining) must fit inside it with room to spare.
func TestComposeGivesEachServiceTimeToDrain(t *testing.T) {
	compose := readCompose(t)
	for _, s := range readServices(t) {
		main, _ := runnersOf(compose, s)
		for _, name := range main {
			c := compose[name]
			t.Run(name+" stops within its grace period", func(t *testing.T) {
				duration := func(what, v string) time.Duration {
					t.Helper()
					d, err := time.ParseDuration(interpolate(v))
					if err != nil {
						t.Fatalf("%s: services.%s: %s %q: %v", composeFile, name, what, v, err)
					}
					return d
				}
				if c.Environment["SHUTDOWN_TIMEOUT"] == "" {
					t.Fatalf("%s: services.%s sets no SHUTDOWN_TIMEOUT; set it, so this check can hold it to stop_grace_period", composeFile, name)
				}
				grace := duration("stop_grace_period", c.StopGracePeriod)
				drain := duration("SHUTDOWN_TIMEOUT", c.Environment["SHUTDOWN_TIMEOUT"])
				var delay time.Duration
				if v := c.Environment["SHUTDOWN_DELAY"]; v != "" {
					delay = duration("SHUTDOWN_DELAY", v)
				}
				if margin := 5 * time.Second; grace < delay+drain+margin {
					t.Errorf("%s: services.%s: stop_grace_period %s leaves less than %s beyond SHUTDOWN_DELAY %s + SHUTDOWN_TIMEOUT %s; Docker would SIGKILL it while it drains",
						composeFile, name, grace, margin, delay, drain)
				}
			})
		}
	}
}
