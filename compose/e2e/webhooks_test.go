package e2e

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// webhookSettings are the notifier's retry settings in these tests. Eight
// attempts over a minute: the waits double from about half a second, so
// the last attempt comes 30 to 60 s after the first, surely after a 20 s
// outage. Three seconds an attempt, so River's rescuer may hand on the job
// of a killed notifier 18 s after its attempt began
// (services/notifier/queue.go) instead of 25 s with the default 10 s.
var webhookSettings = []string{"GANTRY_WEBHOOK_MAX_ATTEMPTS=8", "GANTRY_WEBHOOK_RETRY_HORIZON=60s", "GANTRY_WEBHOOK_TIMEOUT=3s"}

var allEvents = []string{"task.created", "task.updated", "task.deleted"}

// newHookStack is a stack whose API and notifier allow webhooks to its
// egress network, where the receiver runs; it returns that network's
// subnet too.
func newHookStack(t *testing.T) (*stack, *receiver, string) {
	t.Helper()
	s := newStack(t, Password)
	// The networks first: the egress subnet must be known before the API
	// and the notifier start with it allowed.
	s.must("up", "--no-start")
	subnet := egressSubnet(t, s)
	s.env = append(append(s.env, "GANTRY_WEBHOOK_ALLOW_CIDRS="+subnet), webhookSettings...)
	rc := startReceiver(t, s)
	s.up()
	return s, rc, subnet
}

// egressSubnet is the IPv4 subnet Docker gave the stack's egress network.
func egressSubnet(t *testing.T, s *stack) string {
	t.Helper()
	out := dockerOutput(t, "network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}} {{end}}", s.project+"_egress")
	for _, subnet := range strings.Fields(out) {
		if strings.Contains(subnet, ".") {
			return subnet
		}
	}
	t.Fatalf("the egress network has no IPv4 subnet: %q", out)
	return ""
}

// hook is a webhook made through the API, with the secret it returned.
type hook struct {
	id, name string
	verifier *standardwebhooks.Webhook
}

// newHook makes a webhook to the receiver's hook name (see
// compose/e2e/receiver for the query).
func newHook(t *testing.T, to endpoint, url, name string, events ...string) hook {
	t.Helper()
	body, err := json.Marshal(map[string]any{"url": url, "events": events})
	if err != nil {
		t.Fatal(err)
	}
	r := mustCall(t, to, "POST", "/v1/webhooks", string(body), 201)
	secret, _ := r.body["secret"].(string)
	verifier, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("the secret %q: %v", secret, err)
	}
	id, _ := r.body["id"].(string)
	return hook{id: id, name: name, verifier: verifier}
}

func (h hook) remove(t *testing.T, to endpoint) {
	t.Helper()
	mustCall(t, to, "DELETE", "/v1/webhooks/"+h.id, "", 204)
}

// event is what a delivery's body says.
type event struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	OccurredAt time.Time `json:"occurred_at"`
	Task       struct {
		ID      string `json:"id"`
		Title   string `json:"title"`
		Version int64  `json:"version"`
	} `json:"task"`
}

func (a arrival) event() event {
	var e event
	_ = json.Unmarshal([]byte(a.Body), &e) // a body that is no event names no task, and the checks say so
	return e
}

// verify checks each request's signature with the webhook's secret, as a
// receiver would, and that the event in the body has the webhook-id.
func (h hook) verify(t *testing.T, as []arrival) {
	t.Helper()
	for _, a := range as {
		if err := h.verifier.Verify([]byte(a.Body), a.header()); err != nil {
			t.Errorf("%s: the request of %s at %s is not signed with the webhook's secret: %v", h.name, a.ID, a.Arrived.Format(time.TimeOnly), err)
		}
		if e := a.event(); e.ID == "" || e.ID != a.ID {
			t.Errorf("%s: webhook-id %q, the event's id %q", h.name, a.ID, e.ID)
		}
	}
}

// ofTasks are the requests whose event is about one of tasks.
func ofTasks(as []arrival, tasks ...string) []arrival {
	var out []arrival
	for _, a := range as {
		if slices.Contains(tasks, a.event().Task.ID) {
			out = append(out, a)
		}
	}
	return out
}

// delivered are the events the receiver answered 200, once each, in the
// order of their first 200.
func delivered(as []arrival) []arrival {
	var out []arrival
	seen := map[string]bool{}
	for _, a := range answered(as, 200) {
		if !seen[a.ID] {
			seen[a.ID] = true
			out = append(out, a)
		}
	}
	return out
}

// waitEvents waits until the receiver has taken n events about task on the
// hook, checks the signature of every request about it, and returns them.
func (h hook) waitEvents(t *testing.T, rc *receiver, task string, n int, within time.Duration) []arrival {
	t.Helper()
	got := rc.waitFor(h.name, within, fmt.Sprintf("%d events of task %s", n, task), func(as []arrival) bool {
		return len(delivered(ofTasks(as, task))) >= n
	})
	mine := ofTasks(got, task)
	h.verify(t, mine)
	return mine
}

// newTask creates a task and returns the answer.
func newTask(t *testing.T, to endpoint, title string) response {
	t.Helper()
	return mustCall(t, to, "POST", "/v1/tasks", `{"title":"`+title+`"}`, 201)
}

func idOf(t *testing.T, r response) string {
	t.Helper()
	id, ok := r.body["id"].(string)
	if !ok {
		t.Fatalf("no task id in %v", r.body)
	}
	return id
}

// typesAndVersions reads "task.created v1, ..." off events, in the order
// of their versions: the order they arrive in is not guaranteed.
func typesAndVersions(as []arrival) string {
	as = slices.Clone(as)
	slices.SortStableFunc(as, func(a, b arrival) int { return cmp.Compare(a.event().Task.Version, b.event().Task.Version) })
	var s []string
	for _, a := range as {
		e := a.event()
		s = append(s, fmt.Sprintf("%s v%d", e.Type, e.Task.Version))
	}
	return strings.Join(s, ", ")
}

// deliveryDoc is one entry of GET /v1/webhooks/{id}/deliveries.
type deliveryDoc struct {
	EventID        string  `json:"event_id"`
	Status         string  `json:"status"`
	Attempts       int     `json:"attempts"`
	LastError      *string `json:"last_error"`
	LastHTTPStatus *int    `json:"last_http_status"`
}

// deliveries lists every delivery of the webhook, oldest first.
func (h hook) deliveries(t *testing.T, to endpoint) []deliveryDoc {
	t.Helper()
	var all []deliveryDoc
	path := "/v1/webhooks/" + h.id + "/deliveries?limit=100"
	for {
		r := mustCall(t, to, "GET", path, "", 200)
		b, err := json.Marshal(r.body)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Items      []deliveryDoc `json:"items"`
			NextCursor *string       `json:"next_cursor"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Items...)
		if page.NextCursor == nil {
			return all
		}
		path = "/v1/webhooks/" + h.id + "/deliveries?limit=100&cursor=" + *page.NextCursor
	}
}

// 14. Issue 12's scenarios on one stack: the receiver on the egress network,
// the webhooks made through the published API with the stack's token.
// Scenarios that wait (a receiver's 20 s outage, a delivery that runs out
// of attempts) are started first and checked after those that do not, and
// each scenario's assertions look only at its own tasks: every webhook gets
// every event of its types, the other scenarios' too.
func TestWebhooksAreSignedRetriedAndNeverLost(t *testing.T) {
	s, rc, subnet := newHookStack(t)
	api := s.api()
	began := time.Now()
	timed := func(name string, f func(t *testing.T)) {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			f(t)
			t.Logf("took %s (%s into the test)", time.Since(start).Round(time.Millisecond), time.Since(began).Round(time.Second))
		})
	}

	var outage, rebound func(t *testing.T)
	timed("a receiver down for 20 s: three events made meanwhile", func(t *testing.T) { outage = startOutage(t, api, rc) })
	timed("webhooks to loopback, private and link-local addresses are refused when made", func(t *testing.T) { refusedAtCreation(t, api) })
	timed("a host name the notifier resolves to loopback: made, then refused at delivery", func(t *testing.T) { rebound = startRebound(t, s, subnet) })
	timed("a task created, updated and deleted arrives as three signed events with their versions", func(t *testing.T) { lifecycle(t, api, rc) })
	timed("writes that are rolled back make no event; the next good write does", func(t *testing.T) { rolledBack(t, api, rc) })
	timed("the receiver back after 20 s gets each event, retried until then", func(t *testing.T) {
		if outage == nil {
			t.Skip("the outage was not set up")
		}
		outage(t)
	})
	timed("the delivery to the rebound name ends failed with the refusal as its last error", func(t *testing.T) {
		if rebound == nil {
			t.Skip("the webhook was not made")
		}
		rebound(t)
	})
	timed("the notifier killed -9 mid-delivery: the event arrives again with the same webhook-id", func(t *testing.T) { notifierKilled(t, s, rc) })
	timed("the API killed -9 right after a 201: the event is delivered", func(t *testing.T) { apiKilled(t, s, rc) })
	timed("three notifiers, 300 events: every one delivered", func(t *testing.T) { threeNotifiers(t, s, rc) })
}

// 1. Create, update, delete: three deliveries, signed, typed and versioned.
func lifecycle(t *testing.T, api endpoint, rc *receiver) {
	h := newHook(t, api, rc.url("lifecycle", ""), "lifecycle", allEvents...)
	defer h.remove(t, api)
	created := newTask(t, api, "hooked")
	loc := created.header.Get("Location")
	updated := mustCall(t, api, "PATCH", loc, `{"status":"done"}`, 200, "If-Match", created.header.Get("ETag"))
	mustCall(t, api, "DELETE", loc, "", 204, "If-Match", updated.header.Get("ETag"))
	done := time.Now()

	got := h.waitEvents(t, rc, idOf(t, created), 3, 30*time.Second)
	events := delivered(got)
	if got, want := typesAndVersions(events), "task.created v1, task.updated v2, task.deleted v3"; got != want {
		t.Errorf("the receiver got %s, want %s", got, want)
	}
	if len(got) != 3 {
		t.Logf("%d requests for 3 events (at least once: a repeat is allowed):\n%s", len(got), summary(got))
	}
	last := slices.MaxFunc(events, func(a, b arrival) int { return a.Arrived.Compare(b.Arrived) })
	t.Logf("the last of them arrived %s after the delete returned", last.Arrived.Sub(done).Round(time.Millisecond))
}

// 2. The receiver answers 500 for 20 s, then 200. The events made at the
// start of the outage come once it is over; each was tried during it.
func startOutage(t *testing.T, api endpoint, rc *receiver) func(t *testing.T) {
	until := time.Now().Add(20 * time.Second)
	h := newHook(t, api, rc.url("outage", "fail_until="+strconv.FormatInt(until.UnixMilli(), 10)), "outage", allEvents...)
	created := newTask(t, api, "made during an outage")
	loc := created.header.Get("Location")
	updated := mustCall(t, api, "PATCH", loc, `{"status":"doing"}`, 200, "If-Match", created.header.Get("ETag"))
	mustCall(t, api, "DELETE", loc, "", 204, "If-Match", updated.header.Get("ETag"))
	task := idOf(t, created)
	return func(t *testing.T) {
		defer h.remove(t, api)
		got := h.waitEvents(t, rc, task, 3, 90*time.Second)
		for _, e := range delivered(got) {
			var tries []arrival
			for _, a := range got {
				if a.ID == e.ID {
					tries = append(tries, a)
				}
			}
			if e.Arrived.Before(until) {
				t.Errorf("%s was taken at %s, before the outage ended at %s", e.ID, e.Arrived.Format(time.TimeOnly), until.Format(time.TimeOnly))
			}
			if failed := answered(tries, 500); len(failed) == 0 {
				t.Errorf("%s was never tried during the outage: the test proves nothing", e.ID)
			}
			t.Logf("%s (%s): %d requests, the first 200 %s after the outage ended", e.ID, e.event().Type, len(tries), e.Arrived.Sub(until).Round(time.Millisecond))
		}
		byEvent := map[string]deliveryDoc{}
		for _, d := range h.deliveries(t, api) {
			byEvent[d.EventID] = d
		}
		for _, e := range delivered(got) {
			d := byEvent[e.ID]
			if d.Status != "succeeded" || d.Attempts < 2 || d.LastHTTPStatus == nil || *d.LastHTTPStatus != 200 {
				t.Errorf("the deliveries list has %s as %+v; want succeeded after several attempts, last status 200", e.ID, d)
			}
		}
	}
}

// 6. Creation refuses loopback, private and link-local addresses, by
// address or by a name that resolves to one.
func refusedAtCreation(t *testing.T, api endpoint) {
	for _, url := range []string{"https://127.0.0.1/hook", "https://10.0.0.1/hook", "https://169.254.169.254/latest/meta-data/", "https://localhost/hook"} {
		body := `{"url":"` + url + `","events":["task.created"]}`
		r := mustCall(t, api, "POST", "/v1/webhooks", body, 400)
		if detail, _ := r.body["detail"].(string); !strings.Contains(detail, "is not a public address") {
			t.Errorf("%s: refused with %q, which does not say why", url, detail)
		}
	}
}

// 6. A name that resolved to an allowed address when the webhook was made
// and resolves to loopback when the notifier dials it (DNS rebinding):
// the API is given loopback too, so it takes http://localhost; the
// notifier, with the stack's list, refuses the address it would dial. The
// API keeps that list for the rest of the test, which nothing else needs.
func startRebound(t *testing.T, s *stack, subnet string) func(t *testing.T) {
	s.with("GANTRY_WEBHOOK_ALLOW_CIDRS="+subnet+",127.0.0.1/32,::1/128").must("up", "--detach", "--wait", "--no-deps", "api")
	api := s.api()
	h := newHook(t, api, "http://localhost:9/hook", "rebound", "task.created")
	newTask(t, api, "to a rebound name")
	refused := func(d deliveryDoc) bool {
		return d.LastError != nil && strings.Contains(*d.LastError, "is not a public address") && d.LastHTTPStatus == nil
	}
	first := waitDelivery(t, h, api, 30*time.Second, "a first attempt", func(d deliveryDoc) bool { return d.Attempts >= 1 })
	if !refused(first) {
		t.Errorf("the first attempt's record: %+v; want the dialer's refusal and no HTTP status", first)
	}
	t.Logf("after attempt %d: %s", first.Attempts, *first.LastError)
	return func(t *testing.T) {
		defer h.remove(t, api)
		last := waitDelivery(t, h, api, 90*time.Second, "the delivery to end", func(d deliveryDoc) bool { return d.Status != "pending" })
		if last.Status != "failed" || last.Attempts != 8 || !refused(last) {
			t.Errorf("the delivery ended as %+v; want failed after 8 attempts, each refused by the dialer", last)
		}
	}
}

// waitDelivery polls the webhook's oldest delivery until ok says so.
func waitDelivery(t *testing.T, h hook, api endpoint, within time.Duration, what string, ok func(deliveryDoc) bool) deliveryDoc {
	t.Helper()
	var d deliveryDoc
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if ds := h.deliveries(t, api); len(ds) > 0 {
			if d = ds[0]; ok(d) {
				return d
			}
		}
	}
	t.Fatalf("%s: not within %s (the oldest delivery: %+v)", what, within, d)
	return d
}

// 7. A write the API refuses makes no event: a PATCH with a stale If-Match
// (412: its transaction rolled back) and a POST refused by validation
// (422). The next good write's event arrives; nothing of the refused ones
// does, in the time that took and 3 s more.
func rolledBack(t *testing.T, api endpoint, rc *receiver) {
	h := newHook(t, api, rc.url("rollback", ""), "rollback", allEvents...)
	defer h.remove(t, api)
	created := newTask(t, api, "kept")
	loc, stale := created.header.Get("Location"), created.header.Get("ETag")
	updated := mustCall(t, api, "PATCH", loc, `{"title":"kept, renamed"}`, 200, "If-Match", stale)
	mustCall(t, api, "PATCH", loc, `{"title":"rolled back"}`, 412, "If-Match", stale)
	mustCall(t, api, "POST", "/v1/tasks", `{"title":"refused","status":"no such status"}`, 422)
	mustCall(t, api, "PATCH", loc, `{"title":"kept, renamed again"}`, 200, "If-Match", updated.header.Get("ETag"))

	h.waitEvents(t, rc, idOf(t, created), 3, 30*time.Second)
	time.Sleep(3 * time.Second)
	all := rc.records("rollback")
	h.verify(t, all)
	for _, a := range all {
		if title := a.event().Task.Title; title == "rolled back" || title == "refused" {
			t.Errorf("a refused write made an event: %s", a.Body)
		}
	}
	if got, want := typesAndVersions(delivered(ofTasks(all, idOf(t, created)))), "task.created v1, task.updated v2, task.updated v3"; got != want {
		t.Errorf("the receiver got %s, want %s", got, want)
	}
}

// 3. The notifier killed with SIGKILL while the receiver holds its request:
// once a notifier runs again, River's rescuer hands the job on and the
// event comes again, with the same webhook-id.
func notifierKilled(t *testing.T, s *stack, rc *receiver) {
	api := s.api()
	h := newHook(t, api, rc.url("held", "hold=60s"), "held", "task.created")
	defer h.remove(t, api)
	task := idOf(t, newTask(t, api, "in flight when the notifier dies"))
	rc.waitFor("held", 30*time.Second, "the first attempt", func(as []arrival) bool { return len(ofTasks(as, task)) > 0 })

	notifier := s.one("notifier")
	if out, err := exec.Command("docker", "kill", "--signal", "KILL", notifier.ID).CombinedOutput(); err != nil {
		t.Fatalf("docker kill: %v\n%s", err, out)
	}
	killed := time.Now()
	if c := s.one("notifier"); c.State.Status != "exited" || c.State.ExitCode != 137 {
		t.Fatalf("the notifier after docker kill: %+v", c.State)
	}
	s.must("start", "notifier")

	got := h.waitEvents(t, rc, task, 1, 150*time.Second)
	first, ok := got[0], delivered(got)[0]
	if first.Status != 0 {
		t.Errorf("the held request was answered %d: it was not cut by the kill", first.Status)
	}
	for _, a := range got {
		if a.ID != first.ID {
			t.Errorf("the event came again as %s, not %s", a.ID, first.ID)
		}
	}
	t.Logf("%d requests for the event, all %s; taken %s after the kill", len(got), first.ID, ok.Arrived.Sub(killed).Round(time.Millisecond))
	if ds := h.deliveries(t, api); len(ds) != 1 || ds[0].Status != "succeeded" {
		t.Errorf("the deliveries list: %+v; want one, succeeded", ds)
	}
}

// 4. The API killed with SIGKILL right after a 201. The notifier is
// stopped first, so nothing can deliver the event before the API dies: it
// can only come from what the write committed.
func apiKilled(t *testing.T, s *stack, rc *receiver) {
	api := s.api()
	h := newHook(t, api, rc.url("apikill", ""), "apikill", "task.created")
	defer h.remove(t, api)
	s.must("stop", "notifier")
	id := s.one("api").ID
	task := idOf(t, newTask(t, api, "written just before the API dies"))
	if out, err := exec.Command("docker", "kill", "--signal", "KILL", id).CombinedOutput(); err != nil {
		t.Fatalf("docker kill: %v\n%s", err, out)
	}
	if c := s.one("api"); c.State.Status != "exited" || c.State.ExitCode != 137 {
		t.Fatalf("the API after docker kill: %+v", c.State)
	}
	s.must("start", "notifier")
	got := h.waitEvents(t, rc, task, 1, 60*time.Second)
	t.Logf("delivered: %s", typesAndVersions(delivered(got)))
	s.must("start", "api")
	s.waitHealth("api", "healthy", 90*time.Second)
}

// 5. Three notifiers and 300 events: each delivered; repeats are allowed
// (at least once), counted and listed.
func threeNotifiers(t *testing.T, s *stack, rc *receiver) {
	api := s.api()
	s.must("up", "--detach", "--wait", "--no-deps", "--scale", "notifier=3", "notifier")
	if n := len(s.containers("notifier")); n != 3 {
		t.Fatalf("%d notifiers, want 3", n)
	}
	h := newHook(t, api, rc.url("scale", ""), "scale", "task.created")
	defer h.remove(t, api)

	const events, writers = 300, 6
	start := time.Now()
	ids := make([]string, events)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := w; i < events; i += writers {
				r := call(t, api, "POST", "/v1/tasks", `{"title":"one of many"}`)
				if r.status != 201 {
					t.Errorf("POST /v1/tasks: %d", r.status)
					continue
				}
				ids[i], _ = r.body["id"].(string)
			}
		})
	}
	wg.Wait()
	written := time.Since(start)
	if t.Failed() {
		return
	}
	got := rc.waitFor("scale", 120*time.Second, fmt.Sprintf("%d events", events), func(as []arrival) bool {
		return len(delivered(ofTasks(as, ids...))) == events
	})
	last := delivered(got)[events-1].Arrived
	mine := ofTasks(got, ids...)
	h.verify(t, mine)

	perID, perNotifier := map[string][]arrival{}, map[string]int{}
	for _, a := range mine {
		perID[a.ID] = append(perID[a.ID], a)
		perNotifier[a.From]++
	}
	repeats := 0
	for id, as := range perID {
		if len(as) > 1 {
			repeats += len(as) - 1
			t.Logf("repeated: %s, %d requests:\n%s", id, len(as), summary(as))
		}
	}
	t.Logf("%d events written in %s, all delivered %s after the first write; %d requests, %d repeats; requests by notifier: %v",
		events, written.Round(time.Millisecond), last.Sub(start).Round(time.Millisecond), len(mine), repeats, perNotifier)
	if len(perNotifier) < 2 {
		t.Errorf("one notifier delivered everything (%v): the others did not share the work", perNotifier)
	}
	ds := h.deliveries(t, api)
	succeeded := 0
	for _, d := range ds {
		if d.Status == "succeeded" {
			succeeded++
		}
	}
	if len(ds) != events || succeeded != events {
		t.Errorf("the deliveries list has %d deliveries, %d succeeded; want %d, all succeeded", len(ds), succeeded, events)
	}
}
