// Package portal turns tag reads at dock doors into what happened: a tag
// arrived, a pass went through a door in a direction, a carton of a held lot
// is leaving.
//
// Each door has antennas outside and inside the building. A tag is arrived
// after MinReads reads above the door's RSSI floor, departed after no read
// for PresenceTimeout; reads from antennas of no door, reads below the floor
// and tags that never reach MinReads are strays and are dropped. The
// direction of a departed tag comes from the order of its peak-RSSI times:
// outside then inside is "in", inside then outside is "out", anything closer
// than DirectionMinGap or seen on one side only is "unknown". A tag read at
// two doors at once (cross-reads) belongs to the one that saw it strongest
// (peak RSSI). A tag that moved to another door — MinReads there, and no
// read at the first door for 250 ms before its first read there — leaves
// the first door (it joins that door's pass) and arrives at the other
// afresh, so each door gets a pass with its own direction.
//
// Presence is per tag, not per direction: a tag that goes through a door
// and comes back through the same door within PresenceTimeout stays one
// presence, with one direction from its strongest read on each side. The
// peak times cannot tell "in then out" from a tag lingering in the field
// reliably, so such a reversal is not split.
//
// A pass is the set of tags that went through a door together: it closes
// when no tag is present at the door any more. Each EPC appears once in a
// pass. Departed tags are remembered for two presence timeouts: reads dated
// no later than a departed tag's last read (a backlog delivered late, reports
// held over a reconnect and sent again) are dropped instead of making a
// second pass. A pass is aggregated: the unit load's SSCC is the parent, cases
// (filter 2, 4) and items are counted, and per-GTIN counts are given, all
// from EPCs decoded with encoder/epc. With a [LotResolver], tags resolve to
// lots; a tag of a held lot going out (or through a shipping door) raises an
// [AlertEvent].
//
// The engine keeps its state in memory only. A caller that must not lose an
// open pass to a crash saves the reads [Engine.Accepts] and replays them
// into a fresh engine after a restart; [Engine.OldestOpen] tells how far
// back the saved reads are still needed. A pass's alerts are emitted
// before the pass, so that a caller that has published a pass has
// published its alerts too.
//
// The [Engine] is pure: it reads no clock (read times and the time given to
// Tick drive it) and does no I/O; [Engine.Run] ticks it with an injected
// clock. Memory is a few hundred bytes per tracked EPC.
package portal
