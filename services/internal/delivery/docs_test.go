package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The receivers the documentation shows must accept what the notifier
// signs and refuse what it did not: each is built from the page's text and
// sent deliveries signed by sign.

var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

// readmeWrapper makes README.md's fragment a program: the fragment uses
// secret and registers a handler; the wrapper serves it.
const readmeWrapper = `package main

import (
	"io"
	"log"
	"net/http"
	"os"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func main() {
	secret := os.Getenv("WEBHOOK_SECRET")
%s
	log.Fatal(http.ListenAndServe(os.Getenv("ADDR"), nil))
}
`

func TestTheDocumentedReceiversVerifyWhatTheNotifierSigns(t *testing.T) {
	if os.Getenv("TEST_SRCDIR") != "" {
		t.Skip("SKIPPING: under bazel test, which has neither the docs nor go")
	}
	if testing.Short() {
		t.Skip("builds two programs")
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	docs := []struct {
		name, page string
		program    func(t *testing.T, block string) string
	}{
		{"docs/webhooks.md's receiver", "docs/webhooks.md", func(t *testing.T, block string) string {
			// The page listens on :8000; the test, on a free loopback port.
			if !strings.Contains(block, `":8000"`) {
				t.Fatal(`the receiver no longer listens on ":8000"; update this test`)
			}
			return strings.Replace(block, `":8000"`, `os.Getenv("ADDR")`, 1)
		}},
		{"the README's receiver", "README.md", func(_ *testing.T, block string) string {
			return fmt.Sprintf(readmeWrapper, block)
		}},
	}
	for _, d := range docs {
		t.Run(d.name+" accepts a signed delivery and refuses a forged one", func(t *testing.T) {
			page, err := os.ReadFile(filepath.Join(root, d.page))
			if err != nil {
				t.Fatal(err)
			}
			m := goBlock.FindSubmatch(page)
			if m == nil {
				t.Fatalf("%s shows no Go receiver", d.page)
			}
			bin := buildProgram(t, root, d.program(t, string(m[1])))
			url := startReceiver(t, bin)
			checkVerifies(t, url)
		})
	}
}

// buildProgram builds src as a main package inside the module, through an
// overlay, so that it uses go.mod's versions and nothing is written to the
// tree.
func buildProgram(t *testing.T, root, src string) string {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "main.go")
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	virtual := filepath.Join(root, "services", "internal", "delivery", "docreceiver", "main.go")
	overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{virtual: file}})
	overlayFile := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "receiver")
	cmd := exec.Command("go", "build", "-overlay", overlayFile, "-o", bin, "./services/internal/delivery/docreceiver")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the documented receiver does not build: %v\n%s\n%s", err, out, src)
	}
	return bin
}

const docSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// startReceiver runs bin on a free loopback port until the test ends and
// returns its URL once it answers.
func startReceiver(t *testing.T, bin string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "WEBHOOK_SECRET="+docSecret, "ADDR="+addr)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return "http://" + addr + "/hooks/gantry"
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver did not listen on %s: %v\n%s", addr, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func checkVerifies(t *testing.T, url string) {
	t.Helper()
	body := []byte(`{"id":"evt_1","type":"task.created","task":{"id":1,"version":1}}`)
	cases := []struct {
		name   string
		secret string
		send   []byte
		want   int
	}{
		{"signed by the webhook's secret", docSecret, body, http.StatusNoContent},
		{"signed by another secret", "whsec_" + strings.Repeat("A", 43) + "=", body, http.StatusUnauthorized},
		{"altered after signing", docSecret, bytes.Replace(body, []byte("created"), []byte("deleted"), 1), http.StatusUnauthorized},
	}
	for _, c := range cases {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(c.send))
		if err != nil {
			t.Fatal(err)
		}
		if err := sign(req.Header, c.secret, "evt_1", time.Now(), body); err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode != c.want {
			t.Errorf("a delivery %s: status %d, want %d", c.name, res.StatusCode, c.want)
		}
	}
}
