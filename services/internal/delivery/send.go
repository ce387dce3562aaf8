package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/gantry-dev/gantry/services/internal/buildinfo"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// bodyLimit is how much of a receiver's answer is read: enough to reuse
// the connection after a usual reply, and no receiver can make a
// delivery read more. Nothing in the body is used.
const bodyLimit = 64 << 10

// Sender signs events and POSTs them to webhooks.
type Sender struct {
	client    *http.Client
	userAgent string
}

// NewSender sends through NewHTTPClient(o).
func NewSender(o ClientOptions) *Sender {
	return &Sender{client: NewHTTPClient(o), userAgent: "gantry-notifier/" + buildinfo.Version}
}

// Result is what one attempt found.
type Result struct {
	Status   int   // the receiver's HTTP status, 0 when it never answered
	Err      error // why the attempt failed, nil when the receiver answered 2xx
	Duration time.Duration
}

// Send makes one attempt to deliver ev to hook, signed at now. The body
// is the event's JSON; a redelivery carries the same webhook-id.
func (s *Sender) Send(ctx context.Context, hook webhook.Webhook, ev webhook.Event, now time.Time) Result {
	start := time.Now()
	status, err := s.post(ctx, hook, ev, now)
	return Result{Status: status, Err: err, Duration: time.Since(start)}
}

func (s *Sender) post(ctx context.Context, hook webhook.Webhook, ev webhook.Event, now time.Time) (int, error) {
	// Checked at creation too; this keeps a URL edited in the database
	// from smuggling in user info or another scheme.
	u, err := webhook.ParseURL(hook.URL)
	if err != nil {
		return 0, err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return 0, fmt.Errorf("encode the event: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build the request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.userAgent)
	if err := sign(req.Header, hook.Secret, ev.ID, now, body); err != nil {
		return 0, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, s.explain(err)
	}
	// What the receiver says is not used: read a little so a short answer
	// leaves the connection reusable, and close the rest unread.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, bodyLimit))
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return resp.StatusCode, nil
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return resp.StatusCode, fmt.Errorf("the receiver answered %s: redirects are not followed; point the webhook at the final URL", resp.Status)
	}
	return resp.StatusCode, fmt.Errorf("the receiver answered %s", resp.Status)
}

// explain drops the URL from a transport error: the reason is what the
// delivery's record needs, and a URL may carry a token in its query.
func (s *Sender) explain(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	if ue.Timeout() {
		return fmt.Errorf("no answer within %s (WEBHOOK_TIMEOUT): %w", s.client.Timeout, ue.Err)
	}
	return ue.Err
}
