package sync

import (
	gosync "sync"
	"time"
)

// Version is a hybrid logical clock value: milliseconds since the Unix
// epoch times 1000, plus a counter (0–999) for versions made in the same
// millisecond or after one from a clock that runs ahead. As a JSON number
// it stays below 2^53 (exact in JavaScript) until the year 2255. A system
// without a clock of this kind publishes its wall clock:
// unix_milliseconds × 1000.
type Version uint64

// VersionAt is the version of wall-clock time t with counter 0.
func VersionAt(t time.Time) Version { return Version(t.UnixMilli()) * 1000 }

// Time is the wall-clock part of v.
func (v Version) Time() time.Time { return time.UnixMilli(int64(v / 1000)).UTC() }

// Clock hands out versions: each above every version it handed out or
// observed, and at least the wall clock's. Safe for concurrent use.
type Clock struct {
	now  func() time.Time
	mu   gosync.Mutex
	last Version
}

// NewClock returns a clock on now, above last (the last version known).
func NewClock(now func() time.Time, last Version) *Clock {
	if now == nil {
		now = time.Now
	}
	return &Clock{now: now, last: last}
}

// Now returns a new version.
func (c *Clock) Now() Version {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = max(c.last+1, VersionAt(c.now()))
	return c.last
}

// Observe takes in a version seen from elsewhere: later versions of this
// clock are above it.
func (c *Clock) Observe(v Version) {
	c.mu.Lock()
	c.last = max(c.last, v)
	c.mu.Unlock()
}

// Last is the highest version handed out or observed.
func (c *Clock) Last() Version {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}
