package delivery

import (
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// The Standard Webhooks specification's published test vector.
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specPayload   = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignMatchesTheSpecificationsTestVector(t *testing.T) {
	h := http.Header{}
	if err := sign(h, specSecret, specID, time.Unix(specTimestamp, 0), []byte(specPayload)); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"webhook-id": specID, "webhook-timestamp": "1614265330", "webhook-signature": specSignature}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	wh, err := standardwebhooks.NewWebhook(specSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.VerifyIgnoringTimestamp([]byte(specPayload), h); err != nil {
		t.Errorf("the library does not verify the headers: %v", err)
	}
	if err := wh.VerifyIgnoringTimestamp([]byte(`{"test": 2432232315}`), h); err == nil {
		t.Error("the library verifies a changed payload under the same headers")
	}
}

func TestAnUnusableSecretIsAnErrorThatDoesNotShowIt(t *testing.T) {
	const bad = "whsec_not*base64*at*all"
	err := sign(http.Header{}, bad, specID, time.Now(), []byte(specPayload))
	if err == nil {
		t.Fatal("signed with a secret that is not base64")
	}
	if got := err.Error(); strings.Contains(got, "not*base64") {
		t.Errorf("the error shows the secret: %q", got)
	}
}
