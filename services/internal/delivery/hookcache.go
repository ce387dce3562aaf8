package delivery

import (
	"context"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/services/internal/task"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// hookTTL is how long a first attempt may use a webhook loaded by another
// delivery: under load, hundreds of deliveries a second go to a handful of
// webhooks, and loading it was a query for each. So a webhook deleted less
// than this before an event's first attempt may still receive it; retries
// always load it afresh, so a deletion stops them at once.
const hookTTL = time.Second

// maxCachedHooks bounds the cache; past it, it starts over.
const maxCachedHooks = 10_000

// hookCache keeps the webhooks first attempts loaded, for hookTTL.
type hookCache struct {
	load func(context.Context, task.ID) (webhook.Webhook, error)
	now  func() time.Time

	mu    sync.Mutex
	hooks map[task.ID]cachedHook
}

type cachedHook struct {
	hook webhook.Webhook
	at   time.Time
}

func newHookCache(load func(context.Context, task.ID) (webhook.Webhook, error)) *hookCache {
	return &hookCache{load: load, now: time.Now, hooks: map[task.ID]cachedHook{}}
}

// get returns webhook id for attempt number attempt: from the cache if
// it is a first attempt and the entry is fresh, else from the store,
// whose answer it keeps. Errors (NotFound included) are not kept.
func (c *hookCache) get(ctx context.Context, id task.ID, attempt int) (webhook.Webhook, error) {
	now := c.now()
	if attempt <= 1 {
		c.mu.Lock()
		e, ok := c.hooks[id]
		c.mu.Unlock()
		if ok && now.Sub(e.at) < hookTTL {
			return e.hook, nil
		}
	}
	hook, err := c.load(ctx, id)
	if err != nil {
		return hook, err
	}
	c.mu.Lock()
	if len(c.hooks) >= maxCachedHooks {
		clear(c.hooks)
	}
	c.hooks[id] = cachedHook{hook: hook, at: now}
	c.mu.Unlock()
	return hook, nil
}
