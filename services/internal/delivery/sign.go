package delivery

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// sign sets the Standard Webhooks headers on h: the message ID (the
// event's, the same on every redelivery, so receivers can drop repeats),
// the time of this attempt, and the HMAC-SHA256 of "id.timestamp.body"
// under the webhook's secret, as "v1,<base64>".
func sign(h http.Header, secret, id string, at time.Time, body []byte) error {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		// The library's message names the bad base64, never the secret.
		return fmt.Errorf("the webhook's signing secret is unusable: %w", err)
	}
	sig, err := wh.Sign(id, at, body)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	h.Set(standardwebhooks.HeaderWebhookID, id)
	h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(standardwebhooks.HeaderWebhookSignature, sig)
	return nil
}
