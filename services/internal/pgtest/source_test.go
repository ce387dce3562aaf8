package pgtest

import (
	"errors"
	"strings"
	"testing"
)

func TestChooseTakesInitdbFirstAContainerOtherwiseAndSkipsOnlyWithNeither(t *testing.T) {
	bin := Binaries{InitDB: "/pg/bin/initdb", PgCtl: "/pg/bin/pg_ctl"}
	noBin := errors.New("initdb and pg_ctl are nowhere")
	noDocker := errors.New("docker info: Cannot connect")
	tests := []struct {
		name       string
		env        map[string]string
		binErr     error
		dockerErr  error
		composeErr error
		want       source
		wantErr    []string // substrings of the error, "" none
		skip       bool     // the error is errNoServer
	}{
		{name: "initdb is taken when it is installed", want: source{bin: bin}},
		{name: "a container of compose's image stands in when initdb is missing", binErr: noBin, want: source{image: "postgres:17"}},
		{name: "GANTRY_POSTGRES_IMAGE names another image", binErr: noBin, env: map[string]string{ImageEnv: "gantry-test/postgres:17"}, want: source{image: "gantry-test/postgres:17"}},
		{name: "container mode takes a container even when initdb is installed", env: map[string]string{ModeEnv: "container"}, want: source{image: "postgres:17"}},
		{name: "initdb mode takes initdb even when Docker works", env: map[string]string{ModeEnv: "initdb"}, want: source{bin: bin}},
		{name: "with neither the tests skip, saying why for both", binErr: noBin, dockerErr: noDocker, skip: true, wantErr: []string{"nowhere", "Cannot connect"}},
		{name: "initdb mode never falls back to Docker", env: map[string]string{ModeEnv: "initdb"}, binErr: noBin, skip: true, wantErr: []string{"GANTRY_PGTEST=initdb", "nowhere"}},
		{name: "container mode without Docker skips and names the mode", env: map[string]string{ModeEnv: "container"}, dockerErr: noDocker, skip: true, wantErr: []string{"GANTRY_PGTEST=container", "Cannot connect"}},
		{name: "an unknown mode fails instead of skipping", env: map[string]string{ModeEnv: "docker"}, wantErr: []string{`GANTRY_PGTEST="docker"`, "want initdb, container"}},
		{name: "a container without an image skips and says how to name one", binErr: noBin, composeErr: errors.New("compose.yaml: not found"), skip: true, wantErr: []string{"Set GANTRY_POSTGRES_IMAGE", "compose.yaml: not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := choose(machine{
				getenv:       func(k string) string { return tt.env[k] },
				binaries:     func() (Binaries, error) { return bin, tt.binErr },
				docker:       func() error { return tt.dockerErr },
				composeImage: func() (string, error) { return "postgres:17", tt.composeErr },
			})
			if len(tt.wantErr) == 0 {
				if err != nil || got != tt.want {
					t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("got %+v, want an error", got)
			}
			if errors.Is(err, errNoServer) != tt.skip {
				t.Errorf("skip = %v, want %v: %v", errors.Is(err, errNoServer), tt.skip, err)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
}

func TestTheDefaultImageIsComposesDbImage(t *testing.T) {
	image, err := composeImage()
	if err != nil {
		t.Fatal(err)
	}
	if image == "" || strings.ContainsAny(image, "${} ") {
		t.Fatalf("compose/compose.yaml's db image read as %q", image)
	}
	t.Run("a compose file without the default is an error naming the file", func(t *testing.T) {
		for _, yaml := range []string{"image: postgres:17\n", "image: ${GANTRY_POSTGRES_IMAGE}\n", "image: ${GANTRY_POSTGRES_IMAGE:-a}\nimage: ${GANTRY_POSTGRES_IMAGE:-b}\n"} {
			if got, err := defaultImage([]byte(yaml), "x/compose.yaml"); err == nil || !strings.Contains(err.Error(), "x/compose.yaml") {
				t.Errorf("%q: got %q, %v; want an error naming the file", yaml, got, err)
			}
		}
	})
	t.Run("a quoted line is read too", func(t *testing.T) {
		if got, err := defaultImage([]byte(`    image: "${GANTRY_POSTGRES_IMAGE:-postgres:18}"`+"\n"), "f"); err != nil || got != "postgres:18" {
			t.Errorf("got %q, %v", got, err)
		}
	})
}
