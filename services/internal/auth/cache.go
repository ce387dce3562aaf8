package auth

import (
	"sync"
	"time"
)

// Cache keeps the tokens requests presented, so that a request costs no
// database round trip for authentication. It serves an entry only while
// the feed of token changes (PostgreSQL LISTEN/NOTIFY) is connected, so a
// revocation anywhere takes effect here as soon as it is heard; the TTL
// bounds the damage of a change the feed failed to carry.
type Cache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu   sync.Mutex
	byID map[int64]Hash
	hash map[Hash]cached
	live bool   // the change feed is connected: entries may be served
	gen  uint64 // bumped by every Forget and Reset
}

type cached struct {
	token Token
	at    time.Time
}

// NewCache returns a cache that serves nothing until SetLive(true).
func NewCache(ttl time.Duration, maxEntries int) *Cache {
	return &Cache{ttl: ttl, max: maxEntries, now: time.Now, byID: map[int64]Hash{}, hash: map[Hash]cached{}}
}

// Get returns the cached token for h, fresh and fed, and the generation a
// lookup that misses must hand back to Put.
func (c *Cache) Get(h Hash) (Token, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.hash[h]
	if !ok || !c.live || c.now().Sub(e.at) >= c.ttl {
		return Token{}, c.gen, false
	}
	return e.token, c.gen, true
}

// Put caches what a lookup that began at generation gen found. If a change
// was heard since, the lookup may have read the token before it: it is not
// cached.
func (c *Cache) Put(h Hash, t Token, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || !c.live {
		return
	}
	if len(c.hash) >= c.max {
		c.clear() // tokens are few; this many means garbage worth dropping
	}
	c.hash[h] = cached{token: t, at: c.now()}
	c.byID[t.ID] = h
}

// Forget drops token id: it was revoked, or changed.
func (c *Cache) Forget(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if h, ok := c.byID[id]; ok {
		delete(c.hash, h)
		delete(c.byID, id)
	}
}

// SetLive drops every entry, because changes may have been missed, and
// says whether the feed now carries them: entries are served only if so.
func (c *Cache) SetLive(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.live = live
	c.clear()
}

func (c *Cache) clear() {
	clear(c.hash)
	clear(c.byID)
}
