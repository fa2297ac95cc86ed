// Package beat paces periodic work on the multiples of its interval of the
// clock, so that the goroutines of a gateway that wake up every 20 ms,
// 100 ms or 1 s wake up together: on a small box the cost of waking the
// process (and, in a virtual machine, of each context switch) is more than
// the work done, and timers started at different moments wake it once each.
package beat

import "time"

// Until returns how long it is from now to the next multiple of every of
// the clock (every, when now is on one).
func Until(now time.Time, every time.Duration) time.Duration {
	return now.Truncate(every).Add(every).Sub(now)
}

// Ticker is a time.Timer that fires on the multiples of its interval:
// receive from C, then call Next for the following tick. A tick missed
// because the receiver was busy is not made up, as with time.Ticker.
type Ticker struct {
	*time.Timer
	every time.Duration
}

// NewTicker returns a Ticker for every (> 0) set for the next multiple.
func NewTicker(every time.Duration) *Ticker {
	return &Ticker{Timer: time.NewTimer(Until(time.Now(), every)), every: every}
}

// Next sets the ticker for the next multiple of its interval.
func (t *Ticker) Next() {
	t.Reset(Until(time.Now(), t.every))
}
