package beat

import (
	"testing"
	"time"
)

func TestUntil(t *testing.T) {
	base := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		at, every, want time.Duration
	}{
		{3 * time.Millisecond, 20 * time.Millisecond, 17 * time.Millisecond},
		{20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond},
		{119 * time.Millisecond, 100 * time.Millisecond, 81 * time.Millisecond},
		// A 100 ms beat falls on a 20 ms one: the two wake up together.
		{119 * time.Millisecond, 20 * time.Millisecond, time.Millisecond},
	} {
		if got := Until(base.Add(tc.at), tc.every); got != tc.want {
			t.Errorf("Until(+%v, %v) = %v, want %v", tc.at, tc.every, got, tc.want)
		}
	}
}

// The ticker fires, and again after each Next (where it fires is Until's:
// the runtime fires a timer at or after its time, late under load).
func TestTicker(t *testing.T) {
	tk := NewTicker(5 * time.Millisecond)
	defer tk.Stop()
	var last time.Time
	for range 3 {
		at := <-tk.C
		if !at.After(last) {
			t.Fatalf("tick at %v after one at %v", at, last)
		}
		last = at
		tk.Next()
	}
}
