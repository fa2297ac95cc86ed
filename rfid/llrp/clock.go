package llrp

import (
	"time"

	"github.com/dockgate/dockgate/rfid"
)

// Rebasing reader timestamps.
//
// Every timestamp that arrives gives a sample d = arrival − reader time =
// offset + delay, where delay ≥ 0 is how long the report waited in the
// reader's buffer and on the wire. The offset is therefore the smallest d,
// and a read is dated reader time + offset: a backlog keeps the reader's own
// spacing between reads and is dated when it happened, not when it arrived.
//
// What can go wrong, and what the estimate does about it:
//   - A reader clock that runs fast makes d shrink: the offset follows a
//     lower sample at once (within clockStepBound).
//   - A reader clock that runs slow makes d grow: the offset rises to the
//     smallest sample of a few seconds, by at most clockMaxDrift per second
//     since it last moved. A backlog (samples seconds high) therefore moves
//     it by milliseconds, never by its age.
//   - One bad timestamp (a read dated in 2100 or 1953) would drag the offset
//     with it and misdate every read after it. A read more than
//     clockStepBound after its arrival, or more than clockMaxBacklog before
//     it, is implausible: it is dated at its arrival, counted, and moves
//     nothing.
//   - A reader clock that steps (NTP, an operator, an RTC reset) gives
//     samples that all sit off by the same amount. The step is taken once,
//     when samples have stayed off, and stayed steady, for clockStepConfirm
//     of arrival time; a backlog never stays steady, because the reader
//     sends it faster than real time, so its samples fall as it catches up.
//   - Until that is known, reports a few seconds old could be either: they
//     are held (at most clockStepConfirm while reports keep coming) and
//     dated once it is known, so that neither a backlog is collapsed onto
//     its arrival nor a live carton is dated seconds in the past.
//
// The connection event carries the reader's clock too, and arrives before
// any held backlog: it anchors the offset on a fresh connection, so that a
// backlog delivered right after a restart keeps its spacing.
const (
	// clockMaxDrift bounds how fast the offset rises: 2 ms/s (2000 ppm) is
	// well above reader crystals and NTP slewing (500 ppm).
	clockMaxDrift = 2 * time.Millisecond
	// clockRiseWindow caps the time a rise allowance accrues over, so a
	// long quiet spell does not let one backlog report lift the offset by
	// seconds.
	clockRiseWindow = time.Minute
	// clockRiseEvery is the window whose smallest sample the offset rises
	// to.
	clockRiseEvery = 5 * time.Second
	// clockStepBound: samples further than this from the offset are not
	// network jitter or drift, but a backlog, a bad timestamp or a step.
	clockStepBound = time.Second
	// clockStepConfirm is how long samples must stay off, and steady,
	// before the offset is re-based on them.
	clockStepConfirm = 500 * time.Millisecond
	// clockSteady: a candidate step whose samples fall by more than this is
	// a backlog catching up, not a step.
	clockSteady = 100 * time.Millisecond
	// clockMaxBacklog: reads older than this by the offset are implausible.
	clockMaxBacklog = 24 * time.Hour
	// clockMaxHeld caps the reads held while a step is undecided; past it
	// they are taken as a backlog.
	clockMaxHeld = 1 << 16
)

// readerClock estimates the reader-clock → gateway-clock offset. Only the
// Run goroutine touches it; it lives in the Session so that it holds across
// reconnects (a backlog held over a reconnect keeps its reader times).
type readerClock struct {
	offset time.Duration
	have   bool
	rose   time.Time // when the offset last moved
	// The smallest sample above the offset since riseSince.
	riseOn    bool
	riseMin   time.Duration
	riseSince time.Time

	// A candidate step: samples off the offset by more than clockStepBound,
	// all the same way (sign), since since.
	cand struct {
		on      bool
		sign    int
		min     time.Duration // smallest sample so far
		since   time.Time
		steady  time.Time // when min last fell by more than clockSteady
		n       int
		backlog bool // min fell: a backlog catching up, do not hold
	}
	// held are reads of reports a few seconds old while it is not known
	// whether they are a backlog or the reader's clock stepped back.
	held []heldRead
}

type heldRead struct {
	arrival time.Time
	read    rfid.Read
}

// sampleKind is how a sample relates to the current offset.
type sampleKind uint8

const (
	sampleConsistent  sampleKind = iota // within clockStepBound: use the offset
	sampleOld                           // seconds to a day older: backlog or step back
	sampleImplausible                   // after its arrival, or older than a day
)

// classify tells what a sample d = arrival − reader time is.
func (k *readerClock) classify(d time.Duration) sampleKind {
	if !k.have {
		return sampleConsistent
	}
	switch dev := d - k.offset; {
	case dev < -clockStepBound || dev > clockMaxBacklog:
		return sampleImplausible
	case dev > clockStepBound:
		return sampleOld
	}
	return sampleConsistent
}

// learn takes a consistent sample: the offset follows it down at once. It
// rises towards the smallest sample of a window of clockRiseEvery, by at
// most the drift allowance: a report delayed by up to clockStepBound, the
// tail of a backlog, does not lift it when live reports follow it within
// the window. A sample ends any candidate step.
func (k *readerClock) learn(d time.Duration, now time.Time) {
	k.cand.on = false
	switch {
	case !k.have:
		k.offset, k.have, k.rose, k.riseOn = d, true, now, false
	case d <= k.offset:
		k.offset, k.rose, k.riseOn = d, now, false
	default:
		if !k.riseOn {
			k.riseOn, k.riseMin, k.riseSince = true, d, now
		}
		k.riseMin = min(k.riseMin, d)
		if now.Sub(k.riseSince) < clockRiseEvery {
			return
		}
		el := min(now.Sub(k.rose), clockRiseWindow)
		allow := time.Duration(float64(el) * float64(clockMaxDrift) / float64(time.Second))
		k.offset += min(k.riseMin-k.offset, allow)
		k.rose, k.riseOn = now, false
	}
}

// candidate takes a sample off the offset and reports whether it confirms
// a step, in which case the offset has been re-based.
func (k *readerClock) candidate(d time.Duration, now time.Time) (stepped bool) {
	sign := 1
	if d < k.offset {
		sign = -1
	}
	c := &k.cand
	if !c.on || c.sign != sign {
		c.on, c.sign, c.min, c.since, c.steady, c.n, c.backlog = true, sign, d, now, now, 1, false
		return false
	}
	c.n++
	if d < c.min-clockSteady {
		c.steady = now
		c.backlog = c.backlog || sign > 0
	}
	c.min = min(c.min, d)
	if c.n >= 3 && now.Sub(c.steady) >= clockStepConfirm {
		k.offset, k.rose, k.riseOn, c.on = c.min, now, false, false
		return true
	}
	return false
}

// date returns the gateway time of a read seen at reader time rt that
// arrived at arrival: never after its arrival.
func (k *readerClock) date(rt, arrival time.Time) time.Time {
	t := rt.Add(k.offset)
	if t.After(arrival) {
		return arrival
	}
	return t
}

// candidate feeds a sample off the offset to the step detector; when it
// confirms a step it logs it once and dates the held reads on the new
// offset.
func (c *conn) candidate(d time.Duration, now time.Time) bool {
	k := &c.s.clock
	if len(k.held) > 0 && k.cand.on && (d < k.offset) != (k.cand.sign < 0) {
		c.releaseHeld() // the other way now: what was held was a backlog
	}
	old := k.offset
	if !k.candidate(d, now) {
		return false
	}
	c.s.st.steps.Add(1)
	c.s.log.Warn("reader clock stepped: its timestamps are re-based once", "step", old-k.offset, "held_reads", len(k.held))
	c.releaseHeld()
	return true
}

// date sets the gateway time of reads that arrived at arrival; reads with
// an implausible timestamp are dated at their arrival and counted.
func (c *conn) date(reads []rfid.Read, arrival time.Time) {
	k := &c.s.clock
	bad := 0
	for i := range reads {
		r := &reads[i]
		switch {
		case r.ReaderTime.IsZero():
			r.Time = arrival
		case k.classify(arrival.Sub(r.ReaderTime)) == sampleImplausible:
			r.Time = arrival
			bad++
		default:
			r.Time = k.date(r.ReaderTime, arrival)
		}
	}
	if bad == 0 {
		return
	}
	n := c.s.st.implausible.Add(uint64(bad))
	if arrival.Sub(c.s.implLog) >= time.Minute || c.s.implLog.IsZero() {
		c.s.implLog = arrival
		c.s.log.Warn("reader timestamps far from the reader's clock offset: those reads are dated at their arrival; check the reader's clock (NTP)",
			"reads", bad, "total", n, "offset", k.offset)
	}
}

// releaseHeld dates and delivers the held reads on the current offset.
func (c *conn) releaseHeld() {
	k := &c.s.clock
	if len(k.held) == 0 {
		return
	}
	buf := c.s.heldBuf[:0]
	for i := range k.held {
		buf = append(buf, k.held[i].read)
		c.date(buf[i:i+1], k.held[i].arrival)
	}
	clear(k.held)
	k.held = k.held[:0]
	c.s.heldBuf = buf
	if c.s.cfg.OnReads != nil {
		c.s.cfg.OnReads(buf)
	}
}

// releaseStale delivers held reads once a step has had its time to show
// and none did: they were a backlog. Called on messages other than reports.
func (c *conn) releaseStale() {
	k := &c.s.clock
	if len(k.held) > 0 && c.s.cfg.Now().Sub(k.cand.since) >= clockStepConfirm {
		c.releaseHeld()
	}
}

// anchor takes the reader's clock from the connection event: it is sent
// when the connection opens, before any report held over the outage.
func (c *conn) anchor(ev EventData) {
	if ev.Uptime || ev.Timestamp == 0 {
		return
	}
	now := c.s.cfg.Now()
	d := now.Sub(time.UnixMicro(int64(ev.Timestamp)))
	k := &c.s.clock
	switch k.classify(d) {
	case sampleConsistent:
		c.releaseHeld()
		k.learn(d, now)
	default:
		// A connection event is never a backlog: one far off is a step
		// or a bad timestamp, which only reports that agree may confirm.
		c.candidate(d, now)
	}
}
