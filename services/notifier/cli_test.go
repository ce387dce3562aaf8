package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/services/internal/process"
	"github.com/gantry-dev/gantry/services/internal/processtest"
)

func TestTheCommandLine(t *testing.T) {
	const db = "postgres://app@127.0.0.1:1/app"
	tests := []struct {
		name string
		args []string
		env  map[string]string
		exit int    // 0 for success
		want string // in the error, or in stdout on success
	}{
		{"no command is a usage error", []string{"notifier"}, nil, 2, "no command given"},
		{"an unknown command is a usage error", []string{"notifier", "send"}, nil, 2, `unknown command "send"`},
		{"serve takes no arguments", []string{"notifier", "serve", "now"}, nil, 2, "serve takes no arguments"},
		{"a bad healthcheck flag is a usage error", []string{"notifier", "healthcheck", "-soon"}, nil, 2, "healthcheck"},
		{"version names the program", []string{"notifier", "version"}, nil, 0, "gantry-notifier "},
		{"serve without a database names the variable", []string{"notifier", "serve"}, nil, 1, "DATABASE_URL:"},
		{"a bad webhook setting is named", []string{"notifier", "serve"}, map[string]string{"DATABASE_URL": db, "WEBHOOK_MAX_ATTEMPTS": "0"}, 1, "WEBHOOK_MAX_ATTEMPTS:"},
		{"a bad allow list is named", []string{"notifier", "serve"}, map[string]string{"DATABASE_URL": db, "WEBHOOK_ALLOW_CIDRS": "10.0.0.0/33"}, 1, "WEBHOOK_ALLOW_CIDRS:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), tc.args, processtest.Env(tc.env), &out, &bytes.Buffer{})
			if tc.exit == 0 {
				if err != nil || !strings.Contains(out.String(), tc.want) {
					t.Fatalf("err %v, stdout %q; want %q", err, out.String(), tc.want)
				}
				return
			}
			if err == nil || process.ExitCode(err) != tc.exit || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v (exit %d); want exit %d with %q", err, process.ExitCode(err), tc.exit, tc.want)
			}
		})
	}
}
