package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The gateway's soft memory limit (runtime/debug.SetMemoryLimit) follows
// its live heap: half as much again, and never below memoryLimitFloor nor
// above memoryLimitCeiling. A dock at work keeps a live heap of 13–17 MB,
// 29–37 MB while Badger flushes a memtable (edge/store MemTableSize), and
// the runtime adds about 7 MB (GC metadata, stacks); the flushes and
// compactions make garbage by the ten megabytes, which under a fixed limit
// far above that stays with the process (RSS 80–115 MB in the dock soak).
// In the dock soak, whose RSS adds to the anonymous memory about 22 MB of
// the binary and shared libraries and up to 10 MB of Badger's mapped files,
// a floor of 48 MiB let the anonymous memory rise to 38–45 MB at a flush (RSS
// peaks of 64–70 MB); 36 MiB holds it under 33 MB, for a few more
// collections (25 a minute instead of 18) and at most 0.2 % of one core
// more, within the soak's run-to-run spread. The ceiling holds the peak RSS
// of a burst of a million events under 128 MB (100–117 MB; the Go heap is
// capped, and Badger's mapped tables and the binary add about 57 MB:
// edge/mqttpub TestInteropRSS), the collector then taking 1–4 % of the CPU.
// GOMEMLIMIT, when set, is taken as it is.
//
// Below the limit the collector runs when the heap has grown by gcPercent
// of the live heap (GOGC, when set, is taken as it is): by half rather than
// Go's default of all of it, which in the dock soak (with the floor at 48
// MiB) kept the RSS of a busy gateway at 58 MB instead of 65 MB (median of
// the last third, peaks 63 instead of 73 MB) for no CPU that the soak
// could tell.
const gcPercent = 50

const (
	memoryLimitFloor   = 36 << 20
	memoryLimitCeiling = 64 << 20
	// memoryLimitEvery is how often the limit is looked at again.
	memoryLimitEvery = time.Second
)

// memoryLimitFor is the soft memory limit for a live heap of live bytes.
func memoryLimitFor(live uint64) int64 {
	return min(max(int64(live+live/2), memoryLimitFloor), memoryLimitCeiling)
}

// followLiveHeap sets the soft memory limit from the live heap now and
// then every memoryLimitEvery until ctx ends.
func followLiveHeap(ctx context.Context) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	set := int64(-1)
	adjust := func() {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return
		}
		// Moved by less than a MiB: left alone.
		if l := memoryLimitFor(sample[0].Value.Uint64()); l-set >= 1<<20 || set-l >= 1<<20 {
			debug.SetMemoryLimit(l)
			set = l
		}
	}
	adjust()
	t := time.NewTicker(memoryLimitEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			adjust()
		}
	}
}
