package delivery

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/services/internal/task"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

func TestTheWebhookCacheServesOnlyFirstAttemptsAndOnlyForASecond(t *testing.T) {
	t.Parallel()
	id := task.ID{1}
	tests := []struct {
		name      string
		attempt   int
		after     time.Duration // since the first load
		loadFails bool          // the first load fails
		wantLoads int           // loads in all, the first one included
	}{
		{"a first attempt within the second uses the webhook already loaded", 1, hookTTL - time.Millisecond, false, 1},
		{"a first attempt a second later loads it again", 1, hookTTL, false, 2},
		{"a retry loads it again however recent the copy", 2, 0, false, 2},
		{"a failed load is not kept", 1, 0, true, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			loads := 0
			c := newHookCache(func(context.Context, task.ID) (webhook.Webhook, error) {
				loads++
				if tc.loadFails && loads == 1 {
					return webhook.Webhook{}, errors.New("the database is down")
				}
				return webhook.Webhook{ID: id.String(), URL: "https://a.example/hook"}, nil
			})
			start := time.Now()
			c.now = func() time.Time { return start }
			_, _ = c.get(context.Background(), id, 1)
			c.now = func() time.Time { return start.Add(tc.after) }
			hook, err := c.get(context.Background(), id, tc.attempt)
			if err != nil || hook.URL != "https://a.example/hook" {
				t.Fatalf("got %+v, %v", hook, err)
			}
			if loads != tc.wantLoads {
				t.Errorf("%d loads, want %d", loads, tc.wantLoads)
			}
		})
	}
}
