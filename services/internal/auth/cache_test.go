package auth

import (
	"testing"
	"time"
)

func TestCache(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	h1, h2 := HashOf("one"), HashOf("two")
	t1, t2 := Token{ID: 1, Name: "one"}, Token{ID: 2, Name: "two"}
	newLive := func() *Cache {
		c := NewCache(time.Minute, 10)
		c.now = clock
		c.SetLive(true)
		return c
	}
	tests := []struct {
		name  string
		steps func(c *Cache) // after a Put of t1 at h1
		want  bool           // h1 is served
	}{
		{"a token put is served", func(*Cache) {}, true},
		{"a token is served until its TTL", func(c *Cache) { c.now = func() time.Time { return now.Add(59 * time.Second) } }, true},
		{"a token is not served after its TTL", func(c *Cache) { c.now = func() time.Time { return now.Add(time.Minute) } }, false},
		{"a forgotten token is not served", func(c *Cache) { c.Forget(1) }, false},
		{"forgetting another token keeps this one", func(c *Cache) { c.Forget(2) }, true},
		{"nothing is served while the feed is down", func(c *Cache) { c.SetLive(false) }, false},
		{"a feed that comes back has dropped everything", func(c *Cache) { c.SetLive(false); c.SetLive(true) }, false},
		{"a full cache starts again rather than grow", func(c *Cache) {
			for i := range 10 {
				_, gen, _ := c.Get(HashOf(string(rune('a' + i))))
				c.Put(HashOf(string(rune('a'+i))), Token{ID: int64(100 + i)}, gen)
			}
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newLive()
			_, gen, _ := c.Get(h1)
			c.Put(h1, t1, gen)
			tc.steps(c)
			if _, _, ok := c.Get(h1); ok != tc.want {
				t.Errorf("served = %v, want %v", ok, tc.want)
			}
		})
	}

	t.Run("a lookup that raced a revocation is not cached", func(t *testing.T) {
		c := newLive()
		_, gen, _ := c.Get(h2) // the lookup starts
		c.Forget(2)            // the revocation is heard meanwhile
		c.Put(h2, t2, gen)     // the lookup read the row before it
		if _, _, ok := c.Get(h2); ok {
			t.Error("the stale token was cached")
		}
	})
	t.Run("nothing is cached before the feed is live", func(t *testing.T) {
		c := NewCache(time.Minute, 10)
		_, gen, _ := c.Get(h1)
		c.Put(h1, t1, gen)
		c.SetLive(true)
		if _, _, ok := c.Get(h1); ok {
			t.Error("an entry from before the feed was live is served")
		}
	})
}
