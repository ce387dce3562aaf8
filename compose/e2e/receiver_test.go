package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/gantry-dev/gantry/tools/gobuild"
	"github.com/gantry-dev/gantry/tools/ociarchive"
)

// receiverImage is the image of compose/e2e/receiver, built once per run
// under this tag (another may be named, so runs side by side keep apart).
var receiverImage = envOr("GANTRY_E2E_RECEIVER_IMAGE", "gantry-e2e/receiver:latest")

// buildReceiver builds the image once: the static binary alone, run as
// the services' user.
var buildReceiver = sync.OnceValue(func() error {
	root, err := gobuild.FindRoot(".")
	if err != nil {
		return err
	}
	ctx := context.Background()
	img, err := ociarchive.GoImage(ctx, root, "./compose/e2e/receiver", "65532:65532")
	if err != nil {
		return err
	}
	tag, err := name.NewTag(receiverImage)
	if err != nil {
		return err
	}
	return ociarchive.Load(ctx, tag, img, os.Stderr)
})

// receiver is compose/e2e/receiver running on a stack's egress network:
// the notifier reaches it at addr, the test reads it at control.
type receiver struct {
	t       *testing.T
	name    string // the container
	addr    string // ip:8000 on the egress network
	control string // http://127.0.0.1:port
}

// startReceiver runs the receiver on the stack's egress network (which must
// exist: up, or up --no-start, has made it); it is removed when t ends,
// before the stack is, which could not remove a network still in use.
func startReceiver(t *testing.T, s *stack) *receiver {
	t.Helper()
	if err := buildReceiver(); err != nil {
		t.Fatalf("build the receiver image: %v", err)
	}
	rc := &receiver{t: t, name: s.project + "-receiver"}
	network := s.project + "_egress"
	out, err := exec.Command("docker", "run", "--detach", "--name", rc.name, "--network", network,
		"--publish", "127.0.0.1::8000", "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges:true",
		receiverImage).CombinedOutput()
	if err != nil {
		t.Fatalf("docker run the receiver: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("what the receiver got:\n%s", summary(rc.records("")))
		}
		if out, err := exec.Command("docker", "rm", "--force", "--volumes", rc.name).CombinedOutput(); err != nil {
			t.Errorf("docker rm %s: %v\n%s", rc.name, err, out)
		}
	})
	ip := dockerOutput(t, "inspect", "--format", `{{(index .NetworkSettings.Networks "`+network+`").IPAddress}}`, rc.name)
	rc.addr = ip + ":8000"
	rc.control = "http://" + dockerOutput(t, "port", rc.name, "8000/tcp")
	waitStatus(t, endpoint{base: rc.control}, "/records", 200, 10*time.Second)
	return rc
}

func dockerOutput(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).Output()
	if err != nil {
		t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
	}
	// docker port may list an IPv6 binding too; the first line is the one.
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return first
}

// url is where a webhook reaches the receiver's hook name, with the
// receiver's behaviour in the query (see compose/e2e/receiver).
func (rc *receiver) url(hook, query string) string {
	u := "http://" + rc.addr + "/hooks/" + hook
	if query != "" {
		u += "?" + query
	}
	return u
}

// arrival is one request the receiver got, as it recorded it.
type arrival struct {
	Hook      string    `json:"hook"`
	ID        string    `json:"id"`
	Timestamp string    `json:"timestamp"`
	Signature string    `json:"signature"`
	Body      string    `json:"body"`
	From      string    `json:"from"`
	Arrived   time.Time `json:"arrived"`
	Status    int       `json:"status"`
	Answered  time.Time `json:"answered"`
}

// records returns what the receiver got for hook ("": for every hook), in
// arrival order.
func (rc *receiver) records(hook string) []arrival {
	rc.t.Helper()
	resp, err := client.Get(rc.control + "/records")
	if err != nil {
		rc.t.Fatalf("read the receiver: %v", err)
	}
	defer func() { _ = resp.Body.Close() }() // read to the end below
	var all []arrival
	if err := json.NewDecoder(resp.Body).Decode(&all); err != nil {
		rc.t.Fatalf("the receiver's records: %v", err)
	}
	var mine []arrival
	for _, a := range all {
		if hook == "" || a.Hook == hook {
			mine = append(mine, a)
		}
	}
	return mine
}

// waitFor polls the receiver until done says its records of hook are
// complete, and returns them.
func (rc *receiver) waitFor(hook string, within time.Duration, what string, done func([]arrival) bool) []arrival {
	rc.t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := rc.records(hook)
		if done(got) {
			return got
		}
		if time.Now().After(deadline) {
			rc.t.Fatalf("%s: not within %s; the receiver got %d requests for %s:\n%s", what, within, len(got), hook, summary(got))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func summary(as []arrival) string {
	var b strings.Builder
	for _, a := range as {
		fmt.Fprintf(&b, "  %s %s %s from %s: %d\n", a.Arrived.Format("15:04:05.000"), a.Hook, a.ID, a.From, a.Status)
	}
	return b.String()
}

// answered are the arrivals the receiver answered with status.
func answered(as []arrival, status int) []arrival {
	var out []arrival
	for _, a := range as {
		if a.Status == status {
			out = append(out, a)
		}
	}
	return out
}

// header is what the receiver got in the headers the signature covers.
func (a arrival) header() http.Header {
	h := http.Header{}
	h.Set("webhook-id", a.ID)
	h.Set("webhook-timestamp", a.Timestamp)
	h.Set("webhook-signature", a.Signature)
	return h
}
