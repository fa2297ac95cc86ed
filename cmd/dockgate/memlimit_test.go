package main

import "testing"

// The soft memory limit is half as much again as the live heap, within
// its floor and ceiling.
func TestMemoryLimitFollowsLiveHeap(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		live uint64
		want int64
	}{
		{0, memoryLimitFloor},
		{20 * mib, memoryLimitFloor},
		{32 * mib, 48 * mib},
		{40 * mib, 60 * mib},
		{42 * mib, 63 * mib},
		{43 * mib, memoryLimitCeiling},
		{60 * mib, memoryLimitCeiling},
		{1 << 40, memoryLimitCeiling},
	} {
		if got := memoryLimitFor(tc.live); got != tc.want {
			t.Errorf("live heap %d MiB: limit %d MiB, want %d MiB", tc.live/mib, got/mib, tc.want/mib)
		}
	}
}
