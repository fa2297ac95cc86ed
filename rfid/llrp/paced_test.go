package llrp

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// The session reads the connection at most once per ReadInterval: a read
// soon after the last waits for the next multiple of the interval (so that
// the sessions of several readers wake up together), one after a longer
// spell does not wait, and none waits without an interval.
func TestPacedReader(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC).Add(3 * time.Millisecond)
	now := t0
	var slept []time.Duration
	p := &pacedReader{r: strings.NewReader(strings.Repeat("x", 100)), every: 10 * time.Millisecond,
		now: func() time.Time { return now }, sleep: func(d time.Duration) { slept = append(slept, d); now = now.Add(d) }}
	b := make([]byte, 10)
	read := func(after time.Duration) {
		t.Helper()
		now = now.Add(after) // the caller's work since the last read
		if _, err := p.Read(b); err != nil {
			t.Fatal(err)
		}
	}
	read(0)                     // at 3 ms, the first read: nothing to wait for
	read(time.Millisecond)      // at 4 ms: waits until 10
	read(12 * time.Millisecond) // at 22 ms, 12 after the last: no wait
	read(4 * time.Millisecond)  // at 26 ms: waits until 30
	read(time.Millisecond)      // at 31 ms: waits until 40
	if want := []time.Duration{6 * time.Millisecond, 4 * time.Millisecond, 9 * time.Millisecond}; !slices.Equal(slept, want) {
		t.Fatalf("slept %v, want %v", slept, want)
	}
	if got := now.Sub(t0); got != 37*time.Millisecond {
		t.Fatalf("5 reads took until %v, want 37ms (at 40 ms on the clock)", got)
	}

	p.every, slept = 0, nil
	read(0)
	read(0)
	if len(slept) != 0 {
		t.Fatalf("slept %v without an interval", slept)
	}
}
