package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/dockgate/dockgate/encoder/epc"
	"github.com/dockgate/dockgate/internal/beat"
	"github.com/dockgate/dockgate/rfid"
)

// LotResolver tells which lot an EPC (upper-case hex) belongs to and whether
// that lot is on hold; ok is false for EPCs registered to no lot. The
// receiving flow implements it.
type LotResolver interface {
	LotForEPC(epcHex string) (lot string, held, ok bool)
}

// LotHolds is implemented by a LotResolver that tells whether a lot is
// on hold from its code alone: the engine asks it about the lot a tag
// carries in its own EPC (a TDS '+' scheme with AI (10) in its +AIDC
// data), which is the tag's lot whatever else the resolver knows.
type LotHolds interface {
	LotHeld(lot string) bool
}

// Event is what the engine emits: *ArrivalEvent, *PassEvent or *AlertEvent.
type Event interface{ EventType() string }

// ArrivalEvent: a tag became present at a door.
type ArrivalEvent struct {
	Door    string    `json:"door"`
	EPC     string    `json:"epc"`
	URI     string    `json:"uri,omitempty"`
	Antenna uint16    `json:"antenna"`
	RSSI    int       `json:"rssi"`
	Time    time.Time `json:"time"` // time of the read that made it arrive
}

// EventType is "arrival".
func (*ArrivalEvent) EventType() string { return "arrival" }

// Tag kinds in a pass, from the EPC's scheme and filter value.
const (
	KindPallet = "pallet" // unit load: filter 6, or an SSCC not marked full case
	KindCase   = "case"   // full case (2, SSCC or GTIN) or inner pack (4)
	KindItem   = "item"   // other GS1 trade items
	KindOther  = "other"  // raw EPCs and other GS1 keys
)

// PassTag is one tag of a pass.
type PassTag struct {
	EPC       string    `json:"epc"`
	URI       string    `json:"uri,omitempty"`
	Kind      string    `json:"kind"`
	GTIN      string    `json:"gtin,omitempty"`
	SSCC      string    `json:"sscc,omitempty"`
	Direction string    `json:"direction"`
	PeakRSSI  int       `json:"peak_rssi"`
	Reads     int       `json:"reads"`
	First     time.Time `json:"first"`
	Last      time.Time `json:"last"`
	Lot       string    `json:"lot,omitempty"`
	Held      bool      `json:"held,omitempty"`
}

// PassEvent: tags that went through a door together, aggregated.
type PassEvent struct {
	Door      string    `json:"door"`
	Role      string    `json:"role"`
	Direction string    `json:"direction"` // majority of the tags' directions
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	// Parent is the SSCC of the unit load when the pass has exactly one.
	Parent  string         `json:"parent,omitempty"`
	Pallets []string       `json:"pallets,omitempty"` // SSCCs of unit loads
	Cases   int            `json:"cases"`
	Items   int            `json:"items"`
	Others  int            `json:"others"`
	GTINs   map[string]int `json:"gtins,omitempty"` // per-GTIN tag counts
	Lots    map[string]int `json:"lots,omitempty"`  // per-lot tag counts
	Tags    []PassTag      `json:"tags"`
	// A pass too large for one event is published in parts (see Split):
	// every part carries the whole pass's aggregates above and some of its
	// tags; ID ties the parts together, Part counts from 1 to Parts.
	ID    string `json:"pass_id,omitempty"`
	Part  int    `json:"part,omitempty"`
	Parts int    `json:"parts,omitempty"`
	// TagsOmitted is the number of tags left out of a pass published as a
	// summary, when even one tag with the aggregates is too large.
	TagsOmitted int `json:"tags_omitted,omitempty"`
	// Recovered is set by the caller, not the engine: the pass was rebuilt
	// after a restart from reads saved before the gateway stopped.
	Recovered bool `json:"recovered,omitempty"`
}

// EventType is "pass".
func (*PassEvent) EventType() string { return "pass" }

// EPCs returns the pass's EPCs (hex).
func (p *PassEvent) EPCs() []string {
	out := make([]string, len(p.Tags))
	for i, t := range p.Tags {
		out[i] = t.EPC
	}
	return out
}

// Split returns the pass as parts whose JSON is at most maxBytes each, all
// with pass id id: the pass itself when it fits. Every part repeats the
// pass's aggregates (counts, per-GTIN and per-lot counts, pallets) and
// holds a share of its tags, in order. It fails when the aggregates and a
// single tag do not fit in maxBytes.
func (p *PassEvent) Split(id string, maxBytes int) ([]*PassEvent, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("pass at door %s: %w", p.Door, err)
	}
	if len(b) <= maxBytes {
		return []*PassEvent{p}, nil
	}
	// The part's fields are sized for the largest part number there can
	// be, so that no part grows past its measure.
	head := *p
	head.Tags, head.ID, head.Part, head.Parts = []PassTag{}, id, len(p.Tags), len(p.Tags)
	hb, err := json.Marshal(&head)
	if err != nil {
		return nil, fmt.Errorf("pass at door %s: %w", p.Door, err)
	}
	var groups [][]PassTag
	start, size := 0, len(hb)
	for i := range p.Tags {
		tb, err := json.Marshal(&p.Tags[i])
		if err != nil {
			return nil, fmt.Errorf("pass at door %s, tag %s: %w", p.Door, p.Tags[i].EPC, err)
		}
		n := len(tb)
		if i > start {
			n++ // the comma
		}
		if size+n > maxBytes {
			if i == start {
				return nil, fmt.Errorf("pass at door %s: its aggregates and one tag take %d bytes, more than the %d an event may have", p.Door, size+n, maxBytes)
			}
			groups = append(groups, p.Tags[start:i])
			start, size, n = i, len(hb), len(tb)
		}
		size += n
	}
	groups = append(groups, p.Tags[start:])
	parts := make([]*PassEvent, len(groups))
	for i, g := range groups {
		part := head
		part.Tags, part.Part, part.Parts = g, i+1, len(groups)
		parts[i] = &part
	}
	return parts, nil
}

// AlertEvent: a tag of a held lot is leaving.
type AlertEvent struct {
	Door      string    `json:"door"`
	Direction string    `json:"direction"`
	EPC       string    `json:"epc"`
	URI       string    `json:"uri,omitempty"`
	Lot       string    `json:"lot"`
	Reason    string    `json:"reason"`
	Time      time.Time `json:"time"`
	// PassStart is when the pass the alert belongs to began.
	PassStart time.Time `json:"pass_start"`
	// Recovered: see PassEvent.Recovered.
	Recovered bool `json:"recovered,omitempty"`
}

// EventType is "alert".
func (*AlertEvent) EventType() string { return "alert" }

// Config configures an Engine.
type Config struct {
	Doors []DoorConfig
	// Sink receives events, synchronously, from the goroutine that called
	// Observe or Tick, with the engine locked: it must not call the engine.
	// A pass's alerts come before the pass itself, so that a caller that
	// has handled a pass has handled its alerts too. Required.
	Sink func(Event)
	// Lots resolves EPCs to lots (optional).
	Lots LotResolver
	// Decode decodes an EPC (default epc.Decode).
	Decode func(b []byte, bitLen int) (epc.EPC, error)
	// Now is the clock Run ticks with (default time.Now).
	Now func() time.Time
	// MaxTags caps the EPCs tracked at once (default 1,000,000); reads of
	// new EPCs beyond it are dropped and counted.
	MaxTags int
}

// Stats counts what the engine did (GET /readers shows it as "portal").
type Stats struct {
	Reads      uint64 `json:"reads"`    // reads observed
	Accepted   uint64 `json:"accepted"` // reads at a door above its floor
	Weak       uint64 `json:"weak"`     // below the RSSI floor
	Unmapped   uint64 `json:"unmapped"` // from an antenna of no door
	Strays     uint64 `json:"strays"`   // tags that left before MinReads
	Arrivals   uint64 `json:"arrivals"`
	Departures uint64 `json:"departures"`
	Passes     uint64 `json:"passes"`
	Alerts     uint64 `json:"alerts"`
	Overflow   uint64 `json:"overflow"` // reads dropped at MaxTags
	// Replayed counts reads of a departed tag dated no later than its last
	// read: a reader's backlog delivered after the tag left, or reports
	// held over a reconnect and sent twice. They are dropped.
	Replayed uint64 `json:"replayed"`
	Tracked  int    `json:"tracked"` // EPCs tracked now
}

// group says which side of a door an antenna watches.
type group uint8

const (
	outside group = 1
	inside  group = 2
)

type slot struct {
	door  int16
	group group
}

type door struct {
	cfg     DoorConfig
	present int // present tags with reads at this door
	pass    *PassEvent
	// passIdx finds a tag already in the open pass (a tag that comes back
	// within a pass is merged, not counted twice); passLast is when the
	// last tag joined it (unix ns).
	passIdx  map[string]int
	passLast int64
}

// maxDoorsPerTag bounds the per-tag door statistics; a third door replaces
// the weakest.
const maxDoorsPerTag = 2

type doorStat struct {
	door          int16 // -1: unused
	reads         uint16
	outPeak       int8
	inPeak        int8
	hasOut, hasIn bool
	outAt, inAt   int64 // unix ns of the peaks
	first, last   int64 // unix ns of the first and last read at this door
	peakAnt       uint16
}

func (s *doorStat) peak() int8 {
	switch {
	case s.hasOut && s.hasIn:
		return max(s.outPeak, s.inPeak)
	case s.hasOut:
		return s.outPeak
	}
	return s.inPeak
}

type tag struct {
	epc      rfid.EPC
	first    int64
	last     int64
	reads    uint32
	present  bool
	live     bool
	counted  uint8 // bit i: doors[i] counted in door.present
	heapIdx  int32
	deadline int64 // when it departs unless read again
	doors    [maxDoorsPerTag]doorStat
}

// Engine is the portal logic for a set of doors. Its methods are safe for
// concurrent use.
type Engine struct {
	mu      sync.Mutex
	cfg     Config
	doors   []door
	byRdr   map[string][]slot // reader id → antenna → slot
	lastRdr string
	lastMap []slot
	index   map[rfid.EPC]int32
	tags    []tag
	free    []int32
	due     dueHeap
	timeout int64 // longest presence timeout, ns
	// holdUntil: Tick departs nothing before it (ns; see HoldDepartures).
	holdUntil int64
	st        Stats

	// Departed tags are remembered for two presence timeouts so that a
	// replayed backlog does not make a second pass.
	recent  map[rfid.EPC]int64 // EPC → its last read before departing
	recentQ []departed
	recentH int
}

type departed struct {
	epc  rfid.EPC
	last int64
	at   int64
}

// New checks cfg and builds an engine.
func New(cfg Config) (*Engine, error) {
	if cfg.Sink == nil {
		return nil, errors.New("portal: no event sink; set Config.Sink")
	}
	if len(cfg.Doors) == 0 {
		return nil, errors.New("portal: no doors configured; add doors with antennas_outside and antennas_inside")
	}
	if cfg.Decode == nil {
		cfg.Decode = epc.Decode
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxTags == 0 {
		cfg.MaxTags = 1_000_000
	}
	e := &Engine{cfg: cfg, byRdr: map[string][]slot{}, index: map[rfid.EPC]int32{}, recent: map[rfid.EPC]int64{}}
	e.due.e = e
	var errs []error
	seen := map[string]bool{}
	for _, dc := range cfg.Doors {
		dc = dc.WithDefaults()
		if err := dc.Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[dc.ID] {
			errs = append(errs, fmt.Errorf("door %q: id used twice", dc.ID))
		}
		seen[dc.ID] = true
		e.doors = append(e.doors, door{cfg: dc})
		m := e.byRdr[dc.Reader]
		for _, side := range []struct {
			ants []uint16
			g    group
		}{{dc.AntennasOutside, outside}, {dc.AntennasInside, inside}} {
			for _, a := range side.ants {
				if int(a) >= len(m) {
					m = append(m, make([]slot, int(a)+1-len(m))...)
				}
				if m[a].group != 0 {
					errs = append(errs, fmt.Errorf("door %q: antenna %d of reader %q already belongs to door %q", dc.ID, a, dc.Reader, e.doors[m[a].door].cfg.ID))
				}
				m[a] = slot{door: int16(len(e.doors) - 1), group: side.g}
			}
		}
		e.byRdr[dc.Reader] = m
		e.timeout = max(e.timeout, int64(dc.PresenceTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("portal: %w", err)
	}
	return e, nil
}

// Stats returns a snapshot of the counters.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.st
	s.Tracked = len(e.index)
	return s
}

// Accepts reports whether Observe would take r into account: it comes from
// an antenna of a door and is not below that door's RSSI floor. The rest is
// dropped by Observe (Unmapped, Weak), so a caller saving reads to replay
// them later need not keep it.
func (e *Engine) Accepts(r *rfid.Read) bool {
	// byRdr and doors do not change after New: no lock.
	m := e.byRdr[r.Reader]
	if m == nil {
		m = e.byRdr[""]
	}
	if int(r.Antenna) >= len(m) || m[r.Antenna].group == 0 {
		return false
	}
	return !r.HasRSSI || int(r.RSSI) >= e.doors[m[r.Antenna].door].cfg.RSSIFloor
}

// OldestOpen is the time of the oldest read that an event not yet emitted
// may still depend on: the earliest first read of a tracked tag (present or
// not yet arrived) and the start of an open pass. It is zero when nothing
// is open. Reads older than it have done all they will do, which is what a
// caller that saves reads to replay after a crash needs to prune them.
func (e *Engine) OldestOpen() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	oldest, found := int64(0), false
	for _, idx := range e.index {
		t := &e.tags[idx]
		if !found || t.first < oldest {
			oldest, found = t.first, true
		}
		// A read dated before the tag's first at a door (a backlog)
		// lowers that door's first but not always the tag's.
		for j := range t.doors {
			if t.doors[j].door >= 0 && t.doors[j].first < oldest {
				oldest = t.doors[j].first
			}
		}
	}
	var start time.Time
	if found {
		start = time.Unix(0, oldest)
	}
	for i := range e.doors {
		if p := e.doors[i].pass; p != nil && (start.IsZero() || p.Start.Before(start)) {
			start = p.Start
		}
	}
	return start
}

// Observe takes a batch of reads. Tags that reach MinReads emit an
// ArrivalEvent now; departures happen in Tick.
func (e *Engine) Observe(batch []rfid.Read) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range batch {
		e.observe(&batch[i])
	}
}

func (e *Engine) slots(reader string) []slot {
	if reader == e.lastRdr && e.lastMap != nil {
		return e.lastMap
	}
	m := e.byRdr[reader]
	if m == nil {
		m = e.byRdr[""] // doors configured without a reader id take any reader
	}
	e.lastRdr, e.lastMap = reader, m
	return m
}

func (e *Engine) observe(r *rfid.Read) {
	e.st.Reads++
	m := e.slots(r.Reader)
	if int(r.Antenna) >= len(m) || m[r.Antenna].group == 0 {
		e.st.Unmapped++
		return
	}
	sl := m[r.Antenna]
	d := &e.doors[sl.door]
	if r.HasRSSI && int(r.RSSI) < d.cfg.RSSIFloor {
		e.st.Weak++
		return
	}
	e.st.Accepted++
	now := r.Time.UnixNano()
	idx, ok := e.index[r.EPC]
	if !ok {
		if last, gone := e.recent[r.EPC]; gone && now <= last {
			e.st.Replayed++
			return
		}
		if len(e.index) >= e.cfg.MaxTags {
			e.st.Overflow++
			return
		}
		idx = e.alloc()
		t := &e.tags[idx]
		*t = tag{epc: r.EPC, first: now, last: now, live: true, heapIdx: -1}
		for j := range t.doors {
			t.doors[j].door = -1
		}
		e.index[r.EPC] = idx
	}
	t := &e.tags[idx]
	t.reads++
	if now > t.last {
		t.last = now
	}
	if now < t.first {
		t.first = now
	}
	ds, k := e.stat(t, sl.door)
	ds.reads++
	if ds.reads == 1 || now < ds.first {
		ds.first = now
	}
	ds.last = max(ds.last, now)
	rssi := r.RSSI
	if !r.HasRSSI {
		rssi = -128
	}
	if sl.group == outside {
		if !ds.hasOut || rssi > ds.outPeak {
			ds.outPeak, ds.outAt, ds.hasOut, ds.peakAnt = rssi, now, true, r.Antenna
		}
	} else if !ds.hasIn || rssi > ds.inPeak {
		ds.inPeak, ds.inAt, ds.hasIn, ds.peakAnt = rssi, now, true, r.Antenna
	}
	if t.present {
		if t.counted&(1<<k) == 0 {
			t.counted |= 1 << k
			d.present++
		}
		e.switchDoor(t, k, r)
	} else if int(ds.reads) >= d.cfg.MinReads {
		t.present = true
		for j := range t.doors {
			if t.doors[j].door >= 0 {
				t.counted |= 1 << j
				e.doors[t.doors[j].door].present++
			}
		}
		e.st.Arrivals++
		e.arrive(t, sl.door, r)
	}
	deadline := t.last + int64(d.cfg.PresenceTimeout)
	if t.heapIdx < 0 {
		// The heap key stays fixed while queued; Tick re-checks the real
		// deadline when the key comes due and re-queues if reads came since.
		t.deadline = deadline
		e.due.push(idx)
	}
}

// stat returns the tag's statistics for door d, taking a free or the
// weakest slot; a replaced door no longer counts the tag as present.
func (e *Engine) stat(t *tag, d int16) (*doorStat, int) {
	free, weakest := -1, 0
	for i := range t.doors {
		if t.doors[i].door == d {
			return &t.doors[i], i
		}
		if t.doors[i].door < 0 && free < 0 {
			free = i
		}
		if t.doors[i].peak() < t.doors[weakest].peak() {
			weakest = i
		}
	}
	if free < 0 {
		free = weakest
		if t.counted&(1<<free) != 0 {
			e.doors[t.doors[free].door].present--
			t.counted &^= 1 << free
		}
	}
	t.doors[free] = doorStat{door: d}
	return &t.doors[free], free
}

func (e *Engine) alloc() int32 {
	if n := len(e.free); n > 0 {
		idx := e.free[n-1]
		e.free = e.free[:n-1]
		return idx
	}
	e.tags = append(e.tags, tag{})
	return int32(len(e.tags) - 1)
}

func (e *Engine) arrive(t *tag, d int16, r *rfid.Read) {
	ev := &ArrivalEvent{Door: e.doors[d].cfg.ID, EPC: t.epc.String(), Antenna: r.Antenna, RSSI: int(r.RSSI), Time: r.Time.UTC()}
	if x, err := e.cfg.Decode(t.epc.Bytes(), t.epc.BitLen()); err == nil && !x.IsRaw() {
		ev.URI = x.PureURI()
	}
	e.cfg.Sink(ev)
}

// Tick departs every tag not read for its door's presence timeout before
// now and closes the passes of doors left empty.
func (e *Engine) Tick(now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if now.UnixNano() < e.holdUntil {
		return
	}
	e.tick(now.UnixNano(), false)
}

// HoldDepartures makes Tick depart nothing (and close no pass) before
// until. After a restart the tags replayed from before it have not been
// read for as long as the restart took; their readers' backlogs, which may
// continue their passes, arrive only once the readers are connected again,
// and a departure before then would split a carton into two passes. Flush
// is not held.
func (e *Engine) HoldDepartures(until time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.holdUntil = until.UnixNano()
}

// LongestPresenceTimeout is the longest presence_timeout of the doors.
func (e *Engine) LongestPresenceTimeout() time.Duration {
	return time.Duration(e.timeout)
}

// Flush departs every tracked tag now and closes every pass: for shutdown
// and for the end of a bounded watch.
func (e *Engine) Flush(now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tick(now.UnixNano(), true)
}

func (e *Engine) tick(now int64, all bool) {
	for e.due.Len() > 0 {
		top := e.due.items[0]
		t := &e.tags[top]
		if !all && t.deadline > now {
			break
		}
		// Re-check: the deadline may have moved with later reads.
		d := e.doors[t.best()].cfg
		if dl := t.last + int64(d.PresenceTimeout); !all && dl > now {
			t.deadline = dl
			e.due.down(0)
			continue
		}
		e.due.pop()
		e.depart(top, now)
	}
	e.forget(now)
	for i := range e.doors {
		dr := &e.doors[i]
		// A pass closes when the door is empty, or when no tag has joined
		// it for a presence timeout although some tag is still present (a
		// pallet parked in the field must not hold every later pass open).
		if dr.pass != nil && (all || dr.present == 0 || now-dr.passLast >= int64(dr.cfg.PresenceTimeout)) {
			p := dr.pass
			dr.pass, dr.passIdx = nil, nil
			e.closePass(p)
		}
	}
}

// forget drops departed tags older than two presence timeouts.
func (e *Engine) forget(now int64) {
	for e.recentH < len(e.recentQ) {
		d := &e.recentQ[e.recentH]
		if d.at+2*e.timeout > now {
			break
		}
		if e.recent[d.epc] == d.last {
			delete(e.recent, d.epc)
		}
		e.recentH++
	}
	if e.recentH > 1024 && e.recentH*2 > len(e.recentQ) {
		n := copy(e.recentQ, e.recentQ[e.recentH:])
		e.recentQ = e.recentQ[:n]
		e.recentH = 0
	}
}

// best is the door that saw the tag strongest; ties go to more reads.
func (t *tag) best() int16 {
	b := -1
	for i := range t.doors {
		if t.doors[i].door < 0 {
			continue
		}
		if b < 0 {
			b = i
			continue
		}
		pi, pb := t.doors[i].peak(), t.doors[b].peak()
		if pi > pb || pi == pb && t.doors[i].reads > t.doors[b].reads {
			b = i
		}
	}
	return t.doors[b].door
}

// depart removes a tag and, if it had arrived, adds it to its door's pass.
func (e *Engine) depart(idx int32, now int64) {
	t := &e.tags[idx]
	delete(e.index, t.epc)
	defer func() {
		*t = tag{heapIdx: -1}
		e.free = append(e.free, idx)
	}()
	if !t.present {
		e.st.Strays++
		return
	}
	e.st.Departures++
	e.recent[t.epc] = t.last
	e.recentQ = append(e.recentQ, departed{epc: t.epc, last: t.last, at: now})
	for j := range t.doors {
		if t.counted&(1<<j) != 0 {
			e.doors[t.doors[j].door].present--
		}
	}
	bd := t.best()
	var ds *doorStat
	for j := range t.doors {
		if t.doors[j].door == bd {
			ds = &t.doors[j]
		}
	}
	e.addToPass(&e.doors[bd], e.passTag(t, ds, &e.doors[bd], int(t.reads), t.first, t.last), now)
}

// doorSwitchGap is how long a tag must have gone unread at one door before
// reads at another door count as it having moved there, rather than as
// cross-reads of a tag still at the first door.
const doorSwitchGap = 250 * time.Millisecond

// switchDoor ends a present tag's presence at its other door when it has
// moved to the door of stat k: it has MinReads there, and the other door
// has not read it since some time before its first read there. The tag
// joins the other door's pass (which closes once that door is empty) and
// arrives at this one afresh, so that a carton going in at one door and
// out at another makes a pass at each, not one.
func (e *Engine) switchDoor(t *tag, k int, r *rfid.Read) {
	ds := &t.doors[k]
	if int(ds.reads) < e.doors[ds.door].cfg.MinReads {
		return
	}
	for j := range t.doors {
		o := &t.doors[j]
		if j == k || o.door < 0 || o.last >= ds.first-int64(doorSwitchGap) {
			continue
		}
		dr := &e.doors[o.door]
		e.st.Departures++
		e.addToPass(dr, e.passTag(t, o, dr, int(o.reads), o.first, o.last), ds.first)
		if t.counted&(1<<j) != 0 {
			dr.present--
			t.counted &^= 1 << j
		}
		*o = doorStat{door: -1}
		reads := uint32(0)
		for i := range t.doors {
			reads += uint32(t.doors[i].reads)
		}
		t.first, t.reads = ds.first, reads
		e.st.Arrivals++
		e.arrive(t, ds.door, r)
	}
}

// passTag is the pass entry of a tag by its statistics at door dr.
func (e *Engine) passTag(t *tag, ds *doorStat, dr *door, reads int, first, last int64) PassTag {
	dir := DirectionUnknown
	if ds.hasOut && ds.hasIn {
		gap := ds.inAt - ds.outAt
		switch {
		case gap > int64(dr.cfg.DirectionMinGap):
			dir = DirectionIn
		case -gap > int64(dr.cfg.DirectionMinGap):
			dir = DirectionOut
		}
	}
	pt := PassTag{EPC: t.epc.String(), Direction: dir, PeakRSSI: int(ds.peak()), Reads: reads,
		First: time.Unix(0, first).UTC(), Last: time.Unix(0, last).UTC(), Kind: KindOther} // events' times are UTC
	own := "" // the lot the tag carries itself
	if x, err := e.cfg.Decode(t.epc.Bytes(), t.epc.BitLen()); err == nil && !x.IsRaw() {
		own = tagLot(x)
		pt.URI = x.PureURI()
		pt.GTIN, pt.SSCC = x.GTIN(), x.SSCC()
		f := x.Filter()
		switch {
		case pt.SSCC != "" && f == epc.FilterFullCase:
			// An SSCC on a carton: TDS filter 2 is "full case for transport".
			pt.Kind = KindCase
		case pt.SSCC != "" || f == epc.FilterUnitLoad:
			pt.Kind = KindPallet
		case pt.GTIN != "" && (f == epc.FilterFullCase || f == epc.FilterInnerPack):
			pt.Kind = KindCase
		case pt.GTIN != "":
			pt.Kind = KindItem
		}
	}
	if e.cfg.Lots != nil {
		pt.Lot, pt.Held, _ = e.cfg.Lots.LotForEPC(pt.EPC)
	}
	if own != "" && own != pt.Lot {
		pt.Lot, pt.Held = own, false
		if h, ok := e.cfg.Lots.(LotHolds); ok {
			pt.Held = h.LotHeld(own)
		}
	}
	return pt
}

// tagLot is the lot (AI (10)) a '+' EPC carries in its +AIDC data, or "".
func tagLot(x epc.EPC) string {
	if !x.AIDC() {
		return ""
	}
	for _, el := range x.AIDCElements() {
		if el.AI == "10" {
			return el.Value
		}
	}
	return ""
}

// addToPass adds a departed tag to its door's open pass, opening one if
// none is.
func (e *Engine) addToPass(dr *door, pt PassTag, now int64) {
	if dr.pass == nil {
		dr.pass = &PassEvent{Door: dr.cfg.ID, Role: dr.cfg.Role, Start: pt.First, End: pt.Last}
		dr.passIdx = map[string]int{}
	}
	dr.passLast = now
	p := dr.pass
	if i, ok := dr.passIdx[pt.EPC]; ok {
		// The tag came back within the pass: one entry, the latest
		// direction, both reads counted.
		old := &p.Tags[i]
		old.Direction, old.Last, old.Reads = pt.Direction, pt.Last, old.Reads+pt.Reads
		old.PeakRSSI = max(old.PeakRSSI, pt.PeakRSSI)
	} else {
		dr.passIdx[pt.EPC] = len(p.Tags)
		p.Tags = append(p.Tags, pt)
	}
	if pt.First.Before(p.Start) {
		p.Start = pt.First
	}
	if pt.Last.After(p.End) {
		p.End = pt.Last
	}
}

func (e *Engine) closePass(p *PassEvent) {
	e.st.Passes++
	sort.Slice(p.Tags, func(i, j int) bool { return p.Tags[i].EPC < p.Tags[j].EPC })
	votes := map[string]int{}
	for _, t := range p.Tags {
		votes[t.Direction]++
		switch t.Kind {
		case KindPallet:
			id := t.SSCC
			if id == "" {
				id = t.EPC
			}
			p.Pallets = append(p.Pallets, id)
		case KindCase:
			p.Cases++
		case KindItem:
			p.Items++
		default:
			p.Others++
		}
		if t.GTIN != "" {
			if p.GTINs == nil {
				p.GTINs = map[string]int{}
			}
			p.GTINs[t.GTIN]++
		}
		if t.Lot != "" {
			if p.Lots == nil {
				p.Lots = map[string]int{}
			}
			p.Lots[t.Lot]++
		}
	}
	if len(p.Pallets) == 1 {
		p.Parent = p.Pallets[0]
	}
	p.Direction = DirectionUnknown
	switch {
	case votes[DirectionIn] > votes[DirectionOut]:
		p.Direction = DirectionIn
	case votes[DirectionOut] > votes[DirectionIn]:
		p.Direction = DirectionOut
	}
	// The alerts go first: see Config.Sink.
	for _, t := range p.Tags {
		if !t.Held {
			continue
		}
		dir := t.Direction
		if dir == DirectionUnknown {
			dir = p.Direction
		}
		var reason string
		switch {
		case dir == DirectionOut:
			reason = "a carton of a held lot is going out"
		case p.Role == RoleShipping && dir != DirectionIn:
			reason = "a carton of a held lot passed a shipping door"
		default:
			continue
		}
		e.st.Alerts++
		e.cfg.Sink(&AlertEvent{Door: p.Door, Direction: dir, EPC: t.EPC, URI: t.URI, Lot: t.Lot, Reason: reason, Time: t.Last, PassStart: p.Start})
	}
	e.cfg.Sink(p)
}

// Run ticks the engine every interval (default 100ms) on the configured
// clock until ctx ends, then flushes it. The ticks fall on the multiples of
// the interval of the clock, with the reads of the LLRP sessions, so that
// both wake the process once.
func (e *Engine) Run(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	t := beat.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			e.Flush(e.cfg.Now())
			return nil
		case <-t.C:
			e.Tick(e.cfg.Now())
			t.Next()
		}
	}
}

// dueHeap is a binary min-heap of tag indexes ordered by deadline.
type dueHeap struct {
	e     *Engine
	items []int32
}

func (h *dueHeap) Len() int { return len(h.items) }

func (h *dueHeap) less(i, j int) bool {
	return h.e.tags[h.items[i]].deadline < h.e.tags[h.items[j]].deadline
}

func (h *dueHeap) swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.e.tags[h.items[i]].heapIdx = int32(i)
	h.e.tags[h.items[j]].heapIdx = int32(j)
}

func (h *dueHeap) push(idx int32) {
	h.items = append(h.items, idx)
	i := len(h.items) - 1
	h.e.tags[idx].heapIdx = int32(i)
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h.swap(i, p)
		i = p
	}
}

func (h *dueHeap) pop() int32 {
	n := len(h.items) - 1
	h.swap(0, n)
	idx := h.items[n]
	h.items = h.items[:n]
	h.e.tags[idx].heapIdx = -1
	h.down(0)
	return idx
}

func (h *dueHeap) down(i int) {
	n := len(h.items)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h.swap(i, m)
		i = m
	}
}
