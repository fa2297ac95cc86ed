package llrp

import (
	"strings"
	"testing"
	"time"
)

// The session reads the connection at most once per ReadInterval: a read
// soon after the last waits for the rest of the interval, one after a
// longer spell does not wait, and none waits without an interval.
func TestPacedReader(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
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
	read(0)                     // the first read: nothing to wait for
	read(time.Millisecond)      // 1 ms later: waits 9
	read(12 * time.Millisecond) // 12 ms later: no wait
	read(4 * time.Millisecond)  // waits 6
	if want := []time.Duration{9 * time.Millisecond, 6 * time.Millisecond}; len(slept) != 2 || slept[0] != want[0] || slept[1] != want[1] {
		t.Fatalf("slept %v, want %v", slept, want)
	}
	if got := now.Sub(t0); got != 32*time.Millisecond {
		t.Fatalf("4 reads took %v, want 32ms", got)
	}

	p.every, slept = 0, nil
	read(0)
	read(0)
	if len(slept) != 0 {
		t.Fatalf("slept %v without an interval", slept)
	}
}
